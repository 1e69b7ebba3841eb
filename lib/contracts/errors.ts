/**
 * The error catalogue: every `type` an error answer can carry, with its HTTP status. Services
 * raise errors by it (`shopError` in services/api/http-errors.ts), docs/api.md's error table is checked
 * against it, and the web app reads answers by it. It imports nothing, so the browser bundle
 * takes it as it is.
 */

interface ErrorKind {
	status: number;
	/**
	 * The request did nothing yet, and the same request (same `Idempotency-Key`) may succeed when
	 * sent again later: the shop was busy, or the first of two identical requests is still at it.
	 */
	again?: true;
}

export const ERROR_TYPES = {
	INVALID_JSON: { status: 400 },
	NO_TOKEN: { status: 401 },
	INVALID_TOKEN: { status: 401 },
	INVALID_CREDENTIALS: { status: 401 },
	ACCOUNT_GONE: { status: 401 },
	ADMIN_ONLY: { status: 403 },
	CUSTOMERS_ONLY: { status: 403 },
	ORDER_ID_REQUIRED: { status: 403 },
	NOT_FOUND: { status: 404 },
	PRODUCT_NOT_FOUND: { status: 404 },
	ORDER_NOT_FOUND: { status: 404 },
	CART_NOT_FOUND: { status: 404 },
	METHOD_NOT_ALLOWED: { status: 405 },
	OUT_OF_STOCK: { status: 409 },
	ILLEGAL_TRANSITION: { status: 409 },
	ORDER_CHANGED: { status: 409 },
	NEGATIVE_STOCK: { status: 409 },
	EMAIL_TAKEN: { status: 409 },
	SKU_TAKEN: { status: 409 },
	MIXED_CURRENCIES: { status: 409 },
	CART_EMPTY: { status: 409 },
	ORDER_BEING_PLACED: { status: 409, again: true },
	PAYLOAD_TOO_LARGE: { status: 413 },
	UNSUPPORTED_ENCODING: { status: 415 },
	VALIDATION_ERROR: { status: 422 },
	TOO_MANY_ATTEMPTS: { status: 429, again: true },
	RATE_LIMITED: { status: 429, again: true },
	SERVICE_UNAVAILABLE: { status: 503, again: true },
	NOT_READY: { status: 503, again: true },
	DATABASE_UNAVAILABLE: { status: 503, again: true },
	STOCK_BUSY: { status: 503, again: true },
	PLACEMENT_UNDONE: { status: 503, again: true },
	ORDER_RELEASED: { status: 503, again: true },
	TIMEOUT: { status: 504, again: true },
} as const satisfies Record<string, ErrorKind>;

export type ErrorType = keyof typeof ERROR_TYPES;

/** What the gateway answers of the shop's state on its own; services never raise these. */
export type GatewayVerdict = "SERVICE_UNAVAILABLE" | "TIMEOUT" | "NOT_READY";

export function isErrorType(type: unknown): type is ErrorType {
	return typeof type === "string" && Object.hasOwn(ERROR_TYPES, type);
}

/** Why the gateway refuses a Socket.IO connection (the `connect_error` message). */
export type SocketRefusal = "INVALID_TOKEN" | "TOO_MANY_CONNECTIONS";

/** One failing field of a 422 (`data` lists them), or the field a 409 is about (`data.field`). */
export interface FieldProblem {
	field: string;
	message: string;
	/** The validator's rule that failed (`required`, `stringMax`...), or a service's own word. */
	type?: string;
	/** The rule's limit, such as the longest length allowed. */
	expected?: unknown;
}

/** Every error answer, REST and socket calls alike: `data` lists field problems for a 422, details otherwise. */
export interface ErrorBody {
	name: string;
	message: string;
	code: number;
	type?: ErrorType;
	data?: unknown;
}

/**
 * True when the answer says for sure that the request was refused and stays refused as it is: a
 * client must change it, and send it as a new request (a new `Idempotency-Key`). A time-out, the
 * shop being busy, or an identical request still being placed say nothing of the sort.
 */
export function refusedForGood({ code, type }: ErrorBody): boolean {
	// An answer is data from outside: a type this build does not know is taken as final.
	return code >= 400 && code < 500 && !(isErrorType(type) && "again" in ERROR_TYPES[type]);
}
