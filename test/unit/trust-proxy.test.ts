import type { IncomingMessage } from "node:http";
import { ConfigError, readSettings } from "../../lib/platform/settings";
import { clientAddressResolver } from "../../services/api/client-address";

// A given secret keeps readSettings from writing a development secret into ./data.
const base = { JWT_SECRET: "unit-test-secret-0123456789abcdefghijklmnop" };

const trustProxy = (value?: string) => readSettings({ ...base, TRUST_PROXY: value }).trustProxy;

/** A request as the gateway's HTTP server hands it over: the TCP peer and the headers. */
const request = (peer: string, forwardedFor?: string) => {
	const socket = { remoteAddress: peer };
	const headers = forwardedFor === undefined ? {} : { "x-forwarded-for": forwardedFor };
	return { headers, socket, connection: socket } as unknown as IncomingMessage;
};

describe("TRUST_PROXY", () => {
	it("trusts no proxy when unset, empty or 0", () => {
		expect(trustProxy()).toBe(0);
		expect(trustProxy("")).toBe(0);
		expect(trustProxy(" 0 ")).toBe(0);
	});

	it("reads a hop count or a list of addresses, CIDRs and proxy-addr's range names", () => {
		expect(trustProxy("2")).toBe(2);
		expect(trustProxy(" 10.0.0.0/8, 192.168.1.7 ,fc00::/7,loopback,")).toEqual(["10.0.0.0/8", "192.168.1.7", "fc00::/7", "loopback"]);
	});

	it.each([
		["11", 'TRUST_PROXY must be a whole number from 0 to 10, got "11"'],
		[
			"true",
			'TRUST_PROXY must be a hop count (0 to 10) or comma-separated proxy addresses / CIDRs (or loopback, linklocal, uniquelocal), got "true" (invalid IP address: true)',
		],
		[
			"10.0.0.0/33",
			'TRUST_PROXY must be a hop count (0 to 10) or comma-separated proxy addresses / CIDRs (or loopback, linklocal, uniquelocal), got "10.0.0.0/33" (invalid range on address: 10.0.0.0/33)',
		],
		[
			"10.0.0.1, ingress.local",
			'TRUST_PROXY must be a hop count (0 to 10) or comma-separated proxy addresses / CIDRs (or loopback, linklocal, uniquelocal), got "10.0.0.1, ingress.local" (invalid IP address: ingress.local)',
		],
		[
			"-1",
			'TRUST_PROXY must be a hop count (0 to 10) or comma-separated proxy addresses / CIDRs (or loopback, linklocal, uniquelocal), got "-1" (invalid IP address: -1)',
		],
	])("refuses %j with one clear line", (value, message) => {
		expect(() => trustProxy(value)).toThrow(new ConfigError(message));
	});
});

describe("the client address", () => {
	it("is the TCP peer when no proxy is trusted, whatever X-Forwarded-For says", () => {
		const resolve = clientAddressResolver(0);
		expect(resolve(request("203.0.113.7"))).toBe("203.0.113.7");
		expect(resolve(request("203.0.113.7", "198.51.100.1"))).toBe("203.0.113.7");
	});

	it("behind trusted proxies, is the first address written by one that is not trusted", () => {
		const resolve = clientAddressResolver(["10.0.0.0/8"]);
		// ingress-nginx (10.1.2.3) wrote the client's address; whatever the client sent before it is ignored.
		expect(resolve(request("10.1.2.3", "6.6.6.6, 203.0.113.7"))).toBe("203.0.113.7");
		// Through two trusted hops.
		expect(resolve(request("10.1.2.3", "203.0.113.7, 10.9.9.9"))).toBe("203.0.113.7");
		// Straight from outside: its own header is not believed.
		expect(resolve(request("203.0.113.7", "10.0.0.5"))).toBe("203.0.113.7");
	});

	it("with a hop count, believes that many hops and no more", () => {
		const resolve = clientAddressResolver(1);
		expect(resolve(request("10.1.2.3", "6.6.6.6, 203.0.113.7"))).toBe("203.0.113.7");
		expect(resolve(request("10.1.2.3"))).toBe("10.1.2.3");
		expect(clientAddressResolver(2)(request("10.1.2.3", "203.0.113.7, 10.9.9.9"))).toBe("203.0.113.7");
	});

	it("counts an IPv4 client on an IPv6 socket by its IPv4 address", () => {
		expect(clientAddressResolver(0)(request("::ffff:203.0.113.7"))).toBe("203.0.113.7");
		expect(clientAddressResolver(["::ffff:10.0.0.0/104"])(request("::ffff:10.1.2.3", "203.0.113.7"))).toBe("203.0.113.7");
	});
});
