import { objectSchema, openApiDocument, ruleSchema } from "../../lib/openapi";

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
});
