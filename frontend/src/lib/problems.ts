/** Turns the API's error answers into what a form or a cart line shows. */
import type { ErrorBody, FieldProblem } from "../api/types";

/** Messages keyed by the form field they belong to. */
export type FieldErrors = Record<string, string>;

function isFieldProblem(value: unknown): value is FieldProblem {
	return typeof value === "object" && value !== null && typeof (value as FieldProblem).field === "string";
}

/**
 * Field messages of a 422 (`data` lists `{field, message}`), or of a conflict on one field such
 * as a taken email (409 with `data.field`). The first message per field wins: it is the most basic.
 */
export function fieldErrors(body: ErrorBody): FieldErrors {
	const errors: FieldErrors = {};
	const problems = Array.isArray(body.data) ? body.data : [body.data];
	for (const problem of problems) {
		if (!isFieldProblem(problem)) continue;
		errors[problem.field] ??= problem.message || body.message;
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
	if (body.code !== 409 || body.data == null) return [];
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
