import { setTimeout as sleep } from "node:timers/promises";
import type { Context, Errors, ServiceSchema, ServiceSettingSchema } from "moleculer";
import { onEvent } from "../../lib/contracts/events";
import { mergeLines, type OrderLine } from "../../lib/contracts/orders";
import { invalidFields, shopError } from "../../lib/platform/shop-error";
import type { DbAdapter, Entity } from "../../lib/platform/store";
import type { AuthUser } from "../../lib/platform/tokens";
import { type DbMethods, type DbVars, dbMixin } from "../../mixins/db.mixin";
import { type DomainEventMethods, domainEventsMixin, type OutgoingEvent } from "../../mixins/domain-events.mixin";

/** Stock of one product, as the API shows it. */
export interface StockLevel {
	productId: string;
	available: number;
	reserved: number;
	lowStockThreshold: number;
}

/** The latest known level of a product (`_id` is the product id): a projection of its ledger for listings. */
interface StockDoc extends Entity {
	available: number;
	reserved: number;
	seq: number;
	lowStockThreshold: number;
	updatedAt: Date;
}

type MovementKind = "init" | "reserve" | "commit" | "release" | "restock" | "adjust";

/**
 * One line of a product's stock ledger: the change and the level after it. The ledger is the
 * truth. Two unique keys make every change safe without transactions or atomic updates (which
 * not every MongoDB-wire server gives): `seqKey` lets only one writer append the next line of a
 * product, so no two changes can both spend the same units; `key` names the business step
 * (an order's reservation, its release...) so a step repeated by a redelivered event is a no-op.
 */
interface Movement extends Entity {
	seqKey: string;
	key: string;
	productId: string;
	seq: number;
	orderId: string | null;
	kind: MovementKind;
	/** Change of `available`. */
	delta: number;
	/** Change of `reserved`. */
	reservedDelta: number;
	available: number;
	reserved: number;
	quantity: number;
	reason: string;
	by: string;
	at: Date;
}

type MovementPlan = Pick<Movement, "key" | "kind" | "delta" | "reservedDelta" | "quantity" | "reason" | "by" | "orderId">;

/** The level a writer plans from: the ledger's last line, or the projection that copies it (with the threshold). */
type Level = Pick<Movement, "available" | "reserved" | "seq"> & { lowStockThreshold?: number };

/** A movement written now, with the level before it; null when its key had already been written. */
type Applied = { movement: Movement; before: Level } | null;

interface InventoryMethods extends DbMethods, DomainEventMethods {
	ledger(): DbAdapter;
	latest(productId: string): Promise<Movement>;
	projected(productId: string): Promise<StockDoc | null>;
	thresholdOf(productId: string): Promise<number>;
	levelOf(productId: string): Promise<StockLevel>;
	apply(productId: string, plan: (current: Level) => MovementPlan): Promise<Applied>;
	appendLine(productId: string, plan: (current: Level) => MovementPlan): Promise<Applied>;
	hasStep(key: string): Promise<Movement | null>;
	announce(applied: Applied[]): Promise<void>;
	settle(orderId: string, outcome: "commit" | "release", reason: string): Promise<void>;
}

const QUANTITY = { type: "number", integer: true, positive: true, max: 10_000 } as const;
const PRODUCT_ID = { type: "string", min: 1, max: 64 } as const;
const ORDER_ID = { type: "string", min: 1, max: 64 } as const;

/** The journal's record that an order's stock goes back on sale: a reservation arriving after it gives back what it took. */
const releasedDecision = (orderId: string) => `${orderId}:released`;

/** Writers racing for a product's next ledger line retry this often before giving up. */
const MAX_ATTEMPTS = 200;

function outOfStock(productId: string, requested: number, available: number): Errors.MoleculerError {
	return shopError("OUT_OF_STOCK", "Not enough stock", { productId, requested, available });
}

/** The tail of each product's queue of writers on this node. */
const productQueues = new Map<string, Promise<unknown>>();

const InventoryService: ServiceSchema<ServiceSettingSchema, InventoryMethods, DbVars> = {
	name: "inventory",
	mixins: [
		dbMixin(
			{
				name: "inventory",
				fields: {
					available: { type: Number, required: true },
					reserved: { type: Number, required: true },
					seq: { type: Number, required: true },
					lowStockThreshold: { type: Number, required: true, min: 0 },
					updatedAt: { type: Date, required: true },
				},
				indexes: [{ fields: { available: 1 } }],
			},
			[
				{
					name: "stock-movements",
					fields: {
						seqKey: { type: String, required: true },
						key: { type: String, required: true },
						productId: { type: String, required: true },
						seq: { type: Number, required: true },
						orderId: { type: String, default: null },
						kind: { type: String, required: true },
						delta: { type: Number, required: true },
						reservedDelta: { type: Number, required: true },
						available: { type: Number, required: true },
						reserved: { type: Number, required: true },
						quantity: { type: Number, required: true },
						reason: { type: String, default: "" },
						by: { type: String, default: "system" },
						at: { type: Date, required: true },
					},
					indexes: [
						{ fields: { seqKey: 1 }, unique: true },
						{ fields: { key: 1 }, unique: true },
						{ fields: { productId: 1, seq: -1 } },
						{ fields: { orderId: 1 } },
					],
				},
			],
		),
		domainEventsMixin,
	],

	actions: {
		get: {
			auth: "public",
			params: { productId: PRODUCT_ID },
			async handler(ctx: Context<{ productId: string }>) {
				return this.levelOf(ctx.params.productId);
			},
		},

		/** Internal: stock of many products at once, keyed by product id (unknown ids are left out). */
		availability: {
			visibility: "public",
			params: { productIds: { type: "array", items: "string", max: 200 } },
			// Every catalogue page asks this. Each stock change clears it on every node; the short
			// TTL bounds what a read racing that clear could leave behind. Orders never read it.
			cache: { keys: ["productIds"], ttl: 5 },
			async handler(ctx: Context<{ productIds: string[] }>) {
				const docs = await this.findByIds(ctx.params.productIds);
				return Object.fromEntries(
					docs.map((doc) => {
						const { id, available, reserved, lowStockThreshold } = this.toEntity<StockDoc>(doc);
						return [id, { productId: id, available, reserved, lowStockThreshold }];
					}),
				);
			},
		},

		lowStock: {
			auth: "admin",
			async handler() {
				const docs = await this.adapter.find({ query: {}, sort: ["available"] });
				return docs
					.map((doc) => this.toEntity<StockDoc>(doc))
					.filter((doc) => doc.available <= doc.lowStockThreshold)
					.map(({ id, available, reserved, lowStockThreshold }) => ({ productId: id, available, reserved, lowStockThreshold }));
			},
		},

		movements: {
			auth: "admin",
			params: { productId: PRODUCT_ID, limit: { type: "number", integer: true, min: 1, max: 500, convert: true, default: 50 } },
			async handler(ctx: Context<{ productId: string; limit: number }>) {
				await this.latest(ctx.params.productId);
				const docs = await this.ledger().find({ query: { productId: ctx.params.productId }, sort: ["-seq"], limit: ctx.params.limit });
				return docs.map((doc) => {
					const { seqKey: _seqKey, ...movement } = this.toEntity<Movement>(doc);
					return movement;
				});
			},
		},

		/** Internal: the stock record of a new product. Repeating it changes nothing. */
		init: {
			visibility: "public",
			params: {
				productId: PRODUCT_ID,
				available: { type: "number", integer: true, min: 0 },
				lowStockThreshold: { type: "number", integer: true, min: 0 },
			},
			async handler(ctx: Context<{ productId: string; available: number; lowStockThreshold: number }>) {
				const { productId, available, lowStockThreshold } = ctx.params;
				const at = new Date();
				const first = { seqKey: `${productId}#0`, key: `init:${productId}`, productId, seq: 0, orderId: null, kind: "init" };
				try {
					await this.ledger().insert({
						_id: this.newId(),
						...first,
						delta: available,
						reservedDelta: 0,
						available,
						reserved: 0,
						quantity: available,
						reason: "new product",
						by: "system",
						at,
					});
					await this.adapter.insert({ _id: productId, available, reserved: 0, seq: 0, lowStockThreshold, updatedAt: at });
					await this.clearCache();
				} catch (err) {
					if (!this.isDuplicateKey(err)) throw err;
				}
				return this.levelOf(productId);
			},
		},

		setThreshold: {
			visibility: "public",
			params: { productId: PRODUCT_ID, lowStockThreshold: { type: "number", integer: true, min: 0 } },
			async handler(ctx: Context<{ productId: string; lowStockThreshold: number }>) {
				await this.latest(ctx.params.productId);
				await this.adapter.updateById(ctx.params.productId, { $set: { lowStockThreshold: ctx.params.lowStockThreshold } });
				await this.clearCache();
				return this.levelOf(ctx.params.productId);
			},
		},

		/** Internal: holds every line of an order, or none: lines taken before a shortfall are given back. */
		reserve: {
			visibility: "public",
			params: {
				orderId: ORDER_ID,
				items: { type: "array", min: 1, max: 100, items: { type: "object", props: { productId: PRODUCT_ID, quantity: QUANTITY } } },
			},
			async handler(ctx: Context<{ orderId: string; items: OrderLine[] }>) {
				const { orderId } = ctx.params;
				const applied: Applied[] = [];
				try {
					for (const { productId, quantity } of mergeLines(ctx.params.items)) {
						applied.push(
							await this.apply(productId, (current) => {
								if (current.available < quantity) throw outOfStock(productId, quantity, current.available);
								return {
									key: `${orderId}:${productId}:reserve`,
									kind: "reserve",
									delta: -quantity,
									reservedDelta: quantity,
									quantity,
									orderId,
									reason: "order placed",
									by: "system",
								};
							}),
						);
					}
					// A release that read the order's reservations before these lines were written missed
					// them (recovery fails a placement whose node died while this call was on its way);
					// it recorded its decision before that read, so it is seen here and they go back.
					if (await this.hasDecided(releasedDecision(orderId)))
						throw shopError("ORDER_RELEASED", "The order was released while its stock was being reserved", {
							orderId,
						});
				} catch (err) {
					// Give back what this call took; the settle key makes a later release of the order a no-op.
					for (const taken of [...applied]) {
						if (!taken) continue;
						const { productId, quantity } = taken.movement;
						applied.push(
							await this.apply(productId, () => ({
								key: `${orderId}:${productId}:settle`,
								kind: "release",
								delta: quantity,
								reservedDelta: -quantity,
								quantity,
								orderId,
								reason: "order not placed",
								by: "system",
							})),
						);
					}
					throw err;
				} finally {
					await this.announce(applied);
				}
				return {
					orderId,
					items: applied.flatMap((step) => (step ? [{ productId: step.movement.productId, quantity: step.movement.quantity }] : [])),
				};
			},
		},

		/** Internal: the order failed or was cancelled; its units go back on sale. Repeating it changes nothing. */
		release: {
			visibility: "public",
			params: { orderId: ORDER_ID, reason: { type: "string", max: 200, default: "order released" } },
			async handler(ctx: Context<{ orderId: string; reason: string }>) {
				await this.settle(ctx.params.orderId, "release", ctx.params.reason);
			},
		},

		adjust: {
			auth: "admin",
			params: {
				productId: PRODUCT_ID,
				delta: { type: "number", integer: true, min: -1_000_000, max: 1_000_000, optional: true },
				set: { type: "number", integer: true, min: 0, max: 1_000_000, optional: true },
				reason: { type: "string", trim: true, min: 1, max: 200 },
				// Said so in the OpenAPI document (oneOf); the validator ignores `$$` keys, the handler checks it.
				$$exactlyOne: ["delta", "set"],
			},
			async handler(ctx: Context<{ productId: string; delta?: number; set?: number; reason: string }, { user?: AuthUser }>) {
				const { productId, delta, set, reason } = ctx.params;
				// The validator lets null through for an optional field; the document says a number.
				const nulled = Object.entries({ delta, set }).filter(([, value]) => value === null);
				if (nulled.length > 0)
					throw invalidFields(
						"Amounts cannot be null",
						nulled.map(([field]) => ({ field, message: `The '${field}' field cannot be null`, type: "required" })),
					);
				if ((delta === undefined) === (set === undefined))
					throw invalidFields("Give either delta or set", [
						{ field: "delta", message: "Give either 'delta' or 'set', not both or neither", type: "exactlyOne" },
					]);
				const key = `adjust:${this.newId()}`;
				const applied = await this.apply(productId, (current) => {
					const change = delta ?? (set as number) - current.available;
					if (current.available + change < 0)
						throw shopError("NEGATIVE_STOCK", "Stock cannot go below zero", {
							productId,
							available: current.available,
							delta: change,
						});
					return {
						key,
						kind: "adjust",
						delta: change,
						reservedDelta: 0,
						quantity: Math.abs(change),
						orderId: null,
						reason,
						by: ctx.meta.user?.id ?? "operator",
					};
				});
				await this.announce([applied]);
				return this.levelOf(productId);
			},
		},
	},

	channels: {
		"order.updated": onEvent("order.updated", "inventory", async function commitOrReleaseSettledOrder(order) {
			if (order.status === "confirmed") await this.settle(order.id, "commit", "order paid");
			if (order.status === "failed") await this.settle(order.id, "release", "payment failed");
		}),
		"order.cancelled": onEvent("order.cancelled", "inventory", async function releaseCancelledOrder(order) {
			await this.settle(order.id, "release", "order cancelled");
		}),
		"product.deleted": onEvent("product.deleted", "inventory", async function forgetDeletedProduct(product) {
			await this.adapter.removeById(product.id);
		}),
	},

	methods: {
		ledger() {
			const ledger = this.collections["stock-movements"];
			if (!ledger) throw new Error("stock ledger is not open");
			return ledger;
		},

		async latest(productId: string) {
			const [doc] = await this.ledger().find({ query: { productId }, sort: ["-seq"], limit: 1 });
			if (!doc) throw shopError("PRODUCT_NOT_FOUND", "No stock record for this product", { productId });
			return this.toEntity<Movement>(doc);
		},

		async projected(productId: string) {
			const doc = await this.adapter.findById(productId);
			return doc ? this.toEntity<StockDoc>(doc) : null;
		},

		async thresholdOf(productId: string) {
			const doc = await this.adapter.findById(productId);
			return doc ? this.toEntity<StockDoc>(doc).lowStockThreshold : 0;
		},

		async levelOf(productId: string) {
			const { available, reserved } = await this.latest(productId);
			return { productId, available, reserved, lowStockThreshold: await this.thresholdOf(productId) };
		},

		async hasStep(key: string) {
			const doc = await this.ledger().findOne({ key });
			return doc ? this.toEntity<Movement>(doc) : null;
		},

		/**
		 * Appends the product's next ledger line, planned from its current level. Another writer
		 * that appended first makes the insert fail on `seqKey`: read the new level and plan again.
		 * A failure on `key` means this step was done before (the unique index answers that, so no
		 * lookup first). The first plan reads the projection, one document by id, which is the last
		 * line unless a writer has not updated it yet: then the insert fails on `seqKey` (or the
		 * plan refuses on a stale level) and the next attempts read the ledger itself.
		 */
		async apply(productId, plan) {
			// Writers of one product on this node queue up instead of racing for the same line;
			// the unique `seqKey` still decides between nodes.
			const previous = productQueues.get(productId) ?? Promise.resolve();
			const turn = previous.then(() => this.appendLine(productId, plan));
			const settled = turn.catch(() => undefined);
			productQueues.set(productId, settled);
			settled.then(() => {
				if (productQueues.get(productId) === settled) productQueues.delete(productId);
			});
			return turn;
		},

		async appendLine(productId, plan) {
			for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
				const before: Level = (attempt === 0 && (await this.projected(productId))) || (await this.latest(productId));
				let step: MovementPlan;
				try {
					step = plan(before);
				} catch (err) {
					if (attempt === 0) continue;
					throw err;
				}
				const movement = {
					...step,
					_id: this.newId(),
					seqKey: `${productId}#${before.seq + 1}`,
					productId,
					seq: before.seq + 1,
					available: before.available + step.delta,
					reserved: before.reserved + step.reservedDelta,
					at: new Date(),
				};
				try {
					await this.ledger().insert(movement);
				} catch (err) {
					if (!this.isDuplicateKey(err)) throw err;
					if (await this.hasStep(step.key)) return null;
					await sleep(Math.random() * Math.min(50, 2 ** Math.min(attempt, 6)));
					continue;
				}
				// The projection only moves forward; a late writer never rolls it back.
				await this.adapter.updateMany(
					{ _id: productId, seq: { $lt: movement.seq } },
					{ $set: { available: movement.available, reserved: movement.reserved, seq: movement.seq, updatedAt: movement.at } },
				);
				await this.clearCache();
				const { _id, ...fields } = movement;
				return { movement: { id: _id, ...fields }, before };
			}
			throw shopError("STOCK_BUSY", "Stock of this product is changing too fast: try again", { productId });
		},

		/**
		 * Settles each line an order reserved, once: sold on commit, back on sale on release. A
		 * release after a commit (a paid order cancelled) puts the sold units back too.
		 */
		async settle(orderId, outcome, reason) {
			// Before the reservations are read: a reservation still on its way then sees it (see `reserve`).
			if (outcome === "release") await this.decideOnce(releasedDecision(orderId));
			const reservations = (await this.ledger().find({ query: { orderId, kind: "reserve" } })).map((doc) => this.toEntity<Movement>(doc));
			const applied: Applied[] = [];
			for (const { productId, quantity } of reservations) {
				const line = { quantity, orderId, reason, by: "system", key: `${orderId}:${productId}:settle` };
				if (outcome === "commit") {
					applied.push(await this.apply(productId, () => ({ ...line, kind: "commit", delta: 0, reservedDelta: -quantity })));
					continue;
				}
				const settled = await this.hasStep(line.key);
				if (!settled)
					applied.push(await this.apply(productId, () => ({ ...line, kind: "release", delta: quantity, reservedDelta: -quantity })));
				else if (settled.kind === "commit")
					applied.push(
						await this.apply(productId, () => ({
							...line,
							key: `${orderId}:${productId}:restock`,
							kind: "restock",
							delta: quantity,
							reservedDelta: 0,
						})),
					);
			}
			await this.announce(applied);
		},

		/**
		 * Tells everyone each new level, and admins when a change takes a product to or under its
		 * threshold: only the one ledger line that crosses it reports, so one alert per crossing.
		 */
		async announce(applied: Applied[]) {
			const events: OutgoingEvent[] = [];
			for (const step of applied) {
				if (!step) continue;
				const { movement, before } = step;
				const { productId, available, reserved } = movement;
				const threshold = before.lowStockThreshold ?? (await this.thresholdOf(productId));
				events.push(this.domainEvent("inventory.updated", { productId, available, reserved, lowStockThreshold: threshold }, productId));
				if (!(before.available > threshold && available <= threshold)) continue;
				const [product] = await this.broker
					.call<{ id: string; name: string }[], { ids: string[] }>("products.getMany", { ids: [productId] })
					.catch(() => []);
				events.push(
					this.domainEvent("inventory.low-stock", { productId, name: product?.name ?? productId, available, threshold }, productId),
				);
			}
			await this.publishEvents(events);
		},
	},
};

export default InventoryService;
