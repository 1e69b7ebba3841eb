import { AsyncLocalStorage } from "node:async_hooks";
import type { IncomingMessage } from "node:http";
import type { CallingOptions, Context, Service } from "moleculer";
import type { AuthUser } from "./tokens";

/**
 * Request ids across the cluster. The gateway takes `X-Request-Id` (or makes one) as the
 * Moleculer context's `requestID`, which Moleculer copies into every nested call. Two things
 * do not see a context on their own: log lines, and domain events published from deep inside a
 * service. This module keeps the context of the action or channel message being handled in an
 * AsyncLocalStorage (the broker middleware `middlewares/request-context.ts` fills it), so both
 * can find it without a `ctx` parameter threaded through every method.
 */

/** What the gateway puts in the meta of the action a request calls, and what the action may set on its answer. */
export interface GatewayMeta {
	user?: AuthUser;
	idempotencyKey?: string;
	/** A guest's key to one order (the `Order-Token` header). */
	orderToken?: string;
	/** A guest's key to their cart (the `Cart-Secret` header). */
	cartSecret?: string;
	$statusCode?: number;
	$location?: string;
}

const handling = new AsyncLocalStorage<Context>();

/**
 * A request id from the client or a proxy (`X-Request-Id`) becomes the context's requestID if it
 * is a plain token; anything else (too long, odd characters) is replaced by a fresh one, so logs
 * and headers never carry what a client smuggled in. moleculer-web echoes it in the response.
 */
export function requestIdFromHeader(options: CallingOptions, req: IncomingMessage): void {
	const given = req.headers["x-request-id"];
	options.requestID = typeof given === "string" && /^[\w.:-]{1,128}$/.test(given) ? given : undefined;
}

/** The context of the action or channel message this code runs for, if any (timers have none). */
export function currentContext(): Context | undefined {
	return handling.getStore();
}

/** Runs `work` as handling `ctx`: everything it calls, awaits or logs finds that context. */
export function runInContext<T>(ctx: Context, work: () => T): T {
	return handling.run(ctx, work);
}

/**
 * What a published domain event keeps of the context that published it: the request id, the
 * parent call and the tracing flag. Plain data, because the event may wait in the journal and be
 * sent later by another process. Not the caller's `meta` (its token claims, idempotency key, HTTP
 * status): a consumer acts for the system, not for the user whose request started the chain.
 */
export type RequestOrigin = Pick<Context, "id" | "requestID" | "tracing" | "level">;

export function requestOrigin(ctx: Context): RequestOrigin {
	return { id: ctx.id, requestID: ctx.requestID, tracing: ctx.tracing, level: ctx.level };
}

/** The context @moleculer/channels turns into message headers and back into the consumer's context. */
export type EventOrigin = RequestOrigin & Pick<Context, "service" | "meta" | "headers">;

/** `publisher` is the service publishing: a channel handler's context names none. */
export function eventOrigin(origin: RequestOrigin, publisher: Service): EventOrigin {
	return { ...origin, service: publisher, meta: {}, headers: {} };
}

type PrintArgs = (args: unknown[]) => unknown[];

/**
 * Moleculer's `json` log line plus the `requestId` of the request being handled, so a log
 * collector can gather every line of one request from every pod.
 */
export function jsonLogFormatter(
	type: string,
	args: unknown[],
	bindings: Record<string, unknown>,
	{ printArgs }: { printArgs: PrintArgs },
) {
	const requestId = handling.getStore()?.requestID;
	return [
		JSON.stringify({ ts: Date.now(), level: type, msg: printArgs(args).join(" "), ...bindings, ...(requestId ? { requestId } : {}) }),
	];
}
