/**
 * Each product's stock as a ledger of numbered lines (`stock-movements`): a change appends line
 * n+1 under a unique `seqKey` (`<productId>#<n+1>`), so of racing writers exactly one wins and the
 * others plan again from the new level; a second unique key names the business step
 * (`<order>:<product>:reserve`, `...:settle`), so a step repeated by a redelivered event is a
 * no-op. That needs only unique indexes, not atomic conditional updates, which the test stand-in
 * (FerretDB) does not give. The projection (`inventory`, one document per product) copies the
 * last line for reads; this node remembers each product's last level it wrote, so a writer plans
 * without reading either, and a stale memory only costs a retry.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { StockLevel } from "../../lib/contracts/actions";
import { shopError } from "../../lib/platform/shop-error";
import type { CollectionSpec, DbAdapter, Entity } from "../../lib/platform/store";
import type { OutgoingEvent } from "../../mixins/domain-events.mixin";

export type MovementKind = "init" | "reserve" | "commit" | "release" | "restock" | "adjust" | "hold" | "unhold" | "void";

/** One line of a product's ledger: the change, and the level after it. */
export interface Movement extends Entity {
	seqKey: string;
	key: string;
	productId: string;
	/** The line's place in the product's ledger; -1 for a `void` line, which changes nothing and has no place. */
	seq: number;
	orderId: string | null;
	/** The checkout hold (a cart) the line holds units for, or takes them from. */
	holdId: string | null;
	kind: MovementKind;
	/** Change of `available`. */
	delta: number;
	/** Change of `reserved`. */
	reservedDelta: number;
	/** Change of `held`. */
	heldDelta: number;
	available: number;
	reserved: number;
	held: number;
	quantity: number;
	reason: string;
	by: string;
	at: Date;
}

/** What a writer decides from the level it sees; the ledger numbers and stores it. */
export type MovementPlan = Pick<Movement, "key" | "kind" | "delta" | "reservedDelta" | "quantity" | "reason" | "by" | "orderId"> &
	Partial<Pick<Movement, "heldDelta" | "holdId">>;

/** A product's level: what a writer plans from. */
export interface Level {
	available: number;
	reserved: number;
	held: number;
	seq: number;
	lowStockThreshold: number;
}

/** A line written now, with the level before it; null when its step had been written before. */
export type Applied = { movement: Movement; before: Level } | null;

/** Plans the next line from the product's level, or null when there is nothing to write. May read (a hold's units). */
export type Planner = (level: Level) => MovementPlan | null | Promise<MovementPlan | null>;

/** The projection's document of a product (`_id` is the product id). */
interface StockDoc extends Entity, Level {
	updatedAt: Date;
	/** At or under the threshold: the admins' low-stock list reads this, through its index. */
	low: boolean;
}

export const LEDGER = "stock-movements";

export const LEDGER_SPEC: CollectionSpec = {
	name: LEDGER,
	fields: {
		seqKey: { type: String, required: true },
		key: { type: String, required: true },
		productId: { type: String, required: true },
		seq: { type: Number, required: true },
		orderId: { type: String, default: null },
		holdId: { type: String, default: null },
		kind: { type: String, required: true },
		delta: { type: Number, required: true },
		reservedDelta: { type: Number, required: true },
		heldDelta: { type: Number, default: 0 },
		available: { type: Number, required: true },
		reserved: { type: Number, required: true },
		held: { type: Number, default: 0 },
		quantity: { type: Number, required: true },
		reason: { type: String, default: "" },
		by: { type: String, default: "system" },
		at: { type: Date, required: true },
	},
	indexes: [
		{ fields: { seqKey: 1 }, unique: true },
		{ fields: { key: 1 }, unique: true },
		{ fields: { productId: 1, seq: -1 } },
		{ fields: { holdId: 1, productId: 1 } },
	],
	// A line carries the level notices it causes, so a crash cannot keep a change and lose its notice.
	outbox: true,
};

export const LEVELS_SPEC: CollectionSpec = {
	name: "inventory",
	fields: {
		available: { type: Number, required: true },
		reserved: { type: Number, required: true },
		held: { type: Number, default: 0 },
		seq: { type: Number, required: true },
		lowStockThreshold: { type: Number, required: true, min: 0 },
		low: { type: Boolean, required: true },
		updatedAt: { type: Date, required: true },
	},
	indexes: [{ fields: { low: 1, available: 1 } }],
};

/** Writers racing for a product's next line retry this often before giving up. */
const MAX_ATTEMPTS = 200;

/** What the ledger needs of the inventory service that owns it. */
export interface LedgerHost {
	lines: DbAdapter;
	levels: DbAdapter;
	newId(): string;
	isDuplicateKey(err: unknown): boolean;
	toEntity<T extends Entity>(doc: unknown): T;
	/** Inserts a line with the events it carries (the outbox). */
	insertCarrying(doc: { _id: string } & Record<string, unknown>, events: OutgoingEvent[]): Promise<void>;
	/** The notices a line causes, decided before it is written. */
	noticesOf(productId: string, before: Level, after: Level): Promise<OutgoingEvent[]>;
	/** Drops cached stock reads. */
	stockChanged(): void;
}

export const levelView = (productId: string, { available, reserved, held, lowStockThreshold }: Level): StockLevel => ({
	productId,
	available,
	reserved,
	held,
	lowStockThreshold,
});

export class StockLedger {
	/** The tail of each product's queue of writers on this node: they queue instead of racing for the same line. */
	private readonly queues = new Map<string, Promise<unknown>>();
	/** The last level this node wrote or read of each product. */
	private readonly known = new Map<string, Level>();

	constructor(private readonly host: LedgerHost) {}

	/** The product's level from the projection; null for a product with no stock record (never made, or deleted). */
	async level(productId: string): Promise<Level | null> {
		const doc = await this.host.levels.findById(productId);
		return doc ? this.host.toEntity<StockDoc>(doc) : null;
	}

	/**
	 * The product's level from its ledger's last line, the truth (the projection may be a write
	 * behind); null for a product with no stock record.
	 */
	async current(productId: string): Promise<Level | null> {
		return (await this.level(productId)) && this.latest(productId);
	}

	/** The line of a business step, if it was written. */
	async step(key: string): Promise<Movement | null> {
		const doc = await this.host.lines.findOne({ key });
		return doc ? this.host.toEntity<Movement>(doc) : null;
	}

	/** The units a hold keeps of a product now: the sum of its lines' `heldDelta`. */
	async heldBy(holdId: string, productId: string): Promise<number> {
		const lines = await this.host.lines.find({ query: { holdId, productId } });
		return lines.reduce<number>((sum, doc) => sum + (this.host.toEntity<Movement>(doc).heldDelta ?? 0), 0);
	}

	/** The products a hold has lines of. */
	async productsOf(holdId: string): Promise<string[]> {
		const lines = await this.host.lines.find({ query: { holdId } });
		return [...new Set(lines.map((doc) => this.host.toEntity<Movement>(doc).productId))].sort();
	}

	/** The first line of a new product, and its projection; repeating it changes nothing. */
	async open(productId: string, available: number, lowStockThreshold: number): Promise<void> {
		const at = new Date();
		const level: Level = { available, reserved: 0, held: 0, seq: 0, lowStockThreshold };
		try {
			await this.host.insertCarrying(
				{
					_id: this.host.newId(),
					seqKey: `${productId}#0`,
					key: `init:${productId}`,
					productId,
					seq: 0,
					orderId: null,
					holdId: null,
					kind: "init",
					delta: available,
					reservedDelta: 0,
					heldDelta: 0,
					available,
					reserved: 0,
					held: 0,
					quantity: available,
					reason: "new product",
					by: "system",
					at,
				},
				[],
			);
			await this.host.levels.insert({ _id: productId, ...level, low: available <= lowStockThreshold, updatedAt: at });
		} catch (err) {
			if (!this.host.isDuplicateKey(err)) throw err;
		}
		this.known.set(productId, level);
	}

	async setThreshold(productId: string, lowStockThreshold: number): Promise<Level> {
		const level = await this.level(productId);
		if (!level) throw shopError("PRODUCT_NOT_FOUND", "No stock record for this product", { productId });
		await this.host.levels.updateById(productId, { $set: { lowStockThreshold, low: level.available <= lowStockThreshold } });
		this.known.delete(productId);
		this.host.stockChanged();
		return { ...level, lowStockThreshold };
	}

	/** A product is no longer sold: its level goes (its ledger stays, as history). */
	async close(productId: string): Promise<void> {
		await this.host.levels.removeById(productId);
		this.known.delete(productId);
		this.host.stockChanged();
	}

	/**
	 * A line that makes step `key` impossible from now on, for an order released before its
	 * reservation arrived (a placement undone while its call to inventory was still on its way):
	 * the reservation then finds its key taken and gives back what it took. False if the step had
	 * been written first.
	 */
	async forbid(key: string, productId: string, orderId: string, reason: string): Promise<boolean> {
		try {
			await this.host.insertCarrying(
				{
					_id: this.host.newId(),
					seqKey: `${productId}#void:${key}`,
					key,
					productId,
					seq: -1,
					orderId,
					holdId: null,
					kind: "void",
					delta: 0,
					reservedDelta: 0,
					heldDelta: 0,
					available: 0,
					reserved: 0,
					held: 0,
					quantity: 0,
					reason,
					by: "system",
					at: new Date(),
				},
				[],
			);
			return true;
		} catch (err) {
			if (!this.host.isDuplicateKey(err)) throw err;
			return false;
		}
	}

	/**
	 * Appends the product's next line, planned by `plan` from its current level. Writers of one
	 * product on this node queue up; the unique `seqKey` still decides between nodes: another
	 * writer that appended first makes the insert fail on it, and the next attempt plans from the
	 * ledger's own last line. A failure on `key` means this step was written before: null.
	 */
	apply(productId: string, plan: Planner): Promise<Applied> {
		const previous = this.queues.get(productId) ?? Promise.resolve();
		const turn = previous.then(() => this.append(productId, plan));
		const settled = turn.catch(() => undefined);
		this.queues.set(productId, settled);
		settled.then(() => {
			if (this.queues.get(productId) === settled) this.queues.delete(productId);
		});
		return turn;
	}

	private async append(productId: string, plan: Planner): Promise<Applied> {
		for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
			// The first attempt trusts what this node last saw; any later one reads the ledger itself.
			const before = (attempt === 0 && (this.known.get(productId) ?? (await this.level(productId)))) || (await this.latest(productId));
			let step: MovementPlan | null;
			try {
				step = await plan(before);
			} catch (err) {
				// A refusal planned from a level that may be stale is checked against the ledger once.
				if (attempt === 0) {
					this.known.delete(productId);
					continue;
				}
				throw err;
			}
			if (!step) return null;
			const heldDelta = step.heldDelta ?? 0;
			const after: Level = {
				available: before.available + step.delta,
				reserved: before.reserved + step.reservedDelta,
				held: before.held + heldDelta,
				seq: before.seq + 1,
				lowStockThreshold: before.lowStockThreshold,
			};
			const movement = {
				...step,
				holdId: step.holdId ?? null,
				heldDelta,
				_id: this.host.newId(),
				seqKey: `${productId}#${after.seq}`,
				productId,
				seq: after.seq,
				available: after.available,
				reserved: after.reserved,
				held: after.held,
				at: new Date(),
			};
			try {
				await this.host.insertCarrying(movement, await this.host.noticesOf(productId, before, after));
			} catch (err) {
				if (!this.host.isDuplicateKey(err)) throw err;
				this.known.delete(productId);
				if (await this.step(step.key)) return null;
				await sleep(Math.random() * Math.min(50, 2 ** Math.min(attempt, 6)));
				continue;
			}
			this.known.set(productId, after);
			// The projection only moves forward; a late writer never rolls it back.
			await this.host.levels.updateMany(
				{ _id: productId, seq: { $lt: after.seq } },
				{
					$set: {
						available: after.available,
						reserved: after.reserved,
						held: after.held,
						seq: after.seq,
						low: after.available <= after.lowStockThreshold,
						updatedAt: movement.at,
					},
				},
			);
			this.host.stockChanged();
			const { _id, ...fields } = movement;
			return { movement: { id: _id, ...fields }, before };
		}
		throw shopError("STOCK_BUSY", "Stock of this product is changing too fast: try again", { productId });
	}

	/** The ledger's last line as a level (with the threshold of the projection). */
	async latest(productId: string): Promise<Level> {
		const [doc] = await this.host.lines.find({ query: { productId, seq: { $gte: 0 } }, sort: ["-seq"], limit: 1 });
		const projected = await this.level(productId);
		if (!doc || !projected) throw shopError("PRODUCT_NOT_FOUND", "No stock record for this product", { productId });
		const { available, reserved, held = 0, seq } = this.host.toEntity<Movement>(doc);
		return { available, reserved, held, seq, lowStockThreshold: projected.lowStockThreshold };
	}
}
