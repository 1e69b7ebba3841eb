/**
 * Where a webhook may send: not into the shop's own network (SSRF). A URL whose host is, or
 * resolves to, a private, loopback, link-local or otherwise non-public address is refused when the
 * webhook is made, and checked again on the address each delivery connects to, so a name that
 * resolves elsewhere later (DNS rebinding) reaches nothing inside. `WEBHOOK_ALLOW_PRIVATE=1` lifts
 * the rule for a shop whose receivers live on its own network.
 */
import { type LookupAddress, type LookupOptions, lookup } from "node:dns";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { BlockList, isIP } from "node:net";

const NOT_PUBLIC = new BlockList();
for (const [network, prefix] of [
	["0.0.0.0", 8], // "this network"
	["10.0.0.0", 8],
	["100.64.0.0", 10], // carrier-grade NAT
	["127.0.0.0", 8],
	["169.254.0.0", 16], // link-local, cloud metadata services among them
	["172.16.0.0", 12],
	["192.0.0.0", 24],
	["192.0.2.0", 24], // documentation
	["192.168.0.0", 16],
	["198.18.0.0", 15], // benchmarking
	["198.51.100.0", 24],
	["203.0.113.0", 24],
	["224.0.0.0", 4], // multicast
	["240.0.0.0", 4], // reserved, broadcast
] as const)
	NOT_PUBLIC.addSubnet(network, prefix, "ipv4");
for (const [network, prefix] of [
	["::", 128],
	["::1", 128],
	["64:ff9b:1::", 48], // local-use NAT64
	["100::", 64], // discard
	["2001:db8::", 32], // documentation
	["fc00::", 7], // unique local
	["fe80::", 10], // link-local
	["ff00::", 8], // multicast
] as const)
	NOT_PUBLIC.addSubnet(network, prefix, "ipv6");

/** The IPv4 address inside an IPv4-mapped or -compatible IPv6 one (`::ffff:127.0.0.1`, `::ffff:7f00:1`), if it is one. */
function embeddedIpv4(address: string): string | null {
	const match = /^(?:0*:)*:(?:ffff:)?(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/i.exec(address);
	if (!match) return null;
	if (match[1]) return match[1];
	const high = Number.parseInt(match[2] as string, 16);
	const low = Number.parseInt(match[3] as string, 16);
	return [high >> 8, high & 255, low >> 8, low & 255].join(".");
}

/** Whether an IP address is one no webhook may reach: anything but a public unicast address. */
export function isPrivateAddress(address: string): boolean {
	const family = isIP(address);
	if (family === 4) return NOT_PUBLIC.check(address, "ipv4");
	if (family !== 6) return true;
	const inner = embeddedIpv4(address);
	if (inner && inner !== "0.0.0.0") return NOT_PUBLIC.check(inner, "ipv4");
	return NOT_PUBLIC.check(address, "ipv6");
}

/** A URL's host as an address or name (`[::1]` is `::1`). */
export const hostOf = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, "$1");

export class TargetRefused extends Error {}

/** How long a name may take to resolve when a webhook is made. */
const RESOLVE_MS = 5_000;

/** Every address the host stands for; a name that does not resolve is refused. */
export async function addressesOf(host: string): Promise<string[]> {
	if (isIP(host)) return [host];
	return new Promise((resolve, reject) => {
		const timer = setTimeout(() => reject(new TargetRefused(`${host} did not resolve within ${RESOLVE_MS / 1000} s`)), RESOLVE_MS);
		lookup(host, { all: true }, (err, addresses) => {
			clearTimeout(timer);
			if (err) reject(new TargetRefused(`No server named ${host} could be found (${err.code ?? err.message})`));
			else resolve(addresses.map((entry) => entry.address));
		});
	});
}

/** Refuses a URL whose host is or resolves to a private address, unless those are allowed. */
export async function checkTarget(url: URL, allowPrivate: boolean): Promise<void> {
	const host = hostOf(url);
	const addresses = await addressesOf(host);
	const inside = addresses.find(isPrivateAddress);
	if (inside && !allowPrivate)
		throw new TargetRefused(
			`${host === inside ? inside : `${host} resolves to ${inside}, which`} is a private, loopback or link-local address; webhooks go to public addresses only`,
		);
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** The DNS lookup of a delivery's connection: the address connected to is the address checked. */
function guardedLookup(allowPrivate: boolean) {
	return (hostname: string, options: LookupOptions, callback: LookupCallback) => {
		lookup(hostname, { ...options, all: true }, (err, addresses) => {
			if (err) return callback(err, []);
			const inside = addresses.find((entry) => isPrivateAddress(entry.address));
			if (inside && !allowPrivate)
				return callback(new TargetRefused(`${hostname} now resolves to ${inside.address}, a private address: not sent`), []);
			if (options.all) return callback(null, addresses);
			const [first] = addresses;
			if (!first) return callback(new TargetRefused(`${hostname} resolves to no address`), []);
			callback(null, first.address, first.family);
		});
	};
}

/** A receiver's answer: its HTTP status. */
export interface Answer {
	status: number;
}

/** The longest a receiver may take to answer, headers and body. */
export const DELIVERY_TIMEOUT_MS = 10_000;

/**
 * POSTs `body` to `url` and answers the status, never following a redirect. Rejects when it is
 * refused (a private address), cannot connect, or takes longer than DELIVERY_TIMEOUT_MS.
 */
export async function post(url: URL, body: string, headers: Record<string, string>, allowPrivate: boolean): Promise<Answer> {
	const host = hostOf(url);
	if (isIP(host) && isPrivateAddress(host) && !allowPrivate) throw new TargetRefused(`${host} is a private address: not sent`);
	const send = url.protocol === "https:" ? httpsRequest : httpRequest;
	return new Promise((resolve, reject) => {
		const req = send(
			url,
			{
				method: "POST",
				headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), ...headers },
				lookup: guardedLookup(allowPrivate),
				signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
			},
			(res: IncomingMessage) => {
				// The answer's body means nothing here; it is read to its end (or the timeout) so the socket is released.
				res.resume();
				res.on("end", () => resolve({ status: res.statusCode ?? 0 }));
				res.on("error", reject);
			},
		);
		req.on("error", (err: Error) =>
			reject(err.name === "AbortError" ? new Error(`No answer within ${DELIVERY_TIMEOUT_MS / 1000} s`) : err),
		);
		req.end(body);
	});
}
