import type { Logger } from "moleculer";
import mongoose from "mongoose";

/** One login or register attempt, kept for the length of the limit's window. */
export interface AttemptDoc {
	/** The limit and what it counts: `ip:203.0.113.7`, `account:ann@example.com`. */
	key: string;
	at: Date;
	expireAt: Date;
}

/** One open Socket.IO connection of an account, on some gateway. */
export interface SocketDoc {
	/** `<gateway instance>/<socket id>`: unique across gateways. */
	_id: string;
	account: string;
	gateway: string;
	/** Renewed by its gateway while the socket is open; past it, the gateway is taken for dead. */
	expireAt: Date;
}

/** A dead store must not stall a login for the driver's default 30 s. */
const STORE_TIMEOUT_MS = 2_000;
/** While the store is failing, it is asked again only this often; meanwhile calls fall back at once. */
const RETRY_AFTER_FAILURE_MS = 5_000;
const SWEEP_EVERY_MS = 60_000;

/**
 * The gateway's own MongoDB collections, where every gateway keeps the counts that must hold for
 * the whole cluster (attempts, live sockets). Only plain inserts, deletes, counts and finds: the
 * MongoDB-wire stand-in of the tests (FerretDB) does not apply a conditional update atomically,
 * and has no TTL indexes, so expired entries are swept here rather than by the server.
 */
export class LimitStore {
	readonly attempts: mongoose.mongo.Collection<AttemptDoc>;
	readonly sockets: mongoose.mongo.Collection<SocketDoc>;
	private readonly client: mongoose.mongo.MongoClient;
	private sweeper?: NodeJS.Timeout;
	/** While the store is failing: when to ask it again. */
	private failingUntil: number | null = null;

	constructor(
		uri: string,
		private readonly logger: Logger,
	) {
		this.client = new mongoose.mongo.MongoClient(uri, {
			serverSelectionTimeoutMS: STORE_TIMEOUT_MS,
			timeoutMS: STORE_TIMEOUT_MS,
			maxPoolSize: 20,
		});
		// The database named in MONGO_URI; the driver connects on the first operation, so a store
		// that is down at start does not keep the gateway from starting.
		const db = this.client.db();
		this.attempts = db.collection<AttemptDoc>("limit_attempts");
		this.sockets = db.collection<SocketDoc>("limit_sockets");
	}

	/** Not awaited by the gateway's start: the indexes only speed counts up, and a dead store must not hold the start. */
	async start(): Promise<void> {
		this.sweeper = setInterval(() => void this.sweep(), SWEEP_EVERY_MS).unref();
		await this.use(() =>
			Promise.all([
				this.attempts.createIndex({ key: 1, at: 1 }),
				this.attempts.createIndex({ expireAt: 1 }),
				this.sockets.createIndex({ account: 1, expireAt: 1 }),
				this.sockets.createIndex({ gateway: 1 }),
			]),
		);
	}

	async stop(): Promise<void> {
		clearInterval(this.sweeper);
		await this.client.close();
	}

	/**
	 * Runs `op` against the store. When the store fails, resolves with `undefined`, so the caller
	 * falls back to this gateway's own counts, and for a few seconds the store is not asked at all
	 * (a dead store would otherwise add its timeout to every login). An outage is logged when it
	 * starts and when it ends, not once per request.
	 */
	async use<T>(op: () => Promise<T>): Promise<T | undefined> {
		if (this.failingUntil !== null && Date.now() < this.failingUntil) return undefined;
		try {
			const result = await op();
			if (this.failingUntil !== null) {
				this.failingUntil = null;
				this.logger.info("Limit store reachable again: limits count across all gateways");
			}
			return result;
		} catch (err) {
			if (this.failingUntil === null)
				this.logger.warn(`Limit store unavailable, limits count per gateway until it is back: ${(err as Error).message}`);
			this.failingUntil = Date.now() + RETRY_AFTER_FAILURE_MS;
			return undefined;
		}
	}

	private async sweep(): Promise<void> {
		const expired = { expireAt: { $lte: new Date() } };
		await this.use(() => Promise.all([this.attempts.deleteMany(expired), this.sockets.deleteMany(expired)]));
	}
}
