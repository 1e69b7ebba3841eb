/** Turns the API's error answers into what a form or a cart line shows. */
import type { ErrorBody, FieldProblem } from "../api/types";

/** Messages keyed by the form field they belong to. */
export type FieldErrors = Record<string, string>;

interface FieldWords {
	/** The field in a sentence: "street address". */
	name: string;
	/** What to ask for when it is empty. */
	missing: string;
	/** What to ask for when it is there but not in the right form. */
	invalid?: string;
}

/**
 * How the forms' fields are spoken of, by the field path the server reports. The server's
 * validator speaks of paths ("The 'shippingAddress.line1' field ..."); people get these words.
 */
const FIELDS: Record<string, FieldWords> = {
	"address.name": { name: "name", missing: "Enter the name to deliver to" },
	"address.line1": { name: "street address", missing: "Enter your street address" },
	"address.city": { name: "city", missing: "Enter your town or city" },
	"address.postalCode": { name: "postal code", missing: "Enter your postal code" },
	"address.country": { name: "country", missing: "Choose your country", invalid: "We do not ship to this country yet: choose another" },
	method: {
		name: "shipping method",
		missing: "Choose a shipping method",
		invalid: "This method does not ship to your country: choose another",
	},
	"payment.cardNumber": { name: "card number", missing: "Enter your card number", invalid: "Enter the card number as 12 to 19 digits" },
	email: { name: "email address", missing: "Enter your email address", invalid: "Enter an email address such as name@example.com" },
	password: { name: "password", missing: "Enter your password" },
	name: { name: "name", missing: "Enter a name" },
	sku: { name: "SKU", missing: "Enter a SKU", invalid: "Use only letters, digits, '.', '_' or '-' in the SKU" },
	price: { name: "price", missing: "Enter a price", invalid: "Enter a price such as 12.90" },
	category: { name: "category", missing: "Choose a category" },
	description: { name: "description", missing: "Enter a description" },
	imageUrl: {
		name: "image URL",
		missing: "Enter an image URL",
		invalid: "Enter a path such as /images/products/tea-001.svg or an https URL",
	},
	stock: { name: "units in stock", missing: "Enter the units in stock", invalid: "Enter a whole number of units, 0 or more" },
	lowStockThreshold: { name: "alert level", missing: "Enter the alert level", invalid: "Enter a whole number of units, 0 or more" },
	url: {
		name: "receiver URL",
		missing: "Enter the URL that should receive the events",
		invalid: "Enter a full address such as https://example.com/hooks/agora",
	},
	events: { name: "events", missing: "Choose at least one event", invalid: "Choose at least one event" },
};

/** "items[0].quantity" -> "quantity", "postalCode" -> "postal code": for a field no form names. */
function wordsFor(field: string): FieldWords {
	const known = FIELDS[field];
	if (known) return known;
	const last =
		field
			.split(".")
			.pop()
			?.replace(/\[\d+\]/g, "") ?? field;
	const name = last.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
	return { name, missing: `Enter the ${name}` };
}

// fastest-validator's rule names, grouped by what a person has to do about them.
const MISSING = new Set(["required", "stringEmpty", "arrayEmpty", "objectNull"]);
const TOO_SHORT = new Set(["stringMin", "stringLength"]);
const TOO_LONG = new Set(["stringMax"]);
const TOO_SMALL = new Set(["numberMin", "numberPositive", "numberEqual"]);
const TOO_BIG = new Set(["numberMax"]);
const NOT_RIGHT = new Set([
	"string",
	"stringPattern",
	"stringAlpha",
	"stringNumeric",
	"stringAlphanum",
	"stringAlphadash",
	"email",
	"emailEmpty",
	"emailMin",
	"emailMax",
	"url",
	"urlEmpty",
	"number",
	"numberInteger",
	"numberNotEqual",
	"enumValue",
	"equalValue",
	"boolean",
	"date",
	"uuid",
	"object",
	"array",
	"arrayMin",
	"arrayMax",
	"forbidden",
	// The carts service's own: a country or method the shop does not ship by.
	"shipsTo",
]);

/**
 * The sentence for one field problem. A problem the validator raised is reworded from its type;
 * one a service wrote itself (an unknown test card, a taken email) already speaks to people.
 */
export function humanMessage(problem: FieldProblem, fallback = ""): string {
	const words = wordsFor(problem.field);
	const type = problem.type ?? "";
	const limit = typeof problem.expected === "number" ? problem.expected : undefined;
	const checkIt = words.invalid ?? `Check the ${words.name}`;
	if (MISSING.has(type)) return words.missing;
	if (TOO_SHORT.has(type))
		return limit === undefined || limit <= 1 ? words.missing : `Use at least ${limit} characters for the ${words.name}`;
	if (TOO_LONG.has(type)) return limit === undefined ? checkIt : `Keep the ${words.name} to ${limit} characters or fewer`;
	if (TOO_SMALL.has(type)) return words.invalid ?? (limit === undefined ? checkIt : `Enter a ${words.name} of ${limit} or more`);
	if (TOO_BIG.has(type)) return words.invalid ?? (limit === undefined ? checkIt : `Enter a ${words.name} of ${limit} or less`);
	if (NOT_RIGHT.has(type)) return checkIt;
	const message = problem.message || fallback;
	// Whatever else still names a path the way the validator does is not for people either.
	return message && !message.includes(`'${problem.field}'`) ? message : checkIt;
}

/** The message for an empty required field, as the server would have it worded. */
export function missingMessage(field: string): string {
	return wordsFor(field).missing;
}

function isFieldProblem(value: unknown): value is FieldProblem {
	return typeof value === "object" && value !== null && typeof (value as FieldProblem).field === "string";
}

/**
 * Field messages of a 422 (`data` lists `{field, message, type}`), or of a conflict on one field
 * such as a taken email (409 with `data.field`), in words for people. The first message per
 * field wins: it is the most basic.
 */
export function fieldErrors(body: ErrorBody): FieldErrors {
	const errors: FieldErrors = {};
	const problems = Array.isArray(body.data) ? body.data : [body.data];
	for (const problem of problems) {
		if (!isFieldProblem(problem)) continue;
		errors[problem.field] ??= humanMessage(problem, body.message);
	}
	return errors;
}

export interface OutOfStock {
	productId: string;
	name: string;
	/** Units still available, when the server says. */
	available?: number;
}

/** The items of a 409 out-of-stock answer; `data` holds one item or a list of them. */
export function outOfStockItems(body: ErrorBody): OutOfStock[] {
	if (body.type !== "OUT_OF_STOCK" || body.data == null) return [];
	const items = Array.isArray(body.data) ? body.data : [body.data];
	return items.flatMap((item: unknown) => {
		if (typeof item !== "object" || item === null) return [];
		const { productId, name, available } = item as Record<string, unknown>;
		if (typeof productId !== "string") return [];
		return [
			{ productId, name: typeof name === "string" ? name : "This item", available: typeof available === "number" ? available : undefined },
		];
	});
}

/** What an out-of-stock answer means for one product, for people; `name` when the answer does not say. */
export function stockMessage(item: OutOfStock, name = item.name): string {
	if (item.available === undefined) return `Sorry, there is not enough ${name} in stock.`;
	if (item.available <= 0) return `Sorry, ${name} is sold out.`;
	return `Sorry, only ${item.available} of ${name} ${item.available === 1 ? "is" : "are"} left.`;
}

/**
 * The sentence for a refused request, for people: stock and field problems in their own words,
 * a busy or unreachable shop as such, anything else as `fallback` (what the shopper was doing),
 * so no code or internal name ever reaches the page.
 */
export function problemMessage(body: ErrorBody, fallback: string, names: Readonly<Record<string, string>> = {}): string {
	const outOfStock = outOfStockItems(body);
	if (outOfStock.length > 0) return outOfStock.map((item) => stockMessage(item, names[item.productId] ?? item.name)).join(" ");
	if (body.type === "VALIDATION_ERROR") {
		const fields = Object.values(fieldErrors(body));
		if (fields.length > 0) return `${fields.join(". ")}.`;
	}
	if (body.type === "CART_NOT_FOUND") return "This cart was checked out or closed in another window. Here is your cart as it is now.";
	if (body.code === 0) return body.message;
	if (body.code === 429 || body.code >= 500) return "The shop is busy right now. Try again in a moment.";
	return fallback;
}
