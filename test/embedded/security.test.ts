import { type Agora, startAgora } from "../support/agora";
import { type Json, rawRequest } from "../support/http";

/**
 * Brute-force limits and an opened CORS, on an Agora configured with small limits
 * (AUTH_RATE_PER_IP=8, AUTH_RATE_PER_ACCOUNT=3) and one allowed origin. Each test speaks from
 * its own loopback address (127.0.0.x), so each is a different client IP to the gateway.
 */
let agora: Agora;

beforeAll(async () => {
	agora = await startAgora({ env: { AUTH_RATE_PER_IP: "8", AUTH_RATE_PER_ACCOUNT: "3", CORS_ORIGINS: "http://shop.example" } });
});

afterAll(async () => {
	await agora?.stop();
});

async function post(from: string, route: string, body: object) {
	const res = await rawRequest(agora.url, {
		method: "POST",
		path: `/api${route}`,
		localAddress: from,
		headers: { "content-type": "application/json" },
		body: JSON.stringify(body),
	});
	return { ...res, body: JSON.parse(res.text) as Json };
}

const login = (from: string, email: string, password: string) => post(from, "/auth/login", { email, password });

function expectTooMany(res: Awaited<ReturnType<typeof post>>): void {
	expect(res.status).toBe(429);
	expect(res.body).toMatchObject({ code: 429, type: "TOO_MANY_ATTEMPTS", message: "Too many attempts: try again later" });
	const retryAfter = Number(res.headers["retry-after"]);
	expect(retryAfter).toBeGreaterThan(0);
	expect(retryAfter).toBeLessThanOrEqual(900);
}

describe("brute force", () => {
	test("after 3 failed logins an account is locked from every IP, whether or not it exists; others are not", async () => {
		const victim = `victim-${Date.now()}@example.com`;
		expect((await post("127.0.0.2", "/auth/register", { email: victim, password: "correct-horse", name: "V" })).status).toBe(201);
		const unknown = `nobody-${Date.now()}@example.com`;
		for (let i = 0; i < 3; i++) {
			const wrong = await login("127.0.0.2", victim, "wrong-password");
			const missing = await login("127.0.0.3", unknown, "wrong-password");
			// The same answer for a wrong password and an unknown email: no way to list accounts.
			expect([wrong.status, wrong.body]).toEqual([401, missing.body]);
			expect(missing.status).toBe(401);
		}
		expectTooMany(await login("127.0.0.2", victim, "wrong-password"));
		expectTooMany(await login("127.0.0.2", victim, "correct-horse"));
		expectTooMany(await login("127.0.0.4", victim.toUpperCase(), "correct-horse"));
		expectTooMany(await login("127.0.0.3", unknown, "wrong-password"));

		const other = `other-${Date.now()}@example.com`;
		expect((await post("127.0.0.4", "/auth/register", { email: other, password: "correct-horse", name: "O" })).status).toBe(201);
		expect((await login("127.0.0.4", other, "correct-horse")).status).toBe(200);
	});

	test("a successful login clears an account's failed attempts", async () => {
		const email = `forgetful-${Date.now()}@example.com`;
		expect((await post("127.0.0.5", "/auth/register", { email, password: "correct-horse", name: "F" })).status).toBe(201);
		for (let round = 0; round < 2; round++) {
			for (let i = 0; i < 2; i++) expect((await login("127.0.0.5", email, "wrong-password")).status).toBe(401);
			expect((await login("127.0.0.5", email, "correct-horse")).status).toBe(200);
		}
	});

	test("one IP gets 8 attempts per window, login and register together; other IPs and other routes go on", async () => {
		for (let i = 0; i < 8; i++) expect((await login("127.0.0.6", `guess-${i}-${Date.now()}@example.com`, "guess")).status).toBe(401);
		expectTooMany(await login("127.0.0.6", `guess-last-${Date.now()}@example.com`, "guess"));
		const email = `late-${Date.now()}@example.com`;
		expectTooMany(await post("127.0.0.6", "/auth/register", { email, password: "correct-horse", name: "L" }));
		expect((await login("127.0.0.7", email, "correct-horse")).status).toBe(401);
		expect((await rawRequest(agora.url, { path: "/api/products", localAddress: "127.0.0.6" })).status).toBe(200);
		expect((await post("127.0.0.7", "/auth/register", { email, password: "correct-horse", name: "L" })).status).toBe(201);
	});
});

describe("CORS with CORS_ORIGINS set", () => {
	const preflight = (origin: string) =>
		rawRequest(agora.url, {
			method: "OPTIONS",
			path: "/api/orders",
			headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization,content-type" },
		});

	test("a listed origin may call the API from a browser", async () => {
		const res = await preflight("http://shop.example");
		expect(res.status).toBe(204);
		expect(res.headers["access-control-allow-origin"]).toBe("http://shop.example");
		expect(res.headers["access-control-allow-methods"]).toContain("POST");
		const get = await rawRequest(agora.url, { path: "/api/products", headers: { origin: "http://shop.example" } });
		expect(get.headers["access-control-allow-origin"]).toBe("http://shop.example");
	});

	test("any other origin is not allowed", async () => {
		const res = await preflight("http://evil.example");
		expect(res.headers["access-control-allow-origin"]).toBeUndefined();
		const get = await rawRequest(agora.url, { path: "/api/products", headers: { origin: "http://evil.example" } });
		expect(get.headers["access-control-allow-origin"]).toBeUndefined();
	});
});
