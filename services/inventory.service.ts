import { type Context, Errors, type ServiceSchema, type ServiceSettingSchema } from "moleculer";
import { mergeLines, type OrderLine } from "../lib/orders";
import type { AuthUser } from "../lib/tokens";
import { type DbAdapter, type DbMethods, type DbVars, dbMixin, type Entity } from "../mixins/db.mixin";
import { type DomainEvent, type DomainEventMethods, domainEventsMixin } from "../mixins/domain-events.mixin";

/** Stock of one product; `_id` is the product id. */
export interface StockLevel {
	productId: string;
	available: number;
	reserved: number;
	lowStockThreshold: number;
}

interface StockDoc extends Entity {
	available: number;
	reserved: number;
	lowStockThreshold: number;
	/** Set when available fell to the threshold, cleared when it rose above: one alert per crossing. */
	lowStockAlerted: boolean;
	updatedAt: Date;
}

type MovementKind = "init" | "reserve" | "commit" | "release" | "restock" | "adjust";

/** One line of the stock ledger. Its unique `key` makes each step of an order happen once. */
interface Movement extends Entity {
	key: string;
	productId: string;
	orderId: string | null;
	kind: MovementKind;
	/** Change of `available` (a commit changes only `reserved`). */
	delta: number;
	quantity: number;
	reason: string;
	by: string;
	at: Date;
}

interface OrderSnapshot {
	id: string;
	status: string;
}

interface InventoryMethods extends DbMethods, DomainEventMethods {
	ledger(): DbAdapter;
	stockOf(productId: string): Promise<StockDoc>;
	level(doc: StockDoc): StockLevel;
	record(movement: Omit<Movement, "id" | "at">): Promise<boolean>;
	move(productId: string, change: { available?: number; reserved?: number }, guard?: object): Promise<boolean>;
	afterChange(productIds: string[]): Promise<void>;
	settle(orderId: string, outcome: "commit" | "release", reason: string): Promise<void>;
}

const QUANTITY = { type: "number", integer: true, positive: true, max: 10_000 } as const;
const PRODUCT_ID = { type: "string", min: 1, max: 64 } as const;

function outOfStock(productId: string, requested: number, available: number): Errors.MoleculerClientError {
	return new Errors.MoleculerClientError("Not enough stock", 409, "OUT_OF_STOCK", { productId, requested, available });
}

const InventoryService: ServiceSchema<ServiceSettingSchema, InventoryMethods, DbVars> = {
	name: "inventory",
	mixins: [
		dbMixin(
			{
				name: "inventory",
				fields: {
					available: { type: Number, required: true, min: 0 },
					reserved: { type: Number, required: true, min: 0 },
					lowStockThreshold: { type: Number, required: true, min: 0 },
					lowStockAlerted: { type: Boolean, default: false },
					updatedAt: { type: Date, required: true },
				},
				indexes: [{ fields: { available: 1 } }],
			},
			[
				{
					name: "stock-movements",
					fields: {
						key: { type: String, required: true },
						productId: { type: String, required: true },
						orderId: { type: String, default: null },
						kind: { type: String, required: true },
						delta: { type: Number, required: true },
						quantity: { type: Number, required: true },
						reason: { type: String, default: "" },
						by: { type: String, default: "system" },
						at: { type: Date, required: true },
					},
					indexes: [{ fields: { key: 1 }, unique: true }, { fields: { orderId: 1 } }, { fields: { productId: 1, at: -1 } }],
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
				return this.level(await this.stockOf(ctx.params.productId));
			},
		},

		/** Internal: stock of many products at once, keyed by product id (unknown ids are left out). */
		availability: {
			visibility: "public",
			params: { productIds: { type: "array", items: "string", max: 200 } },
			async handler(ctx: Context<{ productIds: string[] }>) {
				const docs = await this.adapter.find({ query: { _id: { $in: ctx.params.productIds } } });
				return Object.fromEntries(docs.map((doc) => this.level(this.toEntity<StockDoc>(doc))).map((level) => [level.productId, level]));
			},
		},

		lowStock: {
			auth: "admin",
			async handler() {
				const docs = await this.adapter.find({ query: {}, sort: ["available"] });
				return docs
					.map((doc) => this.toEntity<StockDoc>(doc))
					.filter((doc) => doc.available <= doc.lowStockThreshold)
					.map((doc) => this.level(doc));
			},
		},

		movements: {
			auth: "admin",
			params: { productId: PRODUCT_ID, limit: { type: "number", integer: true, min: 1, max: 500, convert: true, default: 50 } },
			async handler(ctx: Context<{ productId: string; limit: number }>) {
				await this.stockOf(ctx.params.productId);
				const docs = await this.ledger().find({ query: { productId: ctx.params.productId }, sort: ["-at"], limit: ctx.params.limit });
				return docs.map((doc) => this.toEntity<Movement>(doc, this.ledger()));
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
				if (
					await this.record({
						key: `init:${productId}`,
						productId,
						orderId: null,
						kind: "init",
						delta: available,
						quantity: available,
						reason: "new product",
						by: "system",
					})
				) {
					await this.adapter.insert({
						_id: productId,
						available,
						reserved: 0,
						lowStockThreshold,
						lowStockAlerted: false,
						updatedAt: new Date(),
					});
					await this.afterChange([productId]);
				}
				return this.level(await this.stockOf(productId));
			},
		},

		setThreshold: {
			visibility: "public",
			params: { productId: PRODUCT_ID, lowStockThreshold: { type: "number", integer: true, min: 0 } },
			async handler(ctx: Context<{ productId: string; lowStockThreshold: number }>) {
				await this.stockOf(ctx.params.productId);
				await this.adapter.updateById(ctx.params.productId, { $set: { lowStockThreshold: ctx.params.lowStockThreshold } });
				await this.afterChange([ctx.params.productId]);
				return this.level(await this.stockOf(ctx.params.productId));
			},
		},

		/**
		 * Internal: holds every line of an order, or none. Each decrement is one conditional update
		 * (`available >= quantity`), so concurrent orders can never take stock below zero.
		 */
		reserve: {
			visibility: "public",
			params: {
				orderId: { type: "string", min: 1, max: 64 },
				items: { type: "array", min: 1, max: 100, items: { type: "object", props: { productId: PRODUCT_ID, quantity: QUANTITY } } },
			},
			async handler(ctx: Context<{ orderId: string; items: OrderLine[] }>) {
				const { orderId } = ctx.params;
				const held: OrderLine[] = [];
				try {
					for (const { productId, quantity } of mergeLines(ctx.params.items)) {
						if (!(await this.move(productId, { available: -quantity, reserved: quantity }, { available: { $gte: quantity } }))) {
							const stock = await this.adapter.findById(productId);
							if (!stock) throw new Errors.MoleculerClientError("Product not found", 404, "PRODUCT_NOT_FOUND", { productId });
							throw outOfStock(productId, quantity, this.toEntity<StockDoc>(stock).available);
						}
						const key = `${orderId}:${productId}:reserve`;
						if (
							!(await this.record({
								key,
								productId,
								orderId,
								kind: "reserve",
								delta: -quantity,
								quantity,
								reason: "order placed",
								by: "system",
							}))
						) {
							// This order already holds it (a retried call): give back what we just took.
							await this.move(productId, { available: quantity, reserved: -quantity });
							continue;
						}
						held.push({ productId, quantity });
					}
				} catch (err) {
					for (const { productId, quantity } of held) {
						await this.ledger().removeMany({ key: `${orderId}:${productId}:reserve` });
						await this.move(productId, { available: quantity, reserved: -quantity });
					}
					throw err;
				} finally {
					if (held.length > 0) await this.afterChange(held.map((line) => line.productId));
				}
				return { orderId, items: held };
			},
		},

		/** Internal: the order is paid; its reserved units are sold. Repeating it changes nothing. */
		commit: {
			visibility: "public",
			params: { orderId: { type: "string", min: 1, max: 64 } },
			async handler(ctx: Context<{ orderId: string }>) {
				await this.settle(ctx.params.orderId, "commit", "order paid");
			},
		},

		/** Internal: the order failed or was cancelled; its units go back on sale. Repeating it changes nothing. */
		release: {
			visibility: "public",
			params: { orderId: { type: "string", min: 1, max: 64 }, reason: { type: "string", max: 200, default: "order released" } },
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
			},
			async handler(ctx: Context<{ productId: string; delta?: number; set?: number; reason: string }, { user?: AuthUser }>) {
				const { productId, delta, set, reason } = ctx.params;
				if ((delta === undefined) === (set === undefined))
					throw new Errors.ValidationError("Give either delta or set", "VALIDATION_ERROR", [
						{ field: "delta", message: "Give either 'delta' or 'set', not both or neither", type: "required" },
					]);
				let change = 0;
				for (let attempt = 0; attempt < 5; attempt++) {
					const current = await this.stockOf(productId);
					change = delta ?? (set as number) - current.available;
					if (current.available + change < 0)
						throw new Errors.MoleculerClientError("Stock cannot go below zero", 409, "NEGATIVE_STOCK", {
							productId,
							available: current.available,
							delta: change,
						});
					// `set` is relative to the value read; if an order moved it meanwhile, read again.
					const guard = set === undefined ? { available: { $gte: -change } } : { available: current.available };
					if (await this.move(productId, { available: change }, guard)) break;
					if (attempt === 4) throw new Errors.MoleculerRetryableError("Stock is changing too fast, try again", 409, "BUSY", { productId });
				}
				await this.record({
					key: `adjust:${this.newId()}`,
					productId,
					orderId: null,
					kind: "adjust",
					delta: change,
					quantity: Math.abs(change),
					reason,
					by: ctx.meta.user?.id ?? "operator",
				});
				await this.afterChange([productId]);
				return this.level(await this.stockOf(productId));
			},
		},
	},

	channels: {
		"order.updated": {
			group: "inventory",
			async handler(ctx) {
				const { data: order } = ctx.params as DomainEvent<OrderSnapshot>;
				if (order.status === "confirmed") await this.settle(order.id, "commit", "order paid");
				if (order.status === "failed") await this.settle(order.id, "release", "payment failed");
			},
		},
		"order.cancelled": {
			group: "inventory",
			async handler(ctx) {
				const { data: order } = ctx.params as DomainEvent<OrderSnapshot>;
				await this.settle(order.id, "release", "order cancelled");
			},
		},
		"product.deleted": {
			group: "inventory",
			async handler(ctx) {
				const { data } = ctx.params as DomainEvent<{ id: string }>;
				await this.adapter.removeById(data.id);
			},
		},
	},

	methods: {
		ledger() {
			const ledger = this.collections["stock-movements"];
			if (!ledger) throw new Error("stock ledger is not open");
			return ledger;
		},

		async stockOf(productId: string) {
			const doc = await this.adapter.findById(productId);
			if (!doc) throw new Errors.MoleculerClientError("No stock record for this product", 404, "PRODUCT_NOT_FOUND", { productId });
			return this.toEntity<StockDoc>(doc);
		},

		level({ id, available, reserved, lowStockThreshold }: StockDoc): StockLevel {
			return { productId: id, available, reserved, lowStockThreshold };
		},

		/** Writes a ledger line; false when a line with its key exists (the step already happened). */
		async record(movement) {
			try {
				await this.ledger().insert({ _id: this.newId(), ...movement, at: new Date() });
				return true;
			} catch (err) {
				if (this.isDuplicateKey(err)) return false;
				throw err;
			}
		},

		/** One atomic update of a stock record, applied only if `guard` still holds. */
		async move(productId, change, guard = {}) {
			const changed = await this.adapter.updateMany({ _id: productId, ...guard }, { $inc: change, $set: { updatedAt: new Date() } });
			return changed === 1;
		},

		/**
		 * Settles each line an order reserved, once: sold on commit, back on sale on release. A
		 * release after a commit (a paid order cancelled) puts the sold units back too. Ledger lines
		 * are written before stock moves, so a crash in between holds stock back, never oversells.
		 */
		async settle(orderId, outcome, reason) {
			const reservations = (await this.ledger().find({ query: { orderId, kind: "reserve" } })).map((doc) =>
				this.toEntity<Movement>(doc, this.ledger()),
			);
			const changed: string[] = [];
			for (const { productId, quantity } of reservations) {
				const line = { productId, orderId, quantity, reason, by: "system" };
				const settleKey = `${orderId}:${productId}:settle`;
				if (outcome === "commit") {
					if (await this.record({ ...line, key: settleKey, kind: "commit", delta: 0 })) {
						await this.move(productId, { reserved: -quantity });
					}
					continue;
				}
				if (await this.record({ ...line, key: settleKey, kind: "release", delta: quantity })) {
					await this.move(productId, { available: quantity, reserved: -quantity });
					changed.push(productId);
					continue;
				}
				// Already settled. If it was sold (a paid order being cancelled), put the units back once.
				const settled = await this.ledger().findOne({ key: settleKey });
				const sold = settled !== null && this.toEntity<Movement>(settled, this.ledger()).kind === "commit";
				if (sold && (await this.record({ ...line, key: `${orderId}:${productId}:restock`, kind: "restock", delta: quantity }))) {
					await this.move(productId, { available: quantity });
					changed.push(productId);
				}
			}
			if (changed.length > 0) await this.afterChange(changed);
		},

		/** Tells everyone the new levels, and admins once when a product falls to its threshold. */
		async afterChange(productIds: string[]) {
			for (const productId of new Set(productIds)) {
				const stock = await this.stockOf(productId);
				await this.publishEvent("inventory.updated", this.level(stock), productId);
				const low = stock.available <= stock.lowStockThreshold;
				if (low === stock.lowStockAlerted) continue;
				// Only the update that flips the flag reports the crossing, however many race here.
				const flipped = await this.adapter.updateMany({ _id: productId, lowStockAlerted: !low }, { $set: { lowStockAlerted: low } });
				if (!low || flipped !== 1) continue;
				const [product] = await this.broker
					.call<{ id: string; name: string }[], { ids: string[] }>("products.getMany", { ids: [productId] })
					.catch(() => []);
				await this.publishEvent(
					"inventory.low-stock",
					{ productId, name: product?.name ?? productId, available: stock.available, threshold: stock.lowStockThreshold },
					productId,
				);
			}
		},
	},
};

export default InventoryService;
