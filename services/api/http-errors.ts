/**
 * What a client sees of an error: the JSON body of every error answer (REST and socket calls), the
 * cluster's troubles told as temporary, and nothing of the internals. Services raise the errors a
 * client may see through `shopError` and `invalidFields` (lib/platform/shop-error.ts).
 */
import { Errors } from "moleculer";
import ApiGateway from "moleculer-web";
import { ERROR_TYPES, type ErrorBody, type ErrorType, type GatewayVerdict, isErrorType } from "../../lib/contracts/errors";

const { ServiceUnavailableError } = ApiGateway.Errors;

/**
 * The gateway's own word on the shop's state (unavailable, timed out, not ready), not an error a
 * service raised: a plain MoleculerError, as clients have always seen it named.
 */
export function gatewayVerdict(type: GatewayVerdict, message: string, data?: unknown): Errors.MoleculerError {
	return new Errors.MoleculerError(message, ERROR_TYPES[type].status, type, data);
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
	// A type outside the catalogue (a library's own) is no contract a client could rely on.
	return { name: err.name, message: err.message, code: err.code, type: isErrorType(err.type) ? err.type : undefined, data };
}

/**
 * Moleculer's words for "that part of the cluster is down or busy" (no node hosts the action, the
 * node left, the transporter is gone). For a client it is the shop's temporary trouble, not a
 * missing page (Moleculer says 404) and not a reason to see node ids.
 */
const UNAVAILABLE = new Set(["SERVICE_NOT_FOUND", "SERVICE_NOT_AVAILABLE", "REQUEST_REJECTED", "REQUEST_SKIPPED", "BAD_GATEWAY"]);
/** How long a client is asked to wait (`Retry-After`) when part of the shop is unavailable. */
export const RETRY_AFTER_SECONDS = 5;

/** The service an unavailable call was for: named by the action it called, or the route's own action. */
function unavailableService(err: Errors.MoleculerError, routeAction: string | undefined): string | undefined {
	const action = (err.data as { action?: unknown } | undefined)?.action;
	return (typeof action === "string" ? action : routeAction)?.split(".")[0];
}

/**
 * The answer a client gets for `err`: the cluster's unavailability (naming the service that is away)
 * and timeouts as 503 and 504; anything else as it is. `routeAction` is the action the request's
 * route calls, for moleculer-web's own "no node hosts it", which names none.
 */
export function clientFacing(err: Errors.MoleculerError, routeAction?: string): Errors.MoleculerError {
	// moleculer-web's own verdict when no node hosts the route's action: same answer.
	if (UNAVAILABLE.has(err.type) || err instanceof ServiceUnavailableError) {
		const service = unavailableService(err, routeAction);
		return service
			? gatewayVerdict("SERVICE_UNAVAILABLE", `The ${service} service is unavailable right now: try again shortly`, { service })
			: gatewayVerdict("SERVICE_UNAVAILABLE", "Part of the shop is unavailable right now: try again shortly");
	}
	if (err.type === "REQUEST_TIMEOUT") return gatewayVerdict("TIMEOUT", "The shop took too long to answer: try again");
	return err;
}

/** 405: the path exists, but not for this method; `allowed` names the methods it has. */
export class MethodNotAllowedError extends Errors.MoleculerClientError {
	constructor(method: string | undefined, allowed: readonly string[]) {
		super(`${method} is not allowed here; use ${allowed.join(" or ")}`, 405, "METHOD_NOT_ALLOWED" satisfies ErrorType, { method, allowed });
		this.name = "MethodNotAllowedError";
	}
}
