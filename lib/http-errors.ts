/**
 * What a client sees of an error: the JSON body of every error answer (REST and socket calls), the
 * cluster's troubles told as temporary, and nothing of the internals.
 */
import { Errors } from "moleculer";
import ApiGateway from "moleculer-web";

const { ServiceUnavailableError } = ApiGateway.Errors;

export interface ErrorBody {
	name: string;
	message: string;
	code: number;
	type?: string;
	data?: unknown;
}

/** Errors raised before any action ran (body parsing) come from body-parser, not Moleculer. */
const BODY_PARSER_ERRORS: Record<string, Omit<ErrorBody, "code">> = {
	"entity.parse.failed": { name: "BadRequestError", message: "The request body is not valid JSON", type: "INVALID_JSON" },
	"entity.too.large": { name: "PayloadTooLargeError", message: "The request body is too large", type: "PAYLOAD_TOO_LARGE" },
	"encoding.unsupported": { name: "UnsupportedMediaTypeError", message: "Unsupported body encoding", type: "UNSUPPORTED_ENCODING" },
};

/** The body of an error answer (moleculer-web's `reformatError`). */
export function errorBody(err: Errors.MoleculerError & { type?: string }): ErrorBody {
	const parser = err.type ? BODY_PARSER_ERRORS[err.type] : undefined;
	if (parser) return { ...parser, code: err.code };
	if (!Number.isInteger(err.code) || err.code < 400 || err.code === 500 || err.code > 599) {
		// Internals stay in the log; the client learns only that it was not its fault.
		return { name: "InternalServerError", message: "Something went wrong on our side", code: 500 };
	}
	const data = Array.isArray(err.data)
		? // Validation errors would echo the rejected value back, passwords included.
			err.data.map(({ actual: _actual, ...field }: Record<string, unknown>) => field)
		: err.data;
	return { name: err.name, message: err.message, code: err.code, type: err.type, data };
}

/**
 * Moleculer's words for "that part of the cluster is down or busy" (no node hosts the action, the
 * node left, the transporter is gone). For a client it is the shop's temporary trouble, not a
 * missing page (Moleculer says 404) and not a reason to see node ids.
 */
const UNAVAILABLE = new Set(["SERVICE_NOT_FOUND", "SERVICE_NOT_AVAILABLE", "REQUEST_REJECTED", "REQUEST_SKIPPED", "BAD_GATEWAY"]);
/** How long a client is asked to wait (`Retry-After`) when part of the shop is unavailable. */
export const RETRY_AFTER_SECONDS = 5;

/** The answer a client gets for `err`: the cluster's unavailability and timeouts as 503 and 504; anything else as it is. */
export function clientFacing(err: Errors.MoleculerError): Errors.MoleculerError {
	// moleculer-web's own verdict when no node hosts the route's action: same answer.
	if (UNAVAILABLE.has(err.type) || err instanceof ServiceUnavailableError)
		return new Errors.MoleculerError("Part of the shop is unavailable right now: try again shortly", 503, "SERVICE_UNAVAILABLE");
	if (err.type === "REQUEST_TIMEOUT") return new Errors.MoleculerError("The shop took too long to answer: try again", 504, "TIMEOUT");
	return err;
}

/** 405: the path exists, but not for this method; `allowed` names the methods it has. */
export class MethodNotAllowedError extends Errors.MoleculerClientError {
	constructor(method: string | undefined, allowed: readonly string[]) {
		super(`${method} is not allowed here; use ${allowed.join(" or ")}`, 405, "METHOD_NOT_ALLOWED", { method, allowed });
		this.name = "MethodNotAllowedError";
	}
}
