/**
 * Where webhooks may go and how their calls are signed (services/webhooks/), and the settings of
 * the notifications: each bad value stops start-up with one line naming it.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { readSettings } from "../../lib/platform/settings";
import { signature, verifySignature } from "../../services/webhooks/signature";
import { checkTarget, isPrivateAddress, post, TargetRefused } from "../../services/webhooks/targets";

const JWT = { JWT_SECRET: "unit-tests-only-secret-of-forty-characters" };

describe("addresses a webhook may not reach", () => {
	test.each([
		"127.0.0.1",
		"127.8.9.10",
		"10.0.0.1",
		"172.16.5.4",
		"172.31.255.255",
		"192.168.1.1",
		"169.254.169.254",
		"100.64.0.1",
		"0.0.0.0",
		"224.0.0.1",
		"255.255.255.255",
		"::1",
		"::",
		"fe80::1",
		"fd12:3456::1",
		"ff02::1",
		"::ffff:127.0.0.1",
		"::ffff:7f00:1",
		"::ffff:10.1.2.3",
		"not an address",
	])("%s is refused", (address) => {
		expect(isPrivateAddress(address)).toBe(true);
	});

	test.each(["93.184.215.14", "8.8.8.8", "172.32.0.1", "192.169.0.1", "2606:4700::1111", "::ffff:8.8.8.8"])("%s is public", (address) => {
		expect(isPrivateAddress(address)).toBe(false);
	});

	test("a name that resolves inside is refused when the webhook is made, and a name that resolves nowhere too", async () => {
		await expect(checkTarget(new URL("http://localhost:8080/hook"), false)).rejects.toThrow(
			/localhost resolves to 127\.0\.0\.1, which is a private, loopback or link-local address/,
		);
		await expect(checkTarget(new URL("http://localhost:8080/hook"), true)).resolves.toBeUndefined();
		await expect(checkTarget(new URL("https://no-such-host.invalid/"), true)).rejects.toBeInstanceOf(TargetRefused);
	});

	test("a delivery checks the address it connects to: a name resolving inside (DNS rebinding) reaches nothing", async () => {
		let requests = 0;
		const server = createServer((_req, res) => {
			requests++;
			res.writeHead(204).end();
		});
		await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
		const { port } = server.address() as AddressInfo;
		try {
			await expect(post(new URL(`http://localhost:${port}/hook`), "{}", {}, false)).rejects.toThrow(/now resolves to 127\.0\.0\.1/);
			await expect(post(new URL(`http://127.0.0.1:${port}/hook`), "{}", {}, false)).rejects.toThrow(/private address/);
			expect(requests).toBe(0);
			await expect(post(new URL(`http://localhost:${port}/hook`), "{}", {}, true)).resolves.toEqual({ status: 204 });
			expect(requests).toBe(1);
		} finally {
			server.close();
		}
	});
});

describe("the signature", () => {
	const body = JSON.stringify({ id: "e1", type: "order.created", at: "2026-12-01T10:00:00.000Z", data: { id: "o1" } });
	const at = Date.UTC(2026, 11, 1, 10, 0, 0);

	test("is t=<unix seconds>,v1=<hex HMAC-SHA256 of '<t>.<body>'>, and verifies with the same secret only", () => {
		const header = signature("whsec_test", body, at);
		expect(header).toMatch(/^t=1796119200,v1=[0-9a-f]{64}$/);
		expect(verifySignature("whsec_test", body, header, 300, at)).toBe(true);
		expect(verifySignature("whsec_other", body, header, 300, at)).toBe(false);
		expect(verifySignature("whsec_test", body.replace("o1", "o2"), header, 300, at)).toBe(false);
		expect(verifySignature("whsec_test", body, header.replace(/v1=./, "v1=0"), 300, at)).toBe(false);
		expect(verifySignature("whsec_test", body, "v1=abc", 300, at)).toBe(false);
	});

	test("an old signature is refused, so a recorded call cannot be played again later", () => {
		const header = signature("whsec_test", body, at);
		expect(verifySignature("whsec_test", body, header, 300, at + 301_000)).toBe(false);
	});
});

describe("notification settings", () => {
	test("SMTP_URL: host, port (587 / 465 by default), TLS and credentials", () => {
		expect(readSettings({ ...JWT, SMTP_URL: "smtp://mail.example.com:2525" }).smtp).toEqual({
			host: "mail.example.com",
			port: 2525,
			secure: false,
			auth: null,
		});
		expect(readSettings({ ...JWT, SMTP_URL: "smtps://shop%40x.com:p%3Ass@mail.example.com" }).smtp).toEqual({
			host: "mail.example.com",
			port: 465,
			secure: true,
			auth: { user: "shop@x.com", pass: "p:ss" },
		});
		expect(readSettings({ ...JWT, SMTP_URL: "smtp://mail.example.com" }).smtp?.port).toBe(587);
		expect(readSettings(JWT).smtp).toBeNull();
	});

	test.each([
		[{ SMTP_URL: "http://mail.example.com" }, 'SMTP_URL must start with smtp:// or smtps://, got "http://mail.example.com"'],
		[{ SMTP_URL: "smtp://mail.example.com:25/inbox" }, "nothing may follow host:port"],
		[{ MAIL_FROM: "Agora shop" }, 'MAIL_FROM must be an address or "Name <address>", got "Agora shop"'],
		[{ PUBLIC_URL: "shop.example.com" }, 'PUBLIC_URL must be the shop\'s http:// or https:// address, got "shop.example.com"'],
		[{ WEBHOOK_ALLOW_PRIVATE: "yes" }, 'WEBHOOK_ALLOW_PRIVATE must be 1 or 0, got "yes"'],
		[{ WEBHOOK_MAX_ATTEMPTS: "0" }, 'WEBHOOK_MAX_ATTEMPTS must be a whole number from 1 to 100, got "0"'],
	])("%j stops start-up: %s", (env, line) => {
		expect(() => readSettings({ ...JWT, ...env })).toThrow(line);
	});

	test("defaults: the sender, a public URL from the port, public webhook addresses only, 8 attempts from 30 s", () => {
		const config = readSettings({ ...JWT, PORT: "4100" });
		expect(config).toMatchObject({
			mailFrom: "Agora <shop@agora.local>",
			publicUrl: "http://localhost:4100",
			webhookAllowPrivate: false,
			webhookMaxAttempts: 8,
			webhookRetrySeconds: 30,
		});
		expect(readSettings({ ...JWT, PUBLIC_URL: "https://shop.example.com/" }).publicUrl).toBe("https://shop.example.com");
	});
});
