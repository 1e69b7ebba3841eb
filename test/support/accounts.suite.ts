import jwt from "jsonwebtoken";
import type { Agora } from "./agora";
import { type Client, client } from "./http";

/** The accounts slice of the REST contract; run against the embedded and the distributed system. */
export function accountsSuite(agora: () => Agora): void {
	let api: Client;
	const email = `ann-${Date.now()}@example.com`;
	let token = "";

	beforeAll(() => {
		api = client(agora().url);
	});

	test("health and readiness answer", async () => {
		expect((await api.get("/health")).status).toBe(200);
		const ready = await api.get("/ready");
		expect(ready.status).toBe(200);
		expect(ready.body.status).toBe("ready");
		expect(ready.body.services.users).toHaveLength(1);
	});

	test("register makes a customer, normalises the email and never returns the hash", async () => {
		const res = await api.post("/auth/register", { email: `  ${email.toUpperCase()} `, password: "correct-horse", name: "Ann" });
		expect(res.status).toBe(201);
		expect(res.body.user).toMatchObject({ email, name: "Ann", role: "customer" });
		expect(JSON.stringify(res.body)).not.toMatch(/passwordHash|argon2/);
		expect(typeof res.body.token).toBe("string");
		token = res.body.token;
	});

	test("registering the same email again is 409", async () => {
		const res = await api.post("/auth/register", { email, password: "another-pass", name: "Ann Again" });
		expect(res.status).toBe(409);
		expect(res.body).toMatchObject({ name: "MoleculerClientError", code: 409, type: "EMAIL_TAKEN" });
	});

	test("a short password is 422 naming the field, and makes no account", async () => {
		const res = await api.post("/auth/register", { email: "short@example.com", password: "short", name: "Shorty" });
		expect(res.status).toBe(422);
		expect(res.body.data.map((e: { field: string }) => e.field)).toEqual(["password"]);
		expect(JSON.stringify(res.body)).not.toContain('"short"');
		expect((await api.post("/auth/login", { email: "short@example.com", password: "short" })).status).toBe(401);
	});

	test("a role sent at registration is ignored", async () => {
		const res = await api.post("/auth/register", {
			email: `mallory-${Date.now()}@example.com`,
			password: "correct-horse",
			name: "M",
			role: "admin",
		});
		expect(res.status).toBe(201);
		expect(res.body.user.role).toBe("customer");
	});

	test("login with the right password returns a working token", async () => {
		const res = await api.post("/auth/login", { email, password: "correct-horse" });
		expect(res.status).toBe(200);
		expect(res.body.user.email).toBe(email);
		const me = await api.get("/auth/me", { token: res.body.token });
		expect(me.status).toBe(200);
		expect(me.body).toMatchObject({ email, role: "customer" });
		expect(me.body.passwordHash).toBeUndefined();
	});

	test("a wrong password and an unknown email get the same 401", async () => {
		const wrong = await api.post("/auth/login", { email, password: "wrong-password" });
		const unknown = await api.post("/auth/login", { email: "nobody@example.com", password: "wrong-password" });
		expect(wrong.status).toBe(401);
		expect(unknown.status).toBe(401);
		expect(unknown.body.message).toBe(wrong.body.message);
	});

	test("me without a token is 401", async () => {
		const res = await api.get("/auth/me");
		expect(res.status).toBe(401);
		expect(res.body.name).toBe("UnAuthorizedError");
	});

	test("a tampered or foreign-signed token is 401", async () => {
		const [header, payload, signature] = token.split(".");
		const claims = JSON.parse(Buffer.from(payload ?? "", "base64url").toString());
		const promoted = Buffer.from(JSON.stringify({ ...claims, role: "admin" })).toString("base64url");
		expect((await api.get("/auth/me", { token: `${header}.${promoted}.${signature}` })).status).toBe(401);
		const forged = jwt.sign({ role: "admin", email }, "not-the-secret", { subject: claims.sub });
		expect((await api.get("/auth/me", { token: forged })).status).toBe(401);
		const unsigned = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString("base64url")}.${payload}.`;
		expect((await api.get("/auth/me", { token: unsigned })).status).toBe(401);
	});

	test("malformed JSON is 400", async () => {
		const res = await api.request("POST", "/auth/login", { raw: '{"email": "a@b.c", ' });
		expect(res.status).toBe(400);
		expect(res.body).toMatchObject({ name: "BadRequestError", code: 400 });
	});

	test("a NoSQL operator instead of an email is 422, not a login", async () => {
		const res = await api.post("/auth/login", { email: { $gt: "" }, password: "correct-horse" });
		expect(res.status).toBe(422);
		expect(res.body.data[0].field).toBe("email");
	});

	test("an unknown API path is a JSON 404", async () => {
		const res = await api.get("/no-such-thing");
		expect(res.status).toBe(404);
		expect(res.body.name).toBe("NotFoundError");
	});
}
