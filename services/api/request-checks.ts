/**
 * What the gateway refuses before any action runs: a body that is not a JSON object, params nested
 * too deeply for the code behind them, and idempotency keys that are not plain tokens. Each is a
 * 422 naming the field, as the actions' own validation answers.
 */
import { invalidFields } from "../../lib/platform/shop-error";

/** Clients pick their keys; bound them so one cannot bloat the index or smuggle operators. */
export const IDEMPOTENCY_KEY = /^[\w.:-]{1,200}$/;

/** The `Idempotency-Key` header as the order's key; a 422 if it is not a plain token. */
export function checkIdempotencyKey(key: string): string {
	if (!IDEMPOTENCY_KEY.test(key))
		throw invalidFields("Bad Idempotency-Key header", [
			{ field: "Idempotency-Key", message: "Use 1 to 200 letters, digits, '-', '_', '.' or ':'", type: "header" },
		]);
	return key;
}

/** No request of this API nests deeper than a few levels; far deeper input only costs stack. */
const MAX_NESTING = 16;

/**
 * Refuses params nested deeper than MAX_NESTING, naming the top-level field. Walked without
 * recursion: a body of a few kilobytes of `[[[[...` nests tens of thousands of levels, and code
 * that recurses into it (validation messages, serializers) would overflow the stack.
 */
export function checkNesting(params: unknown): void {
	if (typeof params !== "object" || params === null) return;
	const pending: { value: unknown; depth: number; field: string }[] = Object.entries(params).map(([field, value]) => ({
		value,
		depth: 1,
		field,
	}));
	for (let next = pending.pop(); next; next = pending.pop()) {
		const { value, depth, field } = next;
		if (typeof value !== "object" || value === null) continue;
		if (depth > MAX_NESTING)
			throw invalidFields("The request nests too deeply", [
				{ field, message: `Nested more than ${MAX_NESTING} levels deep`, type: "nesting" },
			]);
		for (const child of Object.values(value)) pending.push({ value: child, depth: depth + 1, field });
	}
}

/** A JSON value as a person would name it, for an error message. */
function jsonKind(value: unknown): string {
	if (value === null) return "null";
	if (Array.isArray(value)) return "an array";
	return `a ${typeof value}`;
}

/**
 * Every JSON body of this API is an object of named fields. Any other JSON value would be spread
 * into the params (an array's items as fields "0", "1"...) or dropped, and the request would
 * pass as if it had sent nothing, so it is refused as the invalid body it is.
 */
export function checkBodyIsObject(body: unknown): void {
	if (body === undefined || (typeof body === "object" && body !== null && !Array.isArray(body))) return;
	throw invalidFields("The request body must be a JSON object", [
		{ field: "body", message: `Send a JSON object, not ${jsonKind(body)}`, type: "object" },
	]);
}
