import { objectSchema, openApiDocument, ruleSchema } from "../../services/api/openapi";

describe("OpenAPI from validator rules", () => {
	test("string, number, enum, array and object rules become the matching JSON Schema", () => {
		expect(ruleSchema({ type: "string", min: 1, max: 64, pattern: /^[A-Z]+$/ })).toEqual({
			type: "string",
			minLength: 1,
			maxLength: 64,
			pattern: "^[A-Z]+$",
		});
		expect(ruleSchema({ type: "number", integer: true, positive: true, max: 1000 })).toEqual({
			type: "integer",
			maximum: 1000,
			exclusiveMinimum: 0,
		});
		expect(ruleSchema({ type: "enum", values: ["a", "b"], default: "a" })).toEqual({ enum: ["a", "b"], default: "a" });
		expect(ruleSchema({ type: "string", nullable: true, max: 5 })).toEqual({ type: ["string", "null"], maxLength: 5 });
		expect(ruleSchema({ type: "array", min: 1, items: { type: "object", props: { id: "string" } } })).toEqual({
			type: "array",
			minItems: 1,
			items: { type: "object", properties: { id: { type: "string" } }, required: ["id"] },
		});
	});

	test("optional, defaulted and forbidden fields are not required; $$ options are not fields", () => {
		const schema = objectSchema({
			name: { type: "string" },
			page: { type: "number", default: 1 },
			q: { type: "string", optional: true },
			stock: { type: "forbidden" },
			$$strict: "remove",
		});
		expect(schema.required).toEqual(["name"]);
		expect(Object.keys(schema.properties ?? {})).toEqual(["name", "page", "q", "stock"]);
		expect(schema.properties?.stock).toEqual({ not: {} });
	});

	test("a RegExp lost in transit (a remote node's action arrives as JSON) leaves no pattern rather than a wrong one", () => {
		expect(ruleSchema({ type: "string", pattern: {} })).toEqual({ type: "string" });
	});

	test("a validator type with no mapping stops the document instead of under-describing a route", () => {
		expect(() => ruleSchema({ type: "uuid" })).toThrow('no JSON Schema for the validator type "uuid"');
	});

	test("path params go to the path, the rest to the query for GET and to the body for POST", () => {
		const actions = {
			"inventory.movements": { auth: "admin" as const, params: { productId: { type: "string" }, limit: { type: "number", default: 50 } } },
			"inventory.adjust": { auth: "admin" as const, params: { productId: { type: "string" }, reason: { type: "string" } } },
		};
		const document = openApiDocument(
			[
				{ method: "GET", path: "/inventory/:productId/movements", action: "inventory.movements" },
				{ method: "POST", path: "/inventory/:productId/adjust", action: "inventory.adjust" },
				{ method: "GET", path: "/nowhere", action: "nobody.offers" },
			],
			(name) => actions[name as keyof typeof actions],
		);
		expect(Object.keys(document.paths)).toEqual(["/inventory/{productId}/movements", "/inventory/{productId}/adjust"]);
		const movements = document.paths["/inventory/{productId}/movements"]?.get;
		expect(movements?.parameters?.map(({ name, in: where, required }) => [name, where, required])).toEqual([
			["productId", "path", true],
			["limit", "query", false],
		]);
		expect(movements?.security).toEqual([{ bearer: [] }]);
		expect(Object.keys(movements?.responses ?? {})).toEqual(["200", "401", "403", "404", "422"]);
		const adjust = document.paths["/inventory/{productId}/adjust"]?.post;
		expect(adjust?.requestBody?.content["application/json"].schema).toEqual({
			type: "object",
			properties: { reason: { type: "string" } },
			required: ["reason"],
		});
		expect(Object.keys(adjust?.responses ?? {})).toEqual(["200", "400", "401", "403", "404", "409", "413", "422"]);
	});

	test("$$exactlyOne becomes a oneOf of required fields, so a body with both or neither is invalid", () => {
		const schema = objectSchema({
			delta: { type: "number", integer: true, optional: true },
			set: { type: "number", integer: true, optional: true },
			reason: { type: "string" },
			$$exactlyOne: ["delta", "set"],
		});
		expect(schema).toEqual({
			type: "object",
			properties: { delta: { type: "integer" }, set: { type: "integer" }, reason: { type: "string" } },
			required: ["reason"],
			oneOf: [{ required: ["delta"] }, { required: ["set"] }],
		});
	});

	test("the stock adjustment's body in the document says exactly one of delta and set", () => {
		const document = openApiDocument([{ method: "POST", path: "/inventory/:productId/adjust", action: "inventory.adjust" }], () => ({
			auth: "admin",
			params: {
				productId: { type: "string" },
				delta: { type: "number", optional: true },
				set: { type: "number", optional: true },
				reason: "string",
				$$exactlyOne: ["delta", "set"],
			},
		}));
		const body = document.paths["/inventory/{productId}/adjust"]?.post?.requestBody?.content["application/json"].schema;
		expect(body?.oneOf).toEqual([{ required: ["delta"] }, { required: ["set"] }]);
	});

	test("a trimmed string that must not be empty needs a character trim keeps; a string's enum is listed", () => {
		const { pattern } = ruleSchema({ type: "string", trim: true, min: 1, max: 200 });
		const blank = new RegExp(pattern ?? "", "u");
		for (const kept of ["a", " a ", "\u00a0x", "é"]) expect(blank.test(kept)).toBe(true);
		for (const trimmed of ["", " ", "\r\n\t", "\u00a0\u2003\ufeff"]) expect(blank.test(trimmed)).toBe(false);
		expect(ruleSchema({ type: "string", trim: true, max: 10 }).pattern).toBeUndefined();
		expect(ruleSchema({ type: "string", trim: true, min: 1, pattern: /^[A-Z]+$/ }).pattern).toBe("^[A-Z]+$");
		expect(ruleSchema({ type: "string", enum: ["4242424242424242"] })).toEqual({ type: "string", enum: ["4242424242424242"] });
	});

	test("links lead from a created product to an order of it, and only to operations in the document", () => {
		const actions: Record<string, { auth: "admin" | "customer"; params: Record<string, string> }> = {
			"products.create": { auth: "admin", params: { name: "string" } },
			"orders.place": { auth: "customer", params: { note: "string" } },
		};
		const routes = [
			{ method: "POST", path: "/products", action: "products.create" },
			{ method: "POST", path: "/orders", action: "orders.place" },
		];
		const full = openApiDocument(routes, (name) => actions[name]);
		expect(full.paths["/products"]?.post?.responses["201"]?.links?.order).toMatchObject({
			operationId: "orders.place",
			requestBody: { items: [{ productId: "$response.body#/id", quantity: 1 }], payment: { cardNumber: "4242424242424242" } },
		});
		// orders.place links on to orders.get and others, which this document lacks.
		expect(full.paths["/orders"]?.post?.responses["201"]?.links).toBeUndefined();
		const withoutOrders = openApiDocument(routes, (name) => (name === "orders.place" ? undefined : actions[name]));
		expect(withoutOrders.paths["/products"]?.post?.responses["201"]?.links).toBeUndefined();
	});
});
