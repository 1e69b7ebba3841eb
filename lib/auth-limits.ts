import { Errors } from "moleculer";
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import type { AuthRateLimit } from "./settings";

/** 429: the client must wait `retryAfterSeconds` (sent as `Retry-After`). */
export class TooManyAttemptsError extends Errors.MoleculerClientError {
	constructor(readonly retryAfterSeconds: number) {
		super("Too many attempts: try again later", 429, "TOO_MANY_ATTEMPTS", { retryAfter: retryAfterSeconds });
	}
}

/** The account a login or register request is about, as the users service normalises emails; null without a usable one. */
export function accountKey(params: unknown): string | null {
	const email = typeof params === "object" && params !== null && "email" in params ? params.email : undefined;
	return typeof email === "string" && email.trim() !== "" ? email.trim().toLowerCase() : null;
}

/**
 * Brute-force limits on login and register, per client IP and per account. Every attempt counts
 * against its IP; against its account, attempts count until one succeeds, so a guesser locks
 * only the one account it guesses at, and only for the window. Counts live in this gateway's
 * memory: with several gateways each keeps its own (a shared store would need atomic increments
 * that FerretDB does not give).
 */
export class AuthLimiter {
	private readonly perIp: RateLimiterMemory;
	private readonly perAccount: RateLimiterMemory;

	constructor(limits: AuthRateLimit) {
		this.perIp = new RateLimiterMemory({ keyPrefix: "auth-ip", points: limits.perIp, duration: limits.windowSeconds });
		this.perAccount = new RateLimiterMemory({ keyPrefix: "auth-account", points: limits.perAccount, duration: limits.windowSeconds });
	}

	/** Counts one attempt; throws TooManyAttemptsError when its IP or its account is over the limit. */
	async attempt(ip: string, account: string | null): Promise<void> {
		try {
			await this.perIp.consume(ip);
			if (account) await this.perAccount.consume(account);
		} catch (err) {
			if (err instanceof RateLimiterRes) throw new TooManyAttemptsError(Math.max(1, Math.ceil(err.msBeforeNext / 1000)));
			throw err;
		}
	}

	/** A successful login or registration: the account's failed attempts are forgotten. */
	async succeeded(account: string): Promise<void> {
		await this.perAccount.delete(account);
	}
}
