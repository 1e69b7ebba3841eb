import { readFileSync } from "node:fs";
import path from "node:path";
import jwt from "jsonwebtoken";
import { type Agora, startAgora } from "../support/agora";
import { ADDRESS, createProduct, GOOD_CARD, orderBody, stockOf } from "../support/commerce.suite";
import { adminToken, type Client, client, type Json, newCustomer, rawRequest } from "../support/http";

/**
 * A catalogue of named attacks against the real gateway of an embedded Agora. Each one checks
 * the answer (status, message or failing field) and that nothing changed behind it.
 */
let agora: Agora;
let api: Client;
let admin: string;
let ann: { token: string; id: string; email: string };
let teapot: Json;

beforeAll(async () => {
	agora = await startAgora();
	api = client(agora.url);
	admin = await adminToken(api);
	ann = await newCustomer(api, "Ann");
	teapot = await createProduct(api, admin, { name: "Attack Teapot", price: 1000, stock: 10 });
});

afterAll(async () => {
	await agora?.stop();
});

const fields = (res: { body: Json }) => (res.body.data as { field: string }[]).map((error) => error.field).sort();

/** The state an attack must leave as it was: the teapot's stock and Ann's orders. */
async function snapshot() {
	const stock = await stockOf(api, teapot.id);
	const orders = await api.get("/orders", { token: ann.token });
	return { available: stock.available, reserved: stock.reserved, orders: orders.body.total };
}

/** The development signing secret the embedded mode keeps in its data folder. */
const secret = () => readFileSync(path.join(agora.env.DATA_DIR as string, "jwt-secret"), "utf8").trim();

describe("oversized and deeply nested bodies", () => {
	test("a body over BODY_LIMIT is 413 and makes nothing", async () => {
		const email = `big-${Date.now()}@example.com`;
		const raw = JSON.stringify({ email, password: "correct-horse", name: "x".repeat(200 * 1024) });
		const res = await api.request("POST", "/auth/register", { raw });
		expect(res.status).toBe(413);
		expect(res.body).toMatchObject({ name: "PayloadTooLargeError", code: 413, message: "The request body is too large" });
		expect((await api.post("/auth/login", { email, password: "correct-horse" })).status).toBe(401);
	});

	test("JSON nested 40,000 levels deep is refused by field, and the process lives on", async () => {
		const nested = `${"[".repeat(40_000)}${"]".repeat(40_000)}`;
		const raw = `{"name": ${nested}, "sku": "DEEP-1", "price": 100, "category": "deep"}`;
		const res = await api.request("POST", "/products", { raw, token: admin });
		expect(res.status).toBe(422);
		expect(fields(res)).toEqual(["name"]);
		expect((await api.get("/products?q=DEEP")).body.total).toBe(0);
		expect((await api.get("/health")).status).toBe(200);
	});

	test("nested objects where an order expects lines are 422, nothing reserved", async () => {
		const before = await snapshot();
		const res = await api.post(
			"/orders",
			{ ...orderBody([]), items: [{ productId: { a: { b: { c: {} } } }, quantity: [[1]] }] },
			{ token: ann.token },
		);
		expect(res.status).toBe(422);
		expect(fields(res)).toEqual(["items[0].productId", "items[0].quantity"]);
		expect(await snapshot()).toEqual(before);
	});
});

describe("wrong types and bad quantities", () => {
	test("a product with every field of the wrong type is 422 naming each, and nothing is made", async () => {
		const res = await api.post(
			"/products",
			{ name: 42, sku: ["A"], price: "1000", category: {}, stock: true, lowStockThreshold: "5" },
			{ token: admin },
		);
		expect(res.status).toBe(422);
		expect(fields(res)).toEqual(["category", "lowStockThreshold", "name", "price", "sku", "stock"]);
		expect((await api.get("/products?pageSize=100")).body.rows.map((row: Json) => row.id)).toEqual([teapot.id]);
	});

	test.each([
		["negative", -1],
		["zero", 0],
		["huge", 1e12],
		["fractional", 1.5],
		["a numeric string", "1"],
		["null", null],
	])("a %s quantity is 422 on items[0].quantity and reserves nothing", async (_kind, quantity) => {
		const before = await snapshot();
		const res = await api.post("/orders", { ...orderBody([]), items: [{ productId: teapot.id, quantity }] }, { token: ann.token });
		expect(res.status).toBe(422);
		expect(fields(res)).toEqual(["items[0].quantity"]);
		expect(await snapshot()).toEqual(before);
	});

	test("a stock adjustment by a fractional or absurd delta is 422 and leaves the stock", async () => {
		for (const delta of [0.5, 1e15, "5"]) {
			const res = await api.post(`/inventory/${teapot.id}/adjust`, { delta, reason: "attack" }, { token: admin });
			expect(res.status).toBe(422);
			expect(fields(res)).toEqual(["delta"]);
		}
		expect((await stockOf(api, teapot.id)).available).toBe(10);
	});
});

describe("methods and bodies a route does not take", () => {
	/** Each path of the OpenAPI document with its methods, and a real id where it has one. */
	async function documentedPaths(): Promise<{ path: string; methods: string[] }[]> {
		const document = (await api.get("/openapi.json")).body;
		return Object.entries(document.paths as Record<string, object>).map(([template, operations]) => {
			const methods = Object.keys(operations).map((method) => method.toUpperCase());
			// HEAD is answered wherever GET is, without being an operation of its own.
			return { path: template.replace(/\{\w+\}/g, teapot.id), methods: methods.includes("GET") ? [...methods, "HEAD"] : methods };
		});
	}

	test("every path answers a method it lacks with 405, the error shape and Allow naming exactly the documented methods (and HEAD with GET)", async () => {
		const paths = await documentedPaths();
		expect(paths.length).toBeGreaterThan(15);
		const before = await snapshot();
		for (const { path: route, methods } of paths)
			for (const method of ["TRACE", "PUT", "DELETE", "PATCH", "POST", "GET"].filter((method) => !methods.includes(method))) {
				const res = await rawRequest(agora.url, { method, path: `/api${route}`, headers: { authorization: `Bearer ${admin}` } });
				expect({ method, route, status: res.status, allow: res.headers.allow }).toEqual({
					method,
					route,
					status: 405,
					allow: methods.join(", "),
				});
				expect(JSON.parse(res.text)).toEqual({
					name: "MethodNotAllowedError",
					message: `${method} is not allowed here; use ${methods.join(" or ")}`,
					code: 405,
					type: "METHOD_NOT_ALLOWED",
					data: { method, allowed: methods },
				});
			}
		expect(await snapshot()).toEqual(before);
		expect((await stockOf(api, teapot.id)).available).toBe(10);
	});

	test("HEAD is GET without a body; OPTIONS on a path without GET lists its methods; an unknown path stays 404 for every method", async () => {
		const head = await rawRequest(agora.url, { method: "HEAD", path: `/api/products/${teapot.id}` });
		expect({ status: head.status, type: head.headers["content-type"], text: head.text }).toEqual({
			status: 200,
			type: "application/json; charset=utf-8",
			text: "",
		});
		const headNoGet = await rawRequest(agora.url, { method: "HEAD", path: "/api/auth/login" });
		expect({ status: headNoGet.status, allow: headNoGet.headers.allow }).toEqual({ status: 405, allow: "POST" });
		const options = await rawRequest(agora.url, { method: "OPTIONS", path: "/api/auth/login" });
		expect({ status: options.status, allow: options.headers.allow }).toEqual({ status: 204, allow: "POST" });
		for (const method of ["GET", "PUT", "TRACE"]) {
			const res = await rawRequest(agora.url, { method, path: "/api/products/x/nowhere" });
			expect({ status: res.status, allow: res.headers.allow }).toEqual({ status: 404, allow: undefined });
		}
	});

	test.each([
		["an array", [null, null]],
		["a string", "teapot"],
		["a number", 42],
		["null", null],
		["a boolean", true],
	])("%s where a JSON object belongs is 422 on the field body, on every route with a body, and changes nothing", async (kind, body) => {
		const document = (await api.get("/openapi.json")).body;
		const withBody = Object.entries(document.paths as Record<string, Record<string, { requestBody?: object }>>).flatMap(
			([template, operations]) =>
				Object.entries(operations)
					.filter(([, operation]) => operation.requestBody)
					.map(([method]) => ({ method: method.toUpperCase(), path: template.replace(/\{\w+\}/g, teapot.id) })),
		);
		expect(withBody.map(({ method, path: route }) => `${method} ${route}`)).toEqual(
			expect.arrayContaining([
				`PATCH /products/${teapot.id}`,
				"POST /orders",
				"POST /auth/register",
				`POST /inventory/${teapot.id}/adjust`,
			]),
		);
		const before = await snapshot();
		for (const { method, path: route } of withBody) {
			const token = method === "POST" && route === "/orders" ? ann.token : admin;
			const res = await api.request(method, route, { body, token });
			expect({ route, status: res.status, fields: fields(res) }).toEqual({ route, status: 422, fields: ["body"] });
			expect(res.body.data[0].message).toBe(`Send a JSON object, not ${kind}`);
		}
		expect(await snapshot()).toEqual(before);
		expect((await api.get(`/products/${teapot.id}`)).body).toMatchObject({ name: "Attack Teapot", price: 1000 });
	});

	test("malformed JSON stays a 400", async () => {
		const res = await api.request("PATCH", `/products/${teapot.id}`, { raw: "[null, null", token: admin });
		expect(res.status).toBe(400);
		expect(res.body).toMatchObject({ name: "BadRequestError", code: 400, type: "INVALID_JSON" });
	});

	test("a stock adjustment takes exactly one of delta and set, as the document's oneOf says", async () => {
		const document = (await api.get("/openapi.json")).body;
		const schema = document.paths["/inventory/{productId}/adjust"].post.requestBody.content["application/json"].schema;
		expect(schema.oneOf).toEqual([{ required: ["delta"] }, { required: ["set"] }]);
		for (const [body, failing] of [
			[{ reason: "neither" }, ["delta"]],
			[{ delta: 1, set: 4, reason: "both" }, ["delta"]],
			[{ delta: null, set: 4, reason: "a null delta is still a delta" }, ["delta"]],
			[{ delta: null, set: null, reason: "nulls" }, ["delta", "set"]],
		] as const) {
			const res = await api.post(`/inventory/${teapot.id}/adjust`, body, { token: admin });
			expect({ body, status: res.status, fields: fields(res) }).toEqual({ body, status: 422, fields: failing });
		}
		expect((await stockOf(api, teapot.id)).available).toBe(10);
		const set = await api.post(`/inventory/${teapot.id}/adjust`, { set: 12, reason: "count" }, { token: admin });
		expect(set.body.available).toBe(12);
		const delta = await api.post(`/inventory/${teapot.id}/adjust`, { delta: -2, reason: "breakage" }, { token: admin });
		expect(delta.body.available).toBe(10);
	});
});

describe("orders that try to cheat", () => {
	test("one product split over duplicate lines cannot buy more than is in stock", async () => {
		const before = await snapshot();
		const lines = Array.from({ length: 4 }, () => ({ productId: teapot.id, quantity: 3 }));
		const res = await api.post("/orders", orderBody(lines), { token: ann.token });
		expect(res.status).toBe(409);
		expect(res.body).toMatchObject({ type: "OUT_OF_STOCK", data: { productId: teapot.id, requested: 12, available: 10 } });
		expect(await snapshot()).toEqual(before);
	});

	test("prices, totals, currency, status and owner sent by the client are ignored", async () => {
		const bob = await newCustomer(api, "Bob");
		const res = await api.post(
			"/orders",
			{
				items: [{ productId: teapot.id, quantity: 2, price: 1, name: "Free" }],
				shippingAddress: ADDRESS,
				payment: { cardNumber: GOOD_CARD, amount: 1 },
				total: 2,
				currency: "XXX",
				status: "delivered",
				userId: bob.id,
				history: [],
			},
			{ token: ann.token },
		);
		expect(res.status).toBe(201);
		expect(res.body).toMatchObject({ userId: ann.id, total: 2000, currency: "USD", status: "pending" });
		expect(res.body.items).toEqual([{ productId: teapot.id, name: "Attack Teapot", price: 1000, quantity: 2 }]);
		expect((await api.get("/orders", { token: bob.token })).body.total).toBe(0);
		const cancelled = await api.post(`/orders/${res.body.id}/cancel`, undefined, { token: ann.token });
		expect(cancelled.status).toBe(200);
	});
});

describe("mass assignment", () => {
	test("role, id and hash sent at registration are ignored", async () => {
		const email = `mallory-${Date.now()}@example.com`;
		const res = await api.post("/auth/register", {
			email,
			password: "correct-horse",
			name: "Mallory",
			role: "admin",
			id: "00000000-0000-0000-0000-000000000000",
			passwordHash: "$argon2id$v=19$m=19456,t=2,p=1$forged",
		});
		expect(res.status).toBe(201);
		expect(res.body.user).toMatchObject({ email, role: "customer" });
		expect(res.body.user.id).not.toBe("00000000-0000-0000-0000-000000000000");
		expect((await api.post("/products", { name: "x" }, { token: res.body.token })).status).toBe(403);
		expect((await api.post("/auth/login", { email, password: "correct-horse" })).status).toBe(200);
	});

	test("a product's id, timestamps and unknown fields sent at creation are not stored", async () => {
		const product = await createProduct(api, admin, { id: "mine", _id: "mine", createdAt: "1999-01-01T00:00:00.000Z", owner: "x" });
		expect(product.id).not.toBe("mine");
		expect(product.createdAt).not.toBe("1999-01-01T00:00:00.000Z");
		expect(product.owner).toBeUndefined();
		expect((await api.get(`/products/${product.id}`)).body.owner).toBeUndefined();
		expect((await api.delete(`/products/${product.id}`, { token: admin })).status).toBe(204);
	});
});

describe("NoSQL operators", () => {
	test.each([
		["login email", "/auth/login", { email: { $gt: "" }, password: "x" }, ["email"]],
		["login password", "/auth/login", { email: "admin@agora.local", password: { $ne: "" } }, ["password"]],
		["register name", "/auth/register", { email: "op@example.com", password: "correct-horse", name: { $where: "1" } }, ["name"]],
	])("an operator as the %s is 422, not a match", async (_where, route, body, failing) => {
		const res = await api.post(route, body);
		expect(res.status).toBe(422);
		expect(fields(res)).toEqual(failing);
		expect(JSON.stringify(res.body)).not.toContain("token");
	});

	test("operators in an order's product id are 422 and reserve nothing", async () => {
		const before = await snapshot();
		const res = await api.post("/orders", orderBody([{ productId: { $ne: "" } as unknown as string, quantity: 1 }]), { token: ann.token });
		expect(res.status).toBe(422);
		expect(fields(res)).toEqual(["items[0].productId"]);
		expect(await snapshot()).toEqual(before);
	});

	test("operators in query strings are 422", async () => {
		for (const query of ["/products?category[$ne]=x", "/products?q[$regex]=.*", "/orders?status[$ne]=pending"]) {
			const res = await api.get(query, { token: ann.token });
			expect(res.status).toBe(422);
		}
	});

	test("regular-expression characters in a search are taken literally", async () => {
		expect((await api.get(`/products?q=${encodeURIComponent(".*")}`)).body.total).toBe(0);
		expect((await api.get(`/products?q=${encodeURIComponent("Attack")}`)).body.total).toBe(1);
	});

	test("an operator-looking id in a path is just an unknown id", async () => {
		const res = await api.get(`/products/${encodeURIComponent('{"$gt":""}')}`);
		expect(res.status).toBe(404);
		expect(res.body.type).toBe("PRODUCT_NOT_FOUND");
	});
});

describe("forged and stale tokens", () => {
	const claims = () => ({ email: ann.email, role: "admin" });

	test("alg none is refused", async () => {
		const header = Buffer.from('{"alg":"none","typ":"JWT"}').toString("base64url");
		const payload = Buffer.from(JSON.stringify({ ...claims(), sub: ann.id })).toString("base64url");
		const res = await api.get("/orders", { token: `${header}.${payload}.` });
		expect(res.status).toBe(401);
		expect(res.body.type).toBe("INVALID_TOKEN");
	});

	test("a token signed with another secret is refused", async () => {
		const token = jwt.sign(claims(), "a-secret-that-is-not-the-servers-0123456789", { subject: ann.id });
		expect((await api.get("/inventory/low-stock", { token })).status).toBe(401);
	});

	test("an expired token is refused", async () => {
		const token = jwt.sign({ email: ann.email, role: "customer" }, secret(), { subject: ann.id, expiresIn: -60 });
		const res = await api.get("/orders", { token });
		expect(res.status).toBe(401);
		expect(res.body.type).toBe("INVALID_TOKEN");
	});

	test("a correctly signed token of an account that does not exist is refused everywhere", async () => {
		const token = jwt.sign({ email: "gone@example.com", role: "customer" }, secret(), { subject: "9d5ef8a5-gone-account" });
		const before = await snapshot();
		expect((await api.get("/auth/me", { token })).status).toBe(401);
		expect((await api.get("/orders", { token })).status).toBe(401);
		expect((await api.post("/orders", orderBody([{ productId: teapot.id, quantity: 1 }]), { token })).status).toBe(401);
		expect(await snapshot()).toEqual(before);
	});
});

describe("static files", () => {
	test.each([
		"/../package.json",
		"/%2e%2e/package.json",
		"/%2E%2E%2Fpackage.json",
		"/assets/..%2f..%2fpackage.json",
		"/..%5c..%5cpackage.json",
		"/%252e%252e/package.json",
		"/.%2e/.%2e/package.json",
		"/api/../../package.json",
	])("path traversal %s is a 404, never a file outside public/", async (attack) => {
		const res = await rawRequest(agora.url, { path: attack, headers: { accept: "application/json" } });
		expect(res.status).toBe(404);
		expect(res.text).not.toContain('"name": "agora"');
	});
});

describe("long strings and unusual Unicode", () => {
	test("names over their limit are 422 and make nothing", async () => {
		const email = `long-${Date.now()}@example.com`;
		const res = await api.post("/auth/register", { email, password: "correct-horse", name: "n".repeat(101) });
		expect(res.status).toBe(422);
		expect(fields(res)).toEqual(["name"]);
		const product = await api.post("/products", { name: "p".repeat(201), sku: "LONG-1", price: 1, category: "x" }, { token: admin });
		expect(fields(product)).toEqual(["name"]);
		const longEmail = await api.post("/auth/register", { email: `${"e".repeat(250)}@example.com`, password: "correct-horse", name: "E" });
		expect(fields(longEmail)).toEqual(["email"]);
		expect((await api.post("/auth/login", { email, password: "correct-horse" })).status).toBe(401);
	});

	test("emoji, right-to-left overrides, zero-width and combining characters come back exactly as sent", async () => {
		const name = "👩🏽‍💻 Zoë\u0301 \u202Egnp.exe\u202C \u200Bمرحبا 𝔘𝔫𝔦𝔠𝔬𝔡𝔢";
		const res = await api.post("/auth/register", { email: `uni-${Date.now()}@example.com`, password: "correct-horse", name });
		expect(res.status).toBe(201);
		expect((await api.get("/auth/me", { token: res.body.token })).body.name).toBe(name);
		const product = await createProduct(api, admin, { name, description: name });
		expect((await api.get(`/products/${product.id}`)).body).toMatchObject({ name, description: name });
		expect((await api.delete(`/products/${product.id}`, { token: admin })).status).toBe(204);
	});

	test("a lone surrogate or a NUL in a name does not break storage or the answer", async () => {
		const name = "bad\u0000name\uD800";
		const res = await api.post("/auth/register", { email: `nul-${Date.now()}@example.com`, password: "correct-horse", name });
		expect(res.status).toBe(201);
		expect((await api.get("/auth/me", { token: res.body.token })).body.name).toBe(name);
	});
});

describe("security headers and CORS by default", () => {
	test.each([
		["the API", { path: "/api/health" }],
		["an API error", { path: "/api/no-such-route" }],
		["a refused body", { method: "POST", path: "/api/auth/login", headers: { "content-type": "application/json" }, body: "{" }],
		["a page of the app", { path: "/orders/42", headers: { accept: "text/html" } }],
		["a static file", { path: "/index.html" }],
		["Socket.IO", { path: "/socket.io/?EIO=4&transport=polling" }],
	])("%s carries them", async (_what, request) => {
		const res = await rawRequest(agora.url, request);
		const csp = String(res.headers["content-security-policy"]);
		for (const directive of ["default-src 'self'", "script-src 'self'", "object-src 'none'", "frame-ancestors 'none'", "base-uri 'self'"])
			expect(csp).toContain(directive);
		expect(res.headers).toMatchObject({
			"x-content-type-options": "nosniff",
			"x-frame-options": "DENY",
			"referrer-policy": "strict-origin-when-cross-origin",
			"cross-origin-opener-policy": "same-origin",
		});
		expect(res.headers["x-powered-by"]).toBeUndefined();
	});

	test("without CORS_ORIGINS no other origin may call the API from a browser", async () => {
		const preflight = await rawRequest(agora.url, {
			method: "OPTIONS",
			path: "/api/orders",
			headers: { origin: "http://evil.example", "access-control-request-method": "POST" },
		});
		expect(preflight.headers["access-control-allow-origin"]).toBeUndefined();
		const get = await rawRequest(agora.url, { path: "/api/products", headers: { origin: "http://evil.example" } });
		expect(get.status).toBe(200);
		expect(get.headers["access-control-allow-origin"]).toBeUndefined();
	});
});
