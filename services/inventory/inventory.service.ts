import type { Context, ServiceSchema, ServiceSettingSchema } from "moleculer";
import type { Hold, StockLevel } from "../../lib/contracts/actions";
import { onEvent } from "../../lib/contracts/events";
import type { OrderLine } from "../../lib/contracts/orders";
import { Throttle } from "../../lib/contracts/realtime";
import { call } from "../../lib/platform/actions";
import { settings } from "../../lib/platform/settings";
import { invalidFields, refuseNulls, shopError } from "../../lib/platform/shop-error";
import type { AuthUser } from "../../lib/platform/tokens";
import { type DbMethods, type DbVars, dbMixin } from "../../mixins/db.mixin";
import { type DomainEventMethods, domainEventsMixin, type OutgoingEvent } from "../../mixins/domain-events.mixin";
import { HOLDS_SPEC, Holds } from "./holds";
import { LEDGER, LEDGER_SPEC, LEVELS_SPEC, type LedgerHost, type Level, levelView, type Movement, StockLedger } from "./ledger";
import { commitOrder, releaseOrder, reserveOrder } from "./reservations";

interface InventoryMethods extends DbMethods, DomainEventMethods {
	levelOf(productId: string): Promise<StockLevel>;
	noticesOf(productId: string, before: Level, after: Level): Promise<OutgoingEvent[]>;
	sweepHolds(): Promise<void>;
}

interface InventoryVars extends DbVars {
	/** What the ledger is kept in and told through; another StockLedger on it writes as another node would. */
	ledgerHost: LedgerHost;
	ledger: StockLedger;
	holds: Holds;
	/** Other nodes' cached stock reads are dropped at most this often (this node's at once). */
	remoteCacheClean: Throttle;
	holdSweep?: NodeJS.Timeout;
}

const QUANTITY = { type: "number", integer: true, positive: true, max: 10_000 } as const;
const PRODUCT_ID = { type: "string", min: 1, max: 64 } as const;
const ORDER_ID = { type: "string", min: 1, max: 64 } as const;
const LINES = { type: "array", min: 1, max: 100, items: { type: "object", props: { productId: PRODUCT_ID, quantity: QUANTITY } } } as const;
/** Expired holds are looked for this often: a hold goes back at most this late. */
const HOLD_SWEEP_MS = 2_000;
/** How stale another node's cached catalogue stock may be after a change (its own is dropped at once). */
const REMOTE_CACHE_CLEAN_MS = 250;

/**
 * Stock: a ledger per product (./ledger.ts), the saga's reservations on it (./reservations.ts)
 * and checkout holds (./holds.ts). Only a change of what is available is announced
 * (`inventory.updated`, and `inventory.low-stock` on the line that crosses the threshold), in
 * the same write as the line: a commit moves units from reserved to sold and tells browsers nothing.
 */
const InventoryService: ServiceSchema<ServiceSettingSchema, InventoryMethods, InventoryVars> = {
	name: "inventory",
	mixins: [dbMixin(LEVELS_SPEC, [LEDGER_SPEC, HOLDS_SPEC]), domainEventsMixin],

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
			// Every catalogue page asks this; a stock change drops it here at once and on other nodes
			// within REMOTE_CACHE_CLEAN_MS, and the short TTL bounds the rest. Orders never read it.
			cache: { keys: ["productIds"], ttl: 5 },
			async handler(ctx: Context<{ productIds: string[] }>) {
				const docs = await this.findByIds(ctx.params.productIds);
				return Object.fromEntries(
					docs.map((doc) => {
						const { id, ...level } = this.toEntity<Level & { id: string }>(doc);
						return [id, levelView(id, level)];
					}),
				);
			},
		},

		lowStock: {
			auth: "admin",
			async handler() {
				const docs = await this.adapter.find({ query: { low: true }, sort: ["available"] });
				return docs.map((doc) => {
					const { id, ...level } = this.toEntity<Level & { id: string }>(doc);
					return levelView(id, level);
				});
			},
		},

		movements: {
			auth: "admin",
			params: { productId: PRODUCT_ID, limit: { type: "number", integer: true, min: 1, max: 500, convert: true, default: 50 } },
			async handler(ctx: Context<{ productId: string; limit: number }>) {
				await this.levelOf(ctx.params.productId);
				const docs = await this.collection(LEDGER).find({
					query: { productId: ctx.params.productId, seq: { $gte: 0 } },
					sort: ["-seq"],
					limit: ctx.params.limit,
				});
				return docs.map((doc) => {
					const {
						seqKey: _seqKey,
						events: _events,
						pending: _pending,
						claimedUntil: _claim,
						origin: _origin,
						createdAt: _created,
						...movement
					} = this.toEntity<Movement & { events: unknown; pending: boolean; claimedUntil: Date; origin: unknown; createdAt: Date }>(doc);
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
				await this.ledger.open(productId, available, lowStockThreshold);
				return this.levelOf(productId);
			},
		},

		setThreshold: {
			visibility: "public",
			params: { productId: PRODUCT_ID, lowStockThreshold: { type: "number", integer: true, min: 0 } },
			async handler(ctx: Context<{ productId: string; lowStockThreshold: number }>) {
				return levelView(ctx.params.productId, await this.ledger.setThreshold(ctx.params.productId, ctx.params.lowStockThreshold));
			},
		},

		/** Internal: holds every line of an order, or none; a cart's hold (`holdId`) gives its units first. */
		reserve: {
			visibility: "public",
			params: { orderId: ORDER_ID, items: LINES, holdId: { type: "string", min: 1, max: 64, optional: true } },
			async handler(ctx: Context<{ orderId: string; items: OrderLine[]; holdId?: string }>) {
				const { orderId, items, holdId } = ctx.params;
				const reserved = await reserveOrder(this.ledger, orderId, items, holdId);
				// What the hold kept beyond the order goes back now: the cart is closed.
				if (holdId) await this.holds.release(holdId, "cart ordered");
				return { orderId, items: reserved };
			},
		},

		/** Internal: the order failed, was cancelled or could not be placed; its units go back. Repeating it changes nothing. */
		release: {
			visibility: "public",
			params: { orderId: ORDER_ID, items: LINES, reason: { type: "string", max: 200, default: "order released" } },
			async handler(ctx: Context<{ orderId: string; items: OrderLine[]; reason: string }>) {
				await releaseOrder(this.ledger, ctx.params.orderId, ctx.params.items, ctx.params.reason);
			},
		},

		/** Internal: holds a cart's units for its checkout until the hold's time is up; asking again extends it. */
		hold: {
			visibility: "public",
			params: {
				holdId: { type: "string", min: 1, max: 64 },
				items: { ...LINES, min: 0 },
				ttlSeconds: { type: "number", integer: true, min: 1, max: 86_400, optional: true },
			},
			async handler(ctx: Context<{ holdId: string; items: OrderLine[]; ttlSeconds?: number }>): Promise<Hold> {
				const { holdId, items, ttlSeconds } = ctx.params;
				return this.holds.hold(holdId, items, ttlSeconds ?? settings().holdTtlSeconds);
			},
		},

		/** Internal: gives a hold's units back at once. Repeating it changes nothing. */
		releaseHold: {
			visibility: "public",
			params: { holdId: { type: "string", min: 1, max: 64 } },
			async handler(ctx: Context<{ holdId: string }>) {
				await this.holds.release(ctx.params.holdId, "checkout left");
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
				refuseNulls("Amounts cannot be null", { delta, set });
				if ((delta === undefined) === (set === undefined))
					throw invalidFields("Give either delta or set", [
						{ field: "delta", message: "Give either 'delta' or 'set', not both or neither", type: "exactlyOne" },
					]);
				await this.levelOf(productId);
				const key = `adjust:${this.newId()}`;
				await this.ledger.apply(productId, (current) => {
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
				return this.levelOf(productId);
			},
		},
	},

	channels: {
		"order.updated": onEvent("order.updated", "inventory", async function commitOrReleaseSettledOrder(order) {
			if (order.status === "confirmed") await commitOrder(this.ledger, order.id, order.items);
			if (order.status === "failed") await releaseOrder(this.ledger, order.id, order.items, "payment failed");
		}),
		"order.cancelled": onEvent("order.cancelled", "inventory", async function releaseCancelledOrder(order) {
			await releaseOrder(this.ledger, order.id, order.items, "order cancelled");
		}),
		"product.deleted": onEvent("product.deleted", "inventory", async function forgetDeletedProduct(product) {
			await this.ledger.close(product.id);
		}),
	},

	methods: {
		/** The product's stock now; a product without a stock record (never made, or deleted) is not found. */
		async levelOf(productId: string) {
			const level = await this.ledger.current(productId);
			if (!level) throw shopError("PRODUCT_NOT_FOUND", "No stock record for this product", { productId });
			return levelView(productId, level);
		},

		/**
		 * The new level for everyone when what is available changes, and admins' alert on the one
		 * line that takes a product to or under its threshold: one alert per crossing.
		 */
		async noticesOf(productId, before, after) {
			if (after.available === before.available) return [];
			const { available, reserved, held, lowStockThreshold: threshold } = after;
			const notices: OutgoingEvent[] = [
				this.domainEvent("inventory.updated", { productId, available, reserved, held, lowStockThreshold: threshold }, productId),
			];
			if (before.available > threshold && available <= threshold) {
				const [product] = await call(this.broker, "products.getMany", { ids: [productId] }).catch(() => []);
				notices.push(
					this.domainEvent("inventory.low-stock", { productId, name: product?.name ?? productId, available, threshold }, productId),
				);
			}
			return notices;
		},

		async sweepHolds() {
			const expired = await this.holds.sweep();
			if (expired > 0) this.logger.info(`Gave back the units of ${expired} expired checkout hold(s).`);
		},
	},

	created() {
		this.remoteCacheClean = new Throttle(REMOTE_CACHE_CLEAN_MS, () => this.broker.broadcast("cache.clean.inventory"));
		this.ledgerHost = {
			lines: this.collection(LEDGER),
			levels: this.adapter,
			newId: () => this.newId(),
			isDuplicateKey: (err) => this.isDuplicateKey(err),
			toEntity: (doc) => this.toEntity(doc),
			insertCarrying: (doc, events) => this.insertCarrying(LEDGER, doc, events),
			noticesOf: (productId, before, after) => this.noticesOf(productId, before, after),
			stockChanged: () => {
				void this.broker.cacher?.clean("inventory.**");
				this.remoteCacheClean.call();
			},
		};
		this.ledger = new StockLedger(this.ledgerHost);
		this.holds = new Holds(this.ledger, this.collection(HOLDS_SPEC.name), (doc) => this.toEntity(doc));
	},

	started() {
		if (!settings().backgroundLoops) return;
		this.holdSweep = setInterval(() => {
			this.sweepHolds().catch((err: Error) => this.logger.warn("Hold sweep failed:", err.message));
		}, HOLD_SWEEP_MS);
		this.holdSweep.unref();
	},

	stopped() {
		clearInterval(this.holdSweep);
		this.remoteCacheClean.stop();
	},
};

export default InventoryService;
