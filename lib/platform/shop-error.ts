/**
 * How services raise the errors a client may see: by the catalogue of lib/contracts/errors.ts, so
 * a type cannot be misspelled and its status cannot drift. The gateway turns them into answers.
 */
import { Errors } from "moleculer";
import { ERROR_TYPES, type ErrorType, type FieldProblem, type GatewayVerdict } from "../contracts/errors";

/**
 * The error of a catalogue type, with the catalogue's status. One a client may repeat as it is
 * (`again`) is retryable; any other below 500 is a client error, which callers read as "refused
 * for sure, nothing was done".
 */
export function shopError(
	type: Exclude<ErrorType, "VALIDATION_ERROR" | GatewayVerdict>,
	message: string,
	data?: unknown,
): Errors.MoleculerError {
	const kind: { status: number; again?: true } = ERROR_TYPES[type];
	if (kind.again) return new Errors.MoleculerRetryableError(message, kind.status, type, data);
	return kind.status < 500
		? new Errors.MoleculerClientError(message, kind.status, type, data)
		: new Errors.MoleculerError(message, kind.status, type, data);
}

/** 422 for input that breaks a rule the parameter schema cannot say: `problems` names each field. */
export function invalidFields(message: string, problems: FieldProblem[]): Errors.ValidationError {
	return new Errors.ValidationError(message, "VALIDATION_ERROR", problems);
}

/**
 * 422 naming each of `fields` that is null: the validator lets null through for an optional field,
 * while the OpenAPI document (and the handler) take only a value or nothing.
 */
export function refuseNulls(message: string, fields: Record<string, unknown>): void {
	const nulled = Object.entries(fields).filter(([, value]) => value === null);
	if (nulled.length > 0)
		throw invalidFields(
			message,
			nulled.map(([field]) => ({ field, message: `The '${field}' field cannot be null`, type: "required" })),
		);
}

/** Whether `err` is the catalogue's error `type` (raised here, or by another node and carried back). */
export function isShopError(err: unknown, type: ErrorType): boolean {
	return err instanceof Errors.MoleculerError && err.type === type;
}
