/**
 * The OpenAPI 3.1 document of the REST API, derived from what really runs: the gateway's aliases
 * give the routes, and each action's own fastest-validator `params` (the rules the request is
 * validated with) give the parameters and bodies. Only what the rules cannot tell, the shape of
 * each answer, is written here.
 */

import { DOMAIN_EVENTS } from "../../lib/contracts/events";
import { ORDER_STATUSES, PAYMENT_STATUSES } from "../../lib/contracts/orders";
import { TEST_CARDS } from "../../lib/payments/simulated-provider";
import { DELIVERY_STATUSES } from "../../lib/platform/delivery-queue";
import { ROLES } from "../../lib/platform/tokens";
import type { ActionAccess } from "../../types/moleculer";

/** A JSON Schema (the 2020-12 dialect of OpenAPI 3.1), as far as this document uses it. */
export interface Schema {
	$ref?: string;
	type?: string | string[];
	format?: string;
	description?: string;
	minLength?: number;
	maxLength?: number;
	pattern?: string;
	minimum?: number;
	maximum?: number;
	exclusiveMinimum?: number;
	enum?: unknown[];
	const?: unknown;
	default?: unknown;
	items?: Schema;
	minItems?: number;
	maxItems?: number;
	properties?: Record<string, Schema>;
	required?: string[];
	additionalProperties?: boolean | Schema;
	not?: Schema;
	oneOf?: Schema[];
}

interface Parameter {
	name: string;
	in: "path" | "query" | "header";
	required: boolean;
	description?: string;
	schema: Schema;
}

interface Content {
	"application/json": { schema: Schema };
}

/** How a value of one answer feeds another operation (OpenAPI runtime expressions such as `$response.body#/id`). */
interface Link {
	operationId: string;
	description: string;
	parameters?: Record<string, string>;
	requestBody?: unknown;
}

interface Response {
	description: string;
	headers?: Record<string, { description: string; required: boolean; schema: Schema }>;
	content?: Content;
	links?: Record<string, Link>;
}

interface Operation {
	operationId: string;
	tags: string[];
	security?: Record<string, string[]>[];
	parameters?: Parameter[];
	requestBody?: { required: boolean; content: Content };
	responses: Record<string, Response>;
}

export interface OpenApiDocument {
	openapi: "3.1.0";
	info: { title: string; version: string; description: string };
	servers: { url: string }[];
	paths: Record<string, Record<string, Operation>>;
	components: { schemas: Record<string, Schema>; securitySchemes: Record<string, { type: string; scheme: string; bearerFormat: string }> };
}

/** A fastest-validator rule as the actions declare them: a type name or a rule object. */
export type Rule = string | RuleObject;

interface RuleObject {
	type: string;
	optional?: boolean;
	nullable?: boolean;
	default?: unknown;
	min?: number;
	max?: number;
	length?: number;
	/** Strings are trimmed before their length is checked. */
	trim?: boolean;
	/** A string rule's allowed values. */
	enum?: readonly string[];
	/** A RegExp in-process; a remote node's action arrives as JSON, where a RegExp is lost. */
	pattern?: RegExp | string | object;
	integer?: boolean;
	positive?: boolean;
	values?: readonly unknown[];
	items?: Rule;
	props?: Record<string, Rule>;
}

/**
 * An action's `params`: rules by name, plus `$$strict`-style options. `$$exactlyOne` names fields
 * of which a request gives exactly one (the validator ignores `$$` keys; the action enforces it).
 */
export type Params = Record<string, Rule | boolean | readonly string[]>;

export interface ActionInfo {
	params?: Params;
	auth?: ActionAccess;
}

/** One gateway alias, e.g. `{method: "GET", path: "/products/:id", action: "products.get"}`. */
export interface Route {
	method: string;
	path: string;
	action: string;
}

/** What the gateway adds around some actions: request headers it reads, limits it applies. */
export interface RouteExtras {
	headers?: Record<string, Record<string, { description: string; schema: Schema }>>;
	/** Actions the gateway may answer with 429 (brute-force limits). */
	rateLimited?: readonly string[];
}

function compact<T extends object>(object: T): T {
	return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as T;
}

function patternSource(pattern: RuleObject["pattern"]): string | undefined {
	if (pattern instanceof RegExp) return pattern.source;
	return typeof pattern === "string" ? pattern : undefined;
}

function asObject(rule: Rule): RuleObject {
	return typeof rule === "string" ? { type: rule } : rule;
}

const isOptional = (rule: RuleObject) => rule.optional === true || rule.default !== undefined || rule.type === "forbidden";

/**
 * A trimmed string with a minimum length must hold a character that String#trim keeps: one
 * outside ECMAScript's white space and line terminators, spelt out so that every regex dialect
 * (the fuzzer's too) reads the same set.
 */
const NOT_BLANK = "[^\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff]";

/** The JSON Schema of one validator rule. */
export function ruleSchema(input: Rule): Schema {
	const rule = asObject(input);
	let schema: Schema;
	switch (rule.type) {
		case "string":
			schema = {
				type: "string",
				minLength: rule.length ?? rule.min,
				maxLength: rule.length ?? rule.max,
				pattern: patternSource(rule.pattern) ?? (rule.trim && (rule.length ?? rule.min ?? 0) > 0 ? NOT_BLANK : undefined),
				enum: rule.enum ? [...rule.enum] : undefined,
			};
			break;
		case "email":
			schema = { type: "string", format: "email", maxLength: rule.max };
			break;
		case "number":
			schema = {
				type: rule.integer ? "integer" : "number",
				minimum: rule.min,
				maximum: rule.max,
				exclusiveMinimum: rule.positive ? 0 : undefined,
			};
			break;
		case "boolean":
			schema = { type: "boolean" };
			break;
		case "date":
			schema = { type: "string", format: "date-time" };
			break;
		case "enum":
			schema = { enum: [...(rule.values ?? [])] };
			break;
		case "array":
			schema = { type: "array", items: rule.items ? ruleSchema(rule.items) : {}, minItems: rule.min, maxItems: rule.max };
			break;
		case "object":
			schema = objectSchema(rule.props ?? {});
			break;
		case "forbidden":
			// Whatever value is sent is refused.
			schema = { not: {} };
			break;
		default:
			// A new rule type must be mapped here, or the document would quietly say less than the validator checks.
			throw new Error(`openapi: no JSON Schema for the validator type "${rule.type}"`);
	}
	if (rule.nullable && typeof schema.type === "string") schema.type = [schema.type, "null"];
	if (rule.default !== undefined && typeof rule.default !== "function") schema.default = rule.default;
	return compact(schema);
}

/** An object of rules (an action's params or a nested `props`); `$$` keys are validator options. */
export function objectSchema(params: Params): Schema {
	const properties: Record<string, Schema> = {};
	const required: string[] = [];
	for (const [name, rule] of Object.entries(params)) {
		if (name.startsWith("$$") || typeof rule === "boolean" || Array.isArray(rule)) continue;
		properties[name] = ruleSchema(rule as Rule);
		if (!isOptional(asObject(rule as Rule))) required.push(name);
	}
	const exactlyOne = params.$$exactlyOne;
	return compact({
		type: "object",
		properties,
		required: required.length > 0 ? required : undefined,
		oneOf: Array.isArray(exactlyOne) ? exactlyOne.map((name: string) => ({ required: [name] })) : undefined,
	});
}

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const dateTime: Schema = { type: "string", format: "date-time" };
const integer = (minimum?: number): Schema => compact({ type: "integer", minimum });
const text: Schema = { type: "string" };

/** A closed object: every property listed is always there, nothing else is (no hash or bookkeeping leaks). */
function record(properties: Record<string, Schema>, optional: string[] = []): Schema {
	return {
		type: "object",
		properties,
		required: Object.keys(properties).filter((name) => !optional.includes(name)),
		additionalProperties: false,
	};
}

const SHIPPING_CHARGE: Schema = { oneOf: [{ type: "null" }, record({ method: text, name: text, price: integer(0) })] };
const TAX_CHARGE: Schema = { oneOf: [{ type: "null" }, record({ country: text, rate: integer(0), amount: integer(0) })] };

const ORDER_FIELDS: Record<string, Schema> = {
	id: text,
	userId: { type: ["string", "null"] },
	email: text,
	items: { type: "array", items: record({ productId: text, name: text, price: integer(0), quantity: integer(1) }) },
	subtotal: integer(0),
	shipping: SHIPPING_CHARGE,
	tax: TAX_CHARGE,
	total: integer(0),
	currency: text,
	status: { enum: [...ORDER_STATUSES] },
	paymentStatus: { enum: [...PAYMENT_STATUSES] },
	history: {
		type: "array",
		items: record({ status: { enum: [...ORDER_STATUSES] }, at: dateTime, by: text, note: text }, ["note"]),
	},
	shippingAddress: record({ name: text, line1: text, city: text, postalCode: text, country: text }),
	cardLast4: text,
	createdAt: dateTime,
	updatedAt: dateTime,
};

const CART_FIELDS: Record<string, Schema> = {
	id: text,
	items: {
		type: "array",
		items: record({
			productId: text,
			name: text,
			price: { ...integer(0), description: "The catalogue's price now" },
			quantity: integer(1),
			available: { ...integer(0), description: "Units this cart could have: on sale, plus what its own hold keeps" },
		}),
	},
	subtotal: integer(0),
	shipping: SHIPPING_CHARGE,
	tax: TAX_CHARGE,
	total: integer(0),
	currency: text,
	email: text,
	hold: {
		oneOf: [
			{ type: "null" },
			record({ expiresAt: dateTime, seconds: { ...integer(0), description: "Seconds left of the hold when answered" } }),
		],
	},
	updatedAt: dateTime,
};

const pageOf = (row: Schema): Schema =>
	record({ rows: { type: "array", items: row }, total: integer(0), page: integer(1), pageSize: integer(1), totalPages: integer(0) });

const SCHEMAS: Record<string, Schema> = {
	Error: {
		type: "object",
		properties: {
			name: text,
			message: text,
			code: { type: "integer", minimum: 400, maximum: 599 },
			type: text,
			data: { description: "Details: for 422, the failing fields `[{field, message, type}]`" },
		},
		required: ["name", "message", "code"],
	},
	User: record({ id: text, email: text, name: text, role: { enum: [...ROLES] }, createdAt: dateTime }),
	Session: record({ user: ref("User"), token: text }),
	Product: record({
		id: text,
		name: text,
		sku: text,
		price: integer(0),
		currency: text,
		category: text,
		description: text,
		imageUrl: { type: ["string", "null"] },
		createdAt: dateTime,
		updatedAt: dateTime,
		stock: { ...integer(0), description: "Units available to order now" },
	}),
	Stock: record({ productId: text, available: integer(0), reserved: integer(0), held: integer(0), lowStockThreshold: integer(0) }),
	Movement: record({
		id: text,
		key: text,
		productId: text,
		seq: integer(0),
		orderId: { type: ["string", "null"] },
		holdId: { type: ["string", "null"] },
		kind: text,
		delta: integer(),
		reservedDelta: integer(),
		heldDelta: integer(),
		available: integer(0),
		reserved: integer(0),
		held: integer(0),
		quantity: integer(),
		reason: text,
		by: text,
		at: dateTime,
	}),
	Order: record(ORDER_FIELDS, ["email"]),
	PlacedOrder: record(
		{
			...ORDER_FIELDS,
			accessToken: { ...text, description: "A guest's key to this order: send it as Order-Token, or `auth: {orderToken}` on Socket.IO" },
		},
		["email", "accessToken"],
	),
	Cart: record(CART_FIELDS, ["email"]),
	OpenedCart: record(
		{
			...CART_FIELDS,
			secret: { ...text, description: "A guest's new cart: send it as Cart-Secret with each call of this cart; shown this once" },
		},
		["email", "secret"],
	),
	ShippingOption: record({ id: text, name: text, price: integer(0), currency: text, days: text }),
	Payment: record({
		id: text,
		orderId: text,
		userId: { type: ["string", "null"] },
		amount: integer(0),
		currency: text,
		status: text,
		cardLast4: text,
		failureReason: { type: ["string", "null"] },
		createdAt: dateTime,
		updatedAt: dateTime,
	}),
	SalesTotals: record({
		orders: { ...integer(0), description: "Orders placed" },
		revenue: { ...integer(), description: "Paid revenue in cents, less cancels and refunds in the period" },
		cancelled: integer(0),
		failed: { ...integer(0), description: "Orders whose payment was declined or never came" },
		averageOrderValue: { ...integer(), description: "Revenue per paid order, in cents" },
		newCustomers: integer(0),
	}),
	Sales: record({
		totals: ref("SalesTotals"),
		previous: { ...ref("SalesTotals"), description: "The same figures for the period of equal length just before" },
		buckets: {
			type: "array",
			items: record({ at: dateTime, orders: integer(0), revenue: integer(), cancelled: integer(0) }),
		},
		topProducts: {
			type: "array",
			maxItems: 5,
			items: record({ productId: text, name: text, units: integer(1), revenue: integer() }),
		},
	}),
	Webhook: record({
		id: text,
		url: text,
		events: { type: "array", items: { enum: [...DOMAIN_EVENTS] } },
		createdAt: dateTime,
	}),
	NewWebhook: record({
		id: text,
		url: text,
		events: { type: "array", items: { enum: [...DOMAIN_EVENTS] } },
		createdAt: dateTime,
		secret: { ...text, description: "Signs every delivery (Agora-Signature); shown this once" },
	}),
	Delivery: record({
		id: { ...text, description: "Sent as Agora-Delivery" },
		eventId: text,
		type: { enum: [...DOMAIN_EVENTS] },
		status: { enum: [...DELIVERY_STATUSES] },
		attempts: integer(0),
		lastStatusCode: { type: ["integer", "null"], description: "The receiver's HTTP status at the last attempt" },
		lastError: { type: ["string", "null"] },
		nextAttemptAt: { type: ["string", "null"], format: "date-time", description: "When a pending delivery is tried next" },
		deliveredAt: { type: ["string", "null"], format: "date-time" },
	}),
	DeliveryPage: record({ rows: { type: "array", items: ref("Delivery") }, total: integer(0) }),
	ProductPage: pageOf(ref("Product")),
	OrderPage: pageOf(ref("Order")),
	Health: record({ status: { const: "ok" }, nodeID: text, uptime: integer(0) }),
	Ready: record({
		status: { const: "ready" },
		checks: { type: "object", additionalProperties: text },
		services: { type: "object", additionalProperties: { type: "array", items: text } },
	}),
};

interface Answer {
	status: number;
	description: string;
	/** Another success status with the same body. */
	also?: { status: number; description: string };
	schema?: Schema;
	/** Error statuses this action adds to those every route of its kind can answer. */
	errors?: number[];
	/** What a client can do next with the answer, by the next operation's id (an action name). */
	links?: Record<string, Link>;
}

/** A customer orders one unit of the product the expression names, paying with the test card that succeeds. */
const orderOne = (productId: string): Link => ({
	operationId: "orders.place",
	description: "A customer orders one unit of this product",
	requestBody: {
		items: [{ productId, quantity: 1 }],
		shippingAddress: { name: "Ada Lovelace", line1: "12 St James's Square", city: "London", postalCode: "SW1Y 4JH", country: "GB" },
		payment: { cardNumber: Object.keys(TEST_CARDS).find((card) => TEST_CARDS[card] === "approve") },
	},
});

const withOrderId = (operationId: string, description: string, parameter = "id"): Link => ({
	operationId,
	description,
	parameters: { [parameter]: "$response.body#/id" },
});

/** The successful answer of each action the gateway publishes, and the errors particular to it. */
const ANSWERS: Record<string, Answer> = {
	"api.health": { status: 200, description: "The process is live", schema: ref("Health") },
	"api.ready": {
		status: 200,
		description: "The gateway is connected and has seen the checkout path since it started",
		schema: ref("Ready"),
		errors: [503],
	},
	"api.openapi": { status: 200, description: "This document", schema: { type: "object" } },
	"users.register": { status: 201, description: "The new customer and a token", schema: ref("Session"), errors: [409] },
	"users.login": { status: 200, description: "The account and a token", schema: ref("Session") },
	"users.me": { status: 200, description: "The signed-in account", schema: ref("User") },
	"products.list": { status: 200, description: "A page of the catalogue", schema: ref("ProductPage") },
	"products.get": { status: 200, description: "The product with its stock", schema: ref("Product"), errors: [404] },
	"products.create": {
		status: 201,
		description: "The new product",
		schema: ref("Product"),
		errors: [409],
		links: { order: orderOne("$response.body#/id") },
	},
	"products.update": { status: 200, description: "The changed product", schema: ref("Product"), errors: [404, 409] },
	"products.remove": { status: 204, description: "Deleted", errors: [404] },
	"inventory.lowStock": {
		status: 200,
		description: "Products at or under their threshold",
		schema: { type: "array", items: ref("Stock") },
	},
	"inventory.get": { status: 200, description: "The product's stock", schema: ref("Stock"), errors: [404] },
	"inventory.movements": {
		status: 200,
		description: "The product's stock ledger, newest first",
		schema: { type: "array", items: ref("Movement") },
		errors: [404],
	},
	"inventory.adjust": {
		status: 200,
		description: "The stock after the change",
		schema: ref("Stock"),
		errors: [404, 409],
		links: { order: orderOne("$response.body#/productId") },
	},
	"orders.place": {
		status: 201,
		description: "The order, pending its payment (the first order again for a repeated Idempotency-Key)",
		schema: ref("Order"),
		errors: [404, 409],
		links: {
			get: withOrderId("orders.get", "The order, as it goes on"),
			cancel: withOrderId("orders.cancel", "Cancels the order"),
			setStatus: withOrderId("orders.setStatus", "An admin moves the order on"),
			payments: withOrderId("payments.list", "The order's payments", "orderId"),
		},
	},
	"orders.list": { status: 200, description: "Own orders (admins: all), newest first", schema: ref("OrderPage") },
	"orders.get": { status: 200, description: "The order", schema: ref("Order"), errors: [404] },
	"orders.setStatus": { status: 200, description: "The order in its new status", schema: ref("Order"), errors: [404, 409] },
	"orders.cancel": { status: 200, description: "The cancelled order", schema: ref("Order"), errors: [404, 409] },
	"carts.open": {
		status: 201,
		description: "A guest's new cart with its secret, or a signed-in customer's open cart made now (a Cart-Secret's guest lines merged in)",
		also: { status: 200, description: "The signed-in customer's open cart, made before (a Cart-Secret's guest lines merged in)" },
		schema: ref("OpenedCart"),
	},
	"carts.get": { status: 200, description: "The cart, priced now", schema: ref("Cart"), errors: [404] },
	"carts.setItem": { status: 200, description: "The cart with the line set (0 removes it)", schema: ref("Cart"), errors: [404, 409] },
	"carts.setShipping": { status: 200, description: "The cart with shipping and tax", schema: ref("Cart"), errors: [404] },
	"carts.hold": {
		status: 200,
		description: "The cart with its units held until hold.expiresAt (again: extended)",
		schema: ref("Cart"),
		errors: [404, 409],
	},
	"carts.checkout": {
		status: 201,
		description: "The order, pending its payment; the cart is closed (the first order again for a repeated Idempotency-Key)",
		schema: ref("PlacedOrder"),
		errors: [404, 409],
	},
	"carts.shippingMethods": {
		status: 200,
		description: "The shipping methods that ship to the country, with their price there",
		schema: { type: "array", items: ref("ShippingOption") },
	},
	"payments.list": {
		status: 200,
		description: "Payments, newest first (customers: of one own order)",
		schema: { type: "array", items: ref("Payment") },
		errors: [403],
	},
	"insights.sales": {
		status: 200,
		description: "Sales figures of [from, to) by the hour or day, against the period of equal length before; at most 92 days",
		schema: ref("Sales"),
	},
	"webhooks.create": {
		status: 201,
		description: "The new webhook with its signing secret, shown this once",
		schema: ref("NewWebhook"),
	},
	"webhooks.list": {
		status: 200,
		description: "Every webhook, oldest first, without secrets",
		schema: { type: "array", items: ref("Webhook") },
	},
	"webhooks.remove": { status: 204, description: "Deleted, with its delivery log", errors: [404] },
	"webhooks.deliveries": {
		status: 200,
		description: "The webhook's deliveries, newest first",
		schema: ref("DeliveryPage"),
		errors: [404],
	},
	"webhooks.retry": {
		status: 202,
		description: "The delivery, pending again; it is tried at once",
		schema: ref("Delivery"),
		errors: [404, 409],
	},
};

const ERROR_DESCRIPTIONS: Record<number, string> = {
	400: "The body is not valid JSON",
	401: "No token, or a bad, expired or revoked one (also on public routes when a bad one is sent)",
	403: "The account's role may not do this",
	404: "Not found",
	409: "Conflicts with the current state",
	413: "The body is larger than BODY_LIMIT",
	422: "Invalid parameters; `data` names each failing field",
	429: "Too many attempts; wait for Retry-After seconds",
	503: "Not ready",
};

const BODY_METHODS = new Set(["POST", "PATCH", "PUT"]);

function errorStatuses(route: Route, action: ActionInfo, hasBody: boolean, extras: RouteExtras): number[] {
	const statuses = new Set(ANSWERS[route.action]?.errors ?? []);
	statuses.add(401);
	if (action.auth === "admin" || action.auth === "customer") statuses.add(403);
	if (action.params) statuses.add(422);
	if (hasBody) for (const status of [400, 413]) statuses.add(status);
	if (extras.rateLimited?.includes(route.action)) statuses.add(429);
	return [...statuses].sort((a, b) => a - b);
}

function operation(route: Route, action: ActionInfo, extras: RouteExtras): Operation {
	const answer = ANSWERS[route.action];
	if (!answer) throw new Error(`openapi: no answer described for ${route.action}`);
	const pathNames = [...route.path.matchAll(/:(\w+)/g)].map((match) => match[1] as string);
	const rules = Object.fromEntries(Object.entries(action.params ?? {}).filter(([name]) => !pathNames.includes(name)));
	const hasBody = BODY_METHODS.has(route.method);
	const fields = objectSchema(rules);
	const parameters: Parameter[] = pathNames.map((name) => {
		const rule = action.params?.[name];
		return {
			name,
			in: "path",
			required: true,
			schema: rule && typeof rule !== "boolean" && !Array.isArray(rule) ? ruleSchema(rule as Rule) : text,
		};
	});
	if (!hasBody)
		for (const [name, schema] of Object.entries(fields.properties ?? {}))
			parameters.push({ name, in: "query", required: fields.required?.includes(name) ?? false, schema });
	for (const [name, header] of Object.entries(extras.headers?.[route.action] ?? {}))
		parameters.push({ name, in: "header", required: false, ...header });

	const withBody = hasBody && Object.keys(fields.properties ?? {}).length > 0;
	const content = answer.schema ? { "application/json": { schema: answer.schema } } : undefined;
	const responses: Record<string, Response> = {
		[answer.status]: compact({ description: answer.description, content, links: answer.links }),
	};
	if (answer.also) responses[answer.also.status] = compact({ description: answer.also.description, content });
	for (const status of errorStatuses(route, action, withBody, extras)) {
		const headers: Response["headers"] =
			status === 429 ? { "Retry-After": { description: "Seconds to wait", required: true, schema: integer(1) } } : undefined;
		responses[status] = compact({
			description: ERROR_DESCRIPTIONS[status] ?? "Error",
			headers,
			content: { "application/json": { schema: ref("Error") } },
		});
	}
	return compact({
		operationId: route.action,
		tags: [route.action.split(".")[0] as string],
		security: action.auth === "public" || action.auth === undefined ? undefined : [{ bearer: [] }],
		parameters: parameters.length > 0 ? parameters : undefined,
		requestBody: withBody
			? { required: (fields.required?.length ?? 0) > 0, content: { "application/json": { schema: fields } } }
			: undefined,
		responses,
	});
}

/**
 * The document for the given routes. `actionOf` answers an action's definition as the registry
 * knows it; an action no node offers right now is left out rather than guessed.
 */
export function openApiDocument(
	routes: readonly Route[],
	actionOf: (name: string) => ActionInfo | undefined,
	extras: RouteExtras = {},
): OpenApiDocument {
	const paths: OpenApiDocument["paths"] = {};
	for (const route of routes) {
		const action = actionOf(route.action);
		if (!action) continue;
		const path = route.path.replace(/:(\w+)/g, "{$1}");
		const method = route.method.toLowerCase();
		paths[path] = { ...paths[path], [method]: operation(route, action, extras) };
	}
	// A link to an operation no node offers right now would point nowhere.
	const operations = Object.values(paths).flatMap((methods) => Object.values(methods));
	const present = new Set(operations.map((op) => op.operationId));
	for (const response of operations.flatMap((op) => Object.values(op.responses)))
		if (response.links) {
			const links = Object.entries(response.links).filter(([, link]) => present.has(link.operationId));
			response.links = links.length > 0 ? Object.fromEntries(links) : undefined;
		}
	return {
		openapi: "3.1.0",
		info: { title: "Agora", version: "1", description: "Agora's REST API. Money is in minor units (cents) with a currency." },
		servers: [{ url: "/api" }],
		paths,
		components: {
			schemas: SCHEMAS,
			securitySchemes: { bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" } },
		},
	};
}
