import { Errors } from "moleculer";
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import type { ErrorType } from "../../lib/contracts/errors";
import type { AuthRateLimit } from "../../lib/platform/settings";
import type { LimitStore } from "./limit-store";

/** 429: the client must wait `retryAfterSeconds` (sent as `Retry-After`). */
export class TooManyAttemptsError extends Errors.MoleculerClientError {
	constructor(readonly retryAfterSeconds: number) {
		super("Too many attempts: try again later", 429, "TOO_MANY_ATTEMPTS" satisfies ErrorType, { retryAfter: retryAfterSeconds });
	}
}

const tooMany = (ms: number) => new TooManyAttemptsError(Math.max(1, Math.ceil(ms / 1000)));

/** The account a login or register request is about, as the users service normalises emails; null without a usable one. */
export function accountKey(params: unknown): string | null {
	const email = typeof params === "object" && params !== null && "email" in params ? params.email : undefined;
	return typeof email === "string" && email.trim() !== "" ? email.trim().toLowerCase() : null;
}

/** Attempts per key within a window. */
interface AttemptCounter {
	/** Counts one attempt under `key`; throws TooManyAttemptsError when the key is over its limit. */
	consume(key: string): Promise<void>;
	forget(key: string): Promise<void>;
}

/** This process's own counts (a fixed window per key): the embedded mode's, and a gateway's while the store is down. */
class MemoryCounter implements AttemptCounter {
	private readonly limiter: RateLimiterMemory;

	constructor(name: string, limit: number, windowSeconds: number) {
		this.limiter = new RateLimiterMemory({ keyPrefix: name, points: limit, duration: windowSeconds });
	}

	async consume(key: string): Promise<void> {
		try {
			await this.limiter.consume(key);
		} catch (err) {
			if (err instanceof RateLimiterRes) throw tooMany(err.msBeforeNext);
			throw err;
		}
	}

	async forget(key: string): Promise<void> {
		await this.limiter.delete(key);
	}
}

/**
 * One count for every gateway: each attempt is a document of its own (a sliding-window log), and
 * an attempt is allowed when, after its own insert, the window holds no more than the limit.
 * Inserts and counts are all it needs from the database, no conditional update: of any attempts
 * racing for the last places, each sees at least the inserts that landed before its own, so at
 * most `limit` pass (a race may refuse one attempt too many, never let one too many through).
 * When the store fails, the attempt is counted in this gateway's memory instead: logins keep
 * working, bounded per gateway, rather than stopping for every shopper over a database outage.
 */
class SharedCounter implements AttemptCounter {
	constructor(
		private readonly store: LimitStore,
		private readonly name: string,
		private readonly limit: number,
		private readonly windowMs: number,
		private readonly insurance: MemoryCounter,
	) {}

	async consume(key: string): Promise<void> {
		const waitMs = await this.store.use(() => this.hit(`${this.name}:${key}`));
		if (waitMs === undefined) return this.insurance.consume(key);
		if (waitMs > 0) throw tooMany(waitMs);
	}

	async forget(key: string): Promise<void> {
		await Promise.all([this.store.use(() => this.store.attempts.deleteMany({ key: `${this.name}:${key}` })), this.insurance.forget(key)]);
	}

	/** 0 when the attempt is allowed, else how long until the oldest attempt in the window expires. */
	private async hit(key: string): Promise<number> {
		const now = Date.now();
		const inWindow = { key, at: { $gt: new Date(now - this.windowMs) } };
		// Refused attempts are not stored (beyond a race's few), so a flood cannot grow the log.
		if ((await this.store.attempts.countDocuments(inWindow)) < this.limit) {
			await this.store.attempts.insertOne({ key, at: new Date(now), expireAt: new Date(now + this.windowMs) });
			if ((await this.store.attempts.countDocuments(inWindow)) <= this.limit) return 0;
		}
		const oldest = await this.store.attempts.findOne(inWindow, { sort: { at: 1 } });
		return Math.max(1, (oldest?.at.getTime() ?? now) + this.windowMs - now);
	}
}

/**
 * Brute-force limits on login and register, per client address and per account. Every attempt
 * counts against its address; against its account, attempts count until one succeeds, so a
 * guesser locks only the one account it guesses at, and only for the window. With a store
 * (the distributed mode) the counts are the cluster's, else this process's.
 */
export class AuthLimiter {
	private readonly perAddress: AttemptCounter;
	private readonly perAccount: AttemptCounter;

	constructor(limits: AuthRateLimit, store: LimitStore | null) {
		const counter = (name: string, limit: number): AttemptCounter => {
			const memory = new MemoryCounter(name, limit, limits.windowSeconds);
			return store ? new SharedCounter(store, name, limit, limits.windowSeconds * 1000, memory) : memory;
		};
		this.perAddress = counter("ip", limits.perIp);
		this.perAccount = counter("account", limits.perAccount);
	}

	/** Counts one attempt; throws TooManyAttemptsError when its client address or its account is over the limit. */
	async attempt(address: string, account: string | null): Promise<void> {
		await this.perAddress.consume(address);
		if (account) await this.perAccount.consume(account);
	}

	/** A successful login or registration: the account's failed attempts are forgotten. */
	async succeeded(account: string): Promise<void> {
		await this.perAccount.forget(account);
	}
}
