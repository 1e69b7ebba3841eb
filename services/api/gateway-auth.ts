/**
 * Who is calling through the gateway, and whether they may: a bearer token becomes its user while
 * the account exists, and each action's declared access (`auth`) is checked against that user,
 * for REST requests and socket calls alike.
 */
import type { Context, Service, ServiceBroker } from "moleculer";
import ApiGateway from "moleculer-web";
import type { ErrorType } from "../../lib/contracts/errors";
import { type AuthUser, verifyToken } from "../../lib/platform/tokens";
import type { ActionAccess } from "../../types/moleculer";

const { UnAuthorizedError, ForbiddenError, ERR_INVALID_TOKEN, ERR_NO_TOKEN } = ApiGateway.Errors;

/** How long a gateway trusts that a token's account exists (users.exists caches as long). */
const ACCOUNT_CHECK_TTL_SECONDS = 30;

/** What of the gateway service the checks use: its broker to call and cache, its logger. */
type Gateway = Pick<Service, "broker" | "logger">;

/**
 * The bearer of a valid token whose account still exists: a deleted account's tokens stop
 * working within a minute (this gateway and users.exists each remember a yes for 30 s). While the
 * accounts service cannot be asked (its pods are away, its database is down), the signature alone
 * vouches for the token, so signed-in customers keep shopping; only a deletion made meanwhile goes
 * unnoticed until it answers again.
 */
export async function tokenUser(gateway: Gateway, ctx: Context | null, token: string): Promise<AuthUser | null> {
	const user = verifyToken(token);
	if (!user) return null;
	const { broker } = gateway;
	// Not a remote call per request only to hear "yes" again.
	const known = `api.accountExists:${user.id}`;
	if (await broker.cacher?.get(known)) return user;
	let exists: boolean;
	try {
		exists = await (ctx ?? broker).call<boolean, { id: string }>("users.exists", { id: user.id });
	} catch (err) {
		gateway.logger.debug("Cannot check a token's account; its signature vouches for it:", (err as Error).message);
		return user;
	}
	if (exists) await broker.cacher?.set(known, true, ACCOUNT_CHECK_TTL_SECONDS);
	return exists ? user : null;
}

/** The user of a request's `Authorization` header: none without one, a 401 unless it is a valid `Bearer` token. */
export async function requestUser(gateway: Gateway, ctx: Context, header: string | undefined): Promise<AuthUser | null> {
	if (!header) return null;
	const [scheme, token] = header.split(" ");
	const user = scheme === "Bearer" && token ? await tokenUser(gateway, ctx, token) : null;
	if (!user) throw new UnAuthorizedError(ERR_INVALID_TOKEN, null);
	return user;
}

/** Checks the bearer against the action's declared access; no `auth` means signed-in users only. */
export function authorizeAccess(access: ActionAccess, user: AuthUser | undefined): void {
	if (access === "public") return;
	if (!user) throw new UnAuthorizedError(ERR_NO_TOKEN, null);
	if (access === "admin" && user.role !== "admin") throw new ForbiddenError("ADMIN_ONLY" satisfies ErrorType, { message: "Admins only" });
	if (access === "customer" && user.role !== "customer")
		throw new ForbiddenError("CUSTOMERS_ONLY" satisfies ErrorType, { message: "Only customer accounts can do this" });
}

/** The declared access of an action some node hosts; signed-in users only when no node hosts it (the call fails anyway). */
export function actionAccess(broker: ServiceBroker, action: string): ActionAccess {
	const endpoint = broker.findNextActionEndpoint(action);
	return endpoint instanceof Error ? "user" : ((endpoint.action as { auth?: ActionAccess }).auth ?? "user");
}
