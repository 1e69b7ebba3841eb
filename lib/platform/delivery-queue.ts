/**
 * What Agora hands to systems outside it (order emails, webhook calls) goes through a stored
 * queue, never straight from an event handler: the handler records the item (once, by its unique
 * id) and returns, so a mail server or receiver that is down delays that item and nothing else.
 * Items go out in passes, retried with growing waits; one entity's items go out in the order they
 * happened, a later one waiting while an earlier one is pending. One entity's events come over
 * several topics, each consumed on its own, so a later one may arrive a moment before an earlier
 * one: a new item waits SETTLE_MS before its first try, time for the earlier one to arrive and go
 * first.
 *
 * Several pods may run passes over the same store. An attempt is claimed by inserting a record
 * under a unique id that names the item and its attempt number (`<item>#<n>`): of two pods, only
 * the one whose insert succeeds sends, because unique indexes hold where the test stand-in's
 * conditional updates do not (docs/architecture.md). A claim outlives its sender only if the
 * sender died mid-attempt; after CLAIM_MS another pod records that attempt as lost and goes on.
 */
import type { Logger } from "moleculer";
import type mongoose from "mongoose";
import type { CollectionSpec, DbAdapter, IndexSpec } from "./store";

export const DELIVERY_STATUSES = ["pending", "delivered", "failed"] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** The fields every queued item has; each queue keeps its own beside them. */
export interface Queued {
	id: string;
	status: DeliveryStatus;
	/** Items of one entity go out in `at` order. */
	entity: string;
	/** When the thing it tells of happened (the domain event's time). */
	at: Date;
	attempts: number;
	nextAttemptAt: Date;
	lastError: string | null;
	/** The receiver's answer to the last attempt (an HTTP status, an SMTP reply code). */
	lastStatusCode: number | null;
	deliveredAt: Date | null;
	createdAt: Date;
}

export const QUEUED_FIELDS: mongoose.SchemaDefinition = {
	status: { type: String, required: true, enum: DELIVERY_STATUSES },
	entity: { type: String, required: true },
	at: { type: Date, required: true },
	attempts: { type: Number, required: true },
	nextAttemptAt: { type: Date, required: true },
	lastError: { type: String, default: null },
	lastStatusCode: { type: Number, default: null },
	deliveredAt: { type: Date, default: null },
	createdAt: { type: Date, required: true },
};

/** The due items, oldest first; and whether an entity has an earlier item pending. */
export const QUEUED_INDEXES: IndexSpec[] = [{ fields: { status: 1, at: 1 } }, { fields: { entity: 1, status: 1, at: 1 } }];

/** The collection of a queue's claims. */
export function claimsSpec(queue: string): CollectionSpec {
	return { name: `${queue}-claims`, fields: { itemId: { type: String, required: true }, until: { type: Date, required: true } } };
}

/** How one attempt went. */
export type Outcome =
	| { delivered: true; statusCode?: number }
	| {
			delivered: false;
			error: string;
			statusCode?: number;
			/** Trying again cannot help (an address refused for good, an endpoint deleted). */
			final?: boolean;
			/** The way out is down: every item would fail the same way now, so the queue waits before it tries the next. */
			wayOutDown?: boolean;
	  };

export interface QueueOptions<T extends Queued> {
	name: string;
	items: DbAdapter;
	claims: DbAdapter;
	logger: Logger;
	/** A stored document as the item. */
	read(doc: unknown): T;
	isDuplicateKey(err: unknown): boolean;
	send(item: T): Promise<Outcome>;
	/** Attempts before an item is failed; null: until it is delivered or refused for good. */
	maxAttempts: number | null;
	/** The wait after the `attempts`-th failed attempt. */
	retryDelayMs(attempts: number): number;
	/** Items sent at once in a pass (one entity's still one at a time). */
	concurrency: number;
	/** The wait of a new item before its first try: SETTLE_MS, or 0 where items arrive in order. */
	settleMs: number;
}

/** Items read per pass; a pass that took all runs again at once. */
const BATCH = 50;
/** How long a claim stands: longer than any attempt may take (each sender bounds its own). */
export const CLAIM_MS = 120_000;
/** How long a new item waits for its entity's earlier items still on their way (see above). */
export const SETTLE_MS = 3_000;
/** How often a pass looks for due items when nothing kicks one (a new item or a retry asked for does): the retries that came due. */
const PASS_INTERVAL_MS = 5_000;

export class DeliveryQueue<T extends Queued> {
	readonly #options: QueueOptions<T>;
	#running: Promise<void> | null = null;
	#again = false;
	#stopped = false;
	#timer: NodeJS.Timeout | undefined;
	/** After the way out was found down, no pass runs before this. */
	#pausedUntil = 0;

	constructor(options: QueueOptions<T>) {
		this.#options = options;
	}

	/** Records a new item, given its own fields; false if an item with its id is there already. */
	async enqueue(doc: { _id: string; entity: string; at: Date } & Record<string, unknown>): Promise<boolean> {
		const now = new Date();
		try {
			await this.#options.items.insert({
				status: "pending",
				attempts: 0,
				nextAttemptAt: new Date(now.getTime() + this.#options.settleMs),
				lastError: null,
				lastStatusCode: null,
				deliveredAt: null,
				createdAt: now,
				...doc,
			});
		} catch (err) {
			if (this.#options.isDuplicateKey(err)) return false;
			throw err;
		}
		if (this.#options.settleMs === 0) this.kick();
		else setTimeout(() => this.kick(), this.#options.settleMs).unref();
		return true;
	}

	/** Makes an item due now, failed or pending; the pass that follows tries it. */
	async retryNow(id: string): Promise<void> {
		await this.#options.items.updateMany(
			{ _id: id, status: { $ne: "delivered" } },
			{ $set: { status: "pending", nextAttemptAt: new Date() } },
		);
		this.#pausedUntil = 0;
		this.kick();
	}

	/** Runs a pass now, or right after the running one. */
	kick(): void {
		if (this.#stopped) return;
		if (this.#running) {
			this.#again = true;
			return;
		}
		this.#running = this.#pass()
			.catch((err: Error) =>
				this.#options.logger.warn(`${this.#options.name}: a delivery pass failed (${err.message}); the next one retries`),
			)
			.finally(() => {
				this.#running = null;
				if (this.#again) {
					this.#again = false;
					this.kick();
				}
			});
	}

	start(): void {
		this.#timer = setInterval(() => this.kick(), PASS_INTERVAL_MS);
		this.#timer.unref();
		this.kick();
	}

	/** Stops passing and waits for the attempts under way, so none is cut off and left claimed. */
	async stop(): Promise<void> {
		this.#stopped = true;
		clearInterval(this.#timer);
		await this.#running;
	}

	async #pass(): Promise<void> {
		if (Date.now() < this.#pausedUntil) return;
		const { items, read, concurrency } = this.#options;
		const due = (await items.find({ query: { status: "pending", nextAttemptAt: { $lte: new Date() } }, sort: ["at"], limit: BATCH })).map(
			read,
		);
		let next = 0;
		let waited = false;
		let finished = false;
		const worker = async () => {
			while (next < due.length && Date.now() >= this.#pausedUntil && !this.#stopped) {
				const item = due[next++] as T;
				if (await this.#waitsForEarlier(item)) {
					waited = true;
					continue;
				}
				const outcome = await this.#attempt(item);
				if (outcome && (outcome.delivered || outcome.final)) finished = true;
				if (outcome && !outcome.delivered && outcome.wayOutDown)
					this.#pausedUntil = Date.now() + this.#options.retryDelayMs(item.attempts + 1);
			}
		};
		await Promise.all(Array.from({ length: Math.min(concurrency, due.length) }, worker));
		// A full batch, or an item that waited for one that has now gone out: there is more to send now.
		if (due.length === BATCH || (waited && finished)) this.#again = true;
	}

	async #waitsForEarlier(item: T): Promise<boolean> {
		const earlier = await this.#options.items.count({ query: { entity: item.entity, status: "pending", at: { $lt: item.at } } });
		return earlier > 0;
	}

	/** Claims, sends and records one attempt; null if another sender has it or it changed meanwhile. */
	async #attempt(seen: T): Promise<Outcome | null> {
		const { items, claims, read, isDuplicateKey, send, logger, name } = this.#options;
		const claimId = `${seen.id}#${seen.attempts}`;
		try {
			await claims.insert({ _id: claimId, itemId: seen.id, until: new Date(Date.now() + CLAIM_MS) });
		} catch (err) {
			if (!isDuplicateKey(err)) throw err;
			await this.#takeOverIfAbandoned(seen, claimId);
			return null;
		}
		try {
			// Read after claiming: a sender that finished this attempt before the claim was made has moved the item on.
			const doc = await items.findById(seen.id);
			const item = doc ? read(doc) : null;
			if (item?.status !== "pending" || item.attempts !== seen.attempts) return null;
			let outcome: Outcome;
			try {
				outcome = await send(item);
			} catch (err) {
				outcome = { delivered: false, error: (err as Error).message };
			}
			await this.#record(item, outcome);
			if (!outcome.delivered) logger.info(`${name}: ${item.id} not delivered (attempt ${item.attempts + 1}): ${outcome.error}`);
			return outcome;
		} finally {
			await claims.removeById(claimId).catch((err: Error) => logger.warn(`${name}: could not release claim ${claimId}: ${err.message}`));
		}
	}

	/** Absolute values, applied only to the attempt they are about: a repeat or a late writer changes nothing. */
	async #record(item: T, outcome: Outcome): Promise<void> {
		const attempts = item.attempts + 1;
		const now = new Date();
		const update = outcome.delivered
			? { status: "delivered", attempts, lastStatusCode: outcome.statusCode ?? null, lastError: null, deliveredAt: now }
			: {
					status: outcome.final || (this.#options.maxAttempts !== null && attempts >= this.#options.maxAttempts) ? "failed" : "pending",
					attempts,
					lastStatusCode: outcome.statusCode ?? null,
					lastError: outcome.error.slice(0, 500),
					nextAttemptAt: new Date(now.getTime() + this.#options.retryDelayMs(attempts)),
				};
		await this.#options.items.updateMany({ _id: item.id, status: "pending", attempts: item.attempts }, { $set: update });
	}

	/** A claim past its time was left by a sender that died mid-attempt: that attempt is recorded as lost. */
	async #takeOverIfAbandoned(item: T, claimId: string): Promise<void> {
		const claim = (await this.#options.claims.findById(claimId)) as { until: Date | string } | null;
		if (!claim || new Date(claim.until).getTime() > Date.now()) return;
		await this.#record(item, { delivered: false, error: "The sender stopped before the outcome of its attempt was known" });
		await this.#options.claims.removeById(claimId);
	}
}

/** Waits that double from `firstMs`, up to `maxMs`. */
export function doublingDelay(firstMs: number, maxMs: number): (attempts: number) => number {
	return (attempts) => Math.min(maxMs, firstMs * 2 ** Math.max(0, attempts - 1));
}
