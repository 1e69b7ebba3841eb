import { setTimeout as sleep } from "node:timers/promises";
import { type Context, Errors, type ServiceSchema, type ServiceSettingSchema } from "moleculer";
import { onEvent } from "../../lib/contracts/events";
import {
	ADMIN_TRANSITIONS,
	canCancel,
	mergeLines,
	ORDER_STATUSES,
	type OrderLine,
	type OrderStatus,
	type ShippingAddress,
} from "../../lib/contracts/orders";
import { SCAN_PARAMS } from "../../lib/contracts/sales-figures";
import { paymentProvider } from "../../lib/payments/payment-provider";
import { settings } from "../../lib/platform/settings";
import { shopError } from "../../lib/platform/shop-error";
import type { Entity } from "../../lib/platform/store";
import type { AuthUser } from "../../lib/platform/tokens";
import { type DbMethods, type DbVars, dbMixin } from "../../mixins/db.mixin";
import { type DomainEventMethods, domainEventsMixin, type OutgoingEvent } from "../../mixins/domain-events.mixin";

type PaymentStatus = "pending" | "paid" | "declined" | "voided" | "refunded";

interface HistoryEntry {
	status: OrderStatus;
	at: Date;
	/** A user id, or the part of the system that made the change ("payments", "reaper"). */
	by: string;
	note?: string;
}

export interface Order extends Entity {
	userId: string;
	items: { productId: string; name: string; price: number; quantity: number }[];
	total: number;
	currency: string;
	status: OrderStatus;
	paymentStatus: PaymentStatus;
	history: HistoryEntry[];
	shippingAddress: ShippingAddress;
	cardLast4: string;
	createdAt: Date;
	updatedAt: Date;
}

interface PlaceParams {
	items: OrderLine[];
	shippingAddress: ShippingAddress;
	payment: { cardNumber: string };
}

interface RequestMeta {
	user: AuthUser;
	idempotencyKey?: string;
	$statusCode?: number;
	$location?: string;
}

/** An order as its placement writes it: with its idempotency key, and being placed by this node. */
interface NewOrder extends Omit<Order, "id">, Placing {
	_id: string;
	idempotencyKey?: string;
}

interface PricedLines {
	items: Order["items"];
	currency: string;
}

interface CatalogueEntry {
	id: string;
	name: string;
	price: number;
	currency: string;
}

/**
 * While an order is being placed (from its first write until its answer), which node places it,
 * so that another orders node can undo it if that node dies. `placingNode` turns null once
 * recovery has claimed it; all three once the placement is over.
 */
interface Placing {
	placingSince: Date | null;
	placingNode: string | null;
	placingInstance: string | null;
}

const PLACING_OVER = { placingSince: null, placingNode: null, placingInstance: null } satisfies Placing;

interface OrderMethods extends DbMethods, DomainEventMethods {
	toOrder(doc: unknown): Order;
	findOrder(id: string, user?: AuthUser): Promise<Order>;
	byIdempotencyKey(key: string): Promise<Order | null>;
	answerCreated(ctx: Context<unknown, RequestMeta>, order: Order): Order;
	priceLines(ctx: Context, lines: OrderLine[]): Promise<PricedLines>;
	newOrder(ctx: Context<PlaceParams, RequestMeta>, priced: PricedLines, key: string | undefined): NewOrder;
	writeOrder(order: NewOrder): Promise<Order | null>;
	removeOrder(orderId: string): Promise<void>;
	reserveStock(ctx: Context, order: NewOrder, lines: OrderLine[]): Promise<void>;
	releaseStock(ctx: Context, orderId: string, reason: string): Promise<void>;
	preparePayment(ctx: Context, order: NewOrder, cardNumber: string): Promise<void>;
	voidPayment(ctx: Context, orderId: string): Promise<void>;
	finishPlacement(ctx: Context, order: NewOrder): Promise<Order>;
	placementUndone(ctx: Context, orderId: string): Promise<never>;
	compensate(ctx: Context, action: "inventory.release" | "payments.refund", params: { orderId: string; reason?: string }): Promise<void>;
	transition(order: Order, to: OrderStatus, by: string, note?: string): Promise<Order>;
	changeStatusOnce(order: Order, field: "status" | "paymentStatus", update: Partial<Order>, events?: OutgoingEvent[]): Promise<boolean>;
	settlePayment(orderId: string, from: PaymentStatus[], to: PaymentStatus, next?: { status: OrderStatus; note: string }): Promise<void>;
	reapStalePending(): Promise<number>;
	abandonedPlacement(placing: Placing, now: number): string | null;
	recoverPlacements(now?: number): Promise<number>;
	undoPlacement(doc: unknown, why: string): Promise<boolean>;
}

interface OrderVars extends DbVars {
	reaper?: NodeJS.Timeout;
	recovery?: NodeJS.Timeout;
}

const ORDER_ID = { type: "string", min: 1, max: 64 } as const;
const TEXT = (max: number) => ({ type: "string", trim: true, min: 1, max }) as const;

/** How long an order may wait for its payment before the reaper fails it and releases its stock. */
const pendingTtlMs = () => settings().orderPendingTtlSeconds * 1000;

/** Placements still running after this long are looked at (one that ends normally takes well under it)... */
const PLACEMENT_CHECK_AFTER_MS = 5_000;
/** ...and undone if their node has left the cluster, or in any case once they have run this long. */
const PLACEMENT_LIMIT_MS = 60_000;
const RECOVERY_INTERVAL_MS = 2_000;
/** A request repeating an order still being placed waits this long for it (well within the request timeout). */
const SAME_KEY_WAIT_MS = 5_000;
const sameKeyBusy = (state: string) => shopError("ORDER_BEING_PLACED", `An order with this Idempotency-Key ${state}: try again`);
/** Each customer's keys are their own: another customer's request with the same key places another order. */
const placementKey = ({ user, idempotencyKey }: RequestMeta) => (idempotencyKey ? `${user.id}:${idempotencyKey}` : undefined);

const OrdersService: ServiceSchema<ServiceSettingSchema, OrderMethods, OrderVars> = {
	name: "orders",
	// A new orders pod takes placements as soon as the gateways see it: it must see what a placement
	// calls first (discovery over Kafka takes seconds), or its first orders fail.
	dependencies: ["products", "inventory", "payments"],
	mixins: [
		dbMixin({
			name: "orders",
			fields: {
				userId: { type: String, required: true },
				items: [{ _id: false, productId: String, name: String, price: Number, quantity: Number }],
				total: { type: Number, required: true },
				currency: { type: String, required: true },
				status: { type: String, required: true, enum: ORDER_STATUSES },
				paymentStatus: { type: String, required: true },
				history: [{ _id: false, status: String, at: Date, by: String, note: String }],
				shippingAddress: { name: String, line1: String, city: String, postalCode: String, country: String },
				cardLast4: { type: String, required: true },
				idempotencyKey: { type: String },
				createdAt: { type: Date, required: true },
				updatedAt: { type: Date, required: true },
				placingSince: { type: Date, default: null },
				placingNode: { type: String, default: null },
				placingInstance: { type: String, default: null },
			},
			indexes: [
				// Recovery looks for placements still running: pending orders with a date here, oldest first.
				{ fields: { status: 1, placingSince: 1 } },
				{ fields: { idempotencyKey: 1 }, unique: true, sparse: true },
				{ fields: { userId: 1, createdAt: -1 } },
				{ fields: { status: 1, createdAt: -1 } },
				// An admin's list without a filter, newest first.
				{ fields: { createdAt: -1 } },
				{ fields: { updatedAt: 1 } },
				// A customer's catch-up after a reconnect (`changedSince`).
				{ fields: { userId: 1, updatedAt: 1 } },
			],
		}),
		domainEventsMixin,
	],

	actions: {
		place: {
			auth: "customer",
			params: {
				items: {
					type: "array",
					min: 1,
					max: 50,
					items: {
						type: "object",
						strict: "remove",
						props: { productId: TEXT(64), quantity: { type: "number", integer: true, positive: true, max: 1_000 } },
					},
				},
				shippingAddress: {
					type: "object",
					strict: "remove",
					props: { name: TEXT(100), line1: TEXT(200), city: TEXT(100), postalCode: TEXT(20), country: TEXT(56) },
				},
				payment: {
					type: "object",
					strict: "remove",
					// A card the provider cannot take is refused before anything is reserved.
					props: { cardNumber: paymentProvider.cardNumberRule },
				},
				// Prices, totals, owner and status come from the server; anything else sent is dropped.
				$$strict: "remove",
			},
			/**
			 * The placement, step by step; each step's method says what it decides and what undoes it.
			 * A step that fails for sure undoes the steps before it; one that may have half happened
			 * (a timeout) leaves the order being placed, for placement recovery to undo.
			 */
			async handler(ctx: Context<PlaceParams, RequestMeta>) {
				const key = placementKey(ctx.meta);
				// A repeated request gets the first order, answered exactly as the first time.
				const first = key ? await this.byIdempotencyKey(key) : null;
				if (first) return this.answerCreated(ctx, first);
				const lines = mergeLines(ctx.params.items);
				const order = this.newOrder(ctx, await this.priceLines(ctx, lines), key);
				const earlier = await this.writeOrder(order);
				if (earlier) return this.answerCreated(ctx, earlier);
				await this.reserveStock(ctx, order, lines);
				await this.preparePayment(ctx, order, ctx.params.payment.cardNumber);
				return this.answerCreated(ctx, await this.finishPlacement(ctx, order));
			},
		},

		get: {
			auth: "user",
			params: { id: ORDER_ID },
			async handler(ctx: Context<{ id: string }, RequestMeta>) {
				return this.findOrder(ctx.params.id, ctx.meta.user);
			},
		},

		list: {
			auth: "user",
			params: {
				status: { type: "enum", values: [...ORDER_STATUSES], optional: true },
				page: { type: "number", integer: true, min: 1, max: 100_000, convert: true, default: 1 },
				pageSize: { type: "number", integer: true, min: 1, max: 100, convert: true, default: 20 },
			},
			async handler(ctx: Context<{ status?: OrderStatus; page: number; pageSize: number }, RequestMeta>) {
				const { status, page, pageSize } = ctx.params;
				const query: Record<string, string> = {};
				if (ctx.meta.user.role !== "admin") query.userId = ctx.meta.user.id;
				if (status) query.status = status;
				const [docs, total] = await Promise.all([
					this.adapter.find({ query, sort: ["-createdAt"], limit: pageSize, offset: (page - 1) * pageSize }),
					this.adapter.count({ query }),
				]);
				return { rows: docs.map((doc) => this.toOrder(doc)), total, page, pageSize, totalPages: Math.ceil(total / pageSize) };
			},
		},

		/** Orders changed after `since` (own, or all for an admin), oldest change first: a reconnecting client's catch-up. */
		changedSince: {
			auth: "user",
			params: {
				since: { type: "date", convert: true },
				limit: { type: "number", integer: true, min: 1, max: 500, convert: true, default: 200 },
			},
			async handler(ctx: Context<{ since: Date; limit: number }, RequestMeta>) {
				const query: Record<string, unknown> = { updatedAt: { $gt: ctx.params.since } };
				if (ctx.meta.user.role !== "admin") query.userId = ctx.meta.user.id;
				const docs = await this.adapter.find({ query, sort: ["updatedAt"], limit: ctx.params.limit });
				return docs.map((doc) => this.toOrder(doc));
			},
		},

		setStatus: {
			auth: "admin",
			params: { id: ORDER_ID, status: { type: "enum", values: [...ORDER_STATUSES] } },
			async handler(ctx: Context<{ id: string; status: OrderStatus }, RequestMeta>) {
				const order = await this.findOrder(ctx.params.id);
				const to = ctx.params.status;
				if (!ADMIN_TRANSITIONS[order.status].includes(to))
					throw shopError("ILLEGAL_TRANSITION", `An order that is ${order.status} cannot become ${to}`, {
						from: order.status,
						to,
						allowed: ADMIN_TRANSITIONS[order.status],
					});
				return this.transition(order, to, ctx.meta.user?.id ?? "operator");
			},
		},

		cancel: {
			auth: "user",
			params: { id: ORDER_ID },
			async handler(ctx: Context<{ id: string }, RequestMeta>) {
				const { user } = ctx.meta;
				// The saga may move the order (pending -> confirmed) while the customer clicks: if it
				// is still cancellable after that, the cancel goes through. Statuses only move forward,
				// so this ends.
				for (;;) {
					const order = await this.findOrder(ctx.params.id, user);
					if (!canCancel(order.status, user.role))
						throw shopError("ILLEGAL_TRANSITION", `An order that is ${order.status} can no longer be cancelled`, {
							from: order.status,
							to: "cancelled",
						});
					try {
						return await this.transition(order, "cancelled", user.id);
					} catch (err) {
						if (!(err instanceof Errors.MoleculerClientError && err.type === "ORDER_CHANGED")) throw err;
					}
				}
			},
		},

		/** Internal: every order, oldest first, a page at a time (the sales figures rebuild from these). */
		scan: {
			visibility: "public",
			params: SCAN_PARAMS,
			async handler(ctx: Context<{ offset: number; limit: number }>) {
				const docs = await this.adapter.find({ sort: ["createdAt"], offset: ctx.params.offset, limit: ctx.params.limit });
				return docs.map((doc) => this.toOrder(doc));
			},
		},

		/** Operators: fail orders whose payment never completed and release their stock (also runs on a timer). */
		reap: {
			visibility: "public",
			async handler() {
				return { failed: await this.reapStalePending() };
			},
		},
	},

	channels: {
		"payment.succeeded": onEvent("payment.succeeded", "orders", async function confirmPaidOrder(payment) {
			await this.settlePayment(payment.orderId, ["pending"], "paid", { status: "confirmed", note: "payment received" });
		}),
		"payment.failed": onEvent("payment.failed", "orders", async function failDeclinedOrder(payment) {
			await this.settlePayment(payment.orderId, ["pending"], "declined", {
				status: "failed",
				note: payment.failureReason ?? "payment failed",
			});
		}),
		"payment.refunded": onEvent("payment.refunded", "orders", async function recordRefund(payment) {
			await this.settlePayment(payment.orderId, ["pending", "paid"], "refunded");
		}),
	},

	methods: {
		/** A stored order as clients see it: the idempotency key and the placement's progress are bookkeeping. */
		toOrder(doc: unknown) {
			const {
				idempotencyKey: _key,
				placingSince: _since,
				placingNode: _node,
				placingInstance: _instance,
				...order
			} = this.toEntity<Order & Placing & { idempotencyKey?: string }>(doc);
			return order;
		},

		/** The order, if the user may see it; another customer's order is simply not found. */
		async findOrder(id: string, user?: AuthUser) {
			const doc = await this.adapter.findById(id);
			const order = doc ? this.toOrder(doc) : null;
			if (!order || (user && user.role !== "admin" && order.userId !== user.id))
				throw shopError("ORDER_NOT_FOUND", "Order not found", { id });
			return order;
		},

		/**
		 * The order placed under `key`, once its placement is over; null if there is none. A request
		 * repeated while the first is still being placed waits for it: that placement may yet be
		 * refused (and its order removed), and a client must never be told of an order that vanishes.
		 */
		async byIdempotencyKey(key: string) {
			const giveUpAt = Date.now() + SAME_KEY_WAIT_MS;
			for (;;) {
				const doc = await this.adapter.findOne({ idempotencyKey: key });
				if (!doc) return null;
				const order = this.toOrder(doc);
				// An admin may cancel an order still being placed; recovery looks only at pending ones.
				if (!this.toEntity<Entity & Placing>(doc).placingSince || order.status !== "pending") return order;
				if (Date.now() > giveUpAt) throw sameKeyBusy("is still being placed");
				await sleep(50);
			}
		},

		/** 201 with the order's address, for a new order and for the first order of a repeated request alike. */
		answerCreated(ctx: Context<unknown, RequestMeta>, order: Order) {
			ctx.meta.$statusCode = 201;
			ctx.meta.$location = `/api/orders/${order.id}`;
			return order;
		},

		/** Copies name and price from the catalogue now: later price changes never touch this order. */
		async priceLines(ctx: Context, lines: OrderLine[]) {
			const products = await ctx.call<CatalogueEntry[], { ids: string[] }>("products.getMany", {
				ids: lines.map((line) => line.productId),
			});
			const byId = new Map(products.map((product) => [product.id, product]));
			// Both depend on the catalogue as it is now, not on the request's shape: not 422.
			const missing = lines.find((line) => !byId.has(line.productId));
			if (missing)
				throw shopError("PRODUCT_NOT_FOUND", "A product of this order is no longer sold", {
					productId: missing.productId,
				});
			const currencies = [...new Set(products.map((product) => product.currency))];
			if (currencies.length > 1)
				throw shopError("MIXED_CURRENCIES", "All items of one order must be priced in the same currency", {
					currencies,
				});
			const items = lines.map(({ productId, quantity }) => {
				const { name, price } = byId.get(productId) as CatalogueEntry;
				return { productId, name, price, quantity };
			});
			return { items, currency: currencies[0] ?? "USD" };
		},

		/** The order the request asks for, priced, pending, and being placed by this node from now on. */
		newOrder(ctx: Context<PlaceParams, RequestMeta>, { items, currency }: PricedLines, key: string | undefined): NewOrder {
			const { user } = ctx.meta;
			const { payment, shippingAddress } = ctx.params;
			const now = new Date();
			return {
				_id: this.newId(),
				userId: user.id,
				items,
				total: items.reduce((sum, line) => sum + line.price * line.quantity, 0),
				currency,
				status: "pending",
				paymentStatus: "pending",
				history: [{ status: "pending", at: now, by: user.id, note: "order placed" }],
				shippingAddress,
				cardLast4: payment.cardNumber.slice(-4),
				...(key ? { idempotencyKey: key } : {}),
				createdAt: now,
				updatedAt: now,
				placingSince: now,
				placingNode: this.broker.nodeID,
				placingInstance: this.broker.instanceID,
			};
		},

		/**
		 * Step 1: the order is written first, so that its unique idempotency key lets exactly one of
		 * several identical concurrent requests go on to reserve stock. Returns null when this order
		 * was written and its placement goes on, or else the order placed first under the same key,
		 * which answers this request. Undo: `removeOrder`.
		 */
		async writeOrder(order: NewOrder) {
			try {
				await this.adapter.insert(order);
				return null;
			} catch (err) {
				const key = order.idempotencyKey;
				if (!(key && this.isDuplicateKey(err))) throw err;
				const first = await this.byIdempotencyKey(key);
				if (first) return first;
				// The first was refused (and removed) between this insert and that lookup.
				throw sameKeyBusy("was just refused");
			}
		},

		/** Undoes `writeOrder` once the placement is known to have been refused: no client was told of the order. */
		async removeOrder(orderId: string) {
			await this.adapter.removeById(orderId);
		},

		/**
		 * Step 2: inventory reserves every line or none. Undo: `releaseStock`. Only a refusal (out of
		 * stock, bad input: a client error) says for sure that nothing was reserved: then the order is
		 * removed, and a shortage is told by the product's name. Anything else (a timeout, a lost
		 * connection, a crash) may have reserved: the order stays being placed, so recovery fails it
		 * in time and releases whatever it holds.
		 */
		async reserveStock(ctx: Context, order: NewOrder, lines: OrderLine[]) {
			try {
				await ctx.call("inventory.reserve", { orderId: order._id, items: lines });
			} catch (err) {
				if (!(err instanceof Errors.MoleculerClientError)) throw err;
				await this.removeOrder(order._id);
				if (err.type === "OUT_OF_STOCK") {
					const { productId, available } = err.data as { productId: string; available: number };
					const name = order.items.find((line) => line.productId === productId)?.name ?? productId;
					throw shopError("OUT_OF_STOCK", `Not enough stock of ${name}: ${available} left`, {
						...err.data,
						name,
					});
				}
				throw err;
			}
		},

		/** Undoes `reserveStock`; inventory releases an order once, however often it is asked. */
		async releaseStock(ctx: Context, orderId: string, reason: string) {
			await this.compensate(ctx, "inventory.release", { orderId, reason });
		},

		/**
		 * Step 3: payments registers the card for the order's payment (one per order). Undo:
		 * `voidPayment`. If it fails, nothing of the placement stays: its stock is released and the
		 * order removed.
		 */
		async preparePayment(ctx: Context, order: NewOrder, cardNumber: string) {
			try {
				await ctx.call("payments.prepare", {
					orderId: order._id,
					userId: order.userId,
					amount: order.total,
					currency: order.currency,
					cardNumber,
				});
			} catch (err) {
				await this.releaseStock(ctx, order._id, "order could not be placed");
				await this.removeOrder(order._id);
				throw err;
			}
		},

		/** Undoes `preparePayment`: voids the payment, or refunds it if it was charged meanwhile (once, however often asked). */
		async voidPayment(ctx: Context, orderId: string) {
			await this.compensate(ctx, "payments.refund", { orderId });
		},

		/**
		 * Step 4, the placement's end: the order is announced (`order.created` starts the payment) and
		 * no longer being placed, in one journalled decision. Undo: placement recovery
		 * (`undoPlacement`) fails an order whose placement never got here. If recovery claimed this
		 * placement first, the order is being undone: `placementUndone` gives back what this node
		 * took, and the client is told to try again, never that it was placed.
		 */
		async finishPlacement(ctx: Context, order: NewOrder) {
			// The order as written, not read back: order.created announces it as placed; what the
			// saga changes later (even within these milliseconds) follows as order.updated.
			const placed = this.toOrder(order);
			const finished = await this.changeOnce(`${placed.id}:placement`, { _id: placed.id }, PLACING_OVER, [
				this.domainEvent("order.created", placed, placed.id),
			]);
			if (!finished) await this.placementUndone(ctx, placed.id);
			return placed;
		},

		/**
		 * Recovery undid this placement while this node was still at it (it looked gone, or took over
		 * PLACEMENT_LIMIT_MS): what it reserved or prepared after recovery released the order is given
		 * back here (both undos are idempotent), and the client is told to try again.
		 */
		async placementUndone(ctx, orderId) {
			await this.releaseStock(ctx, orderId, "placement undone");
			await this.voidPayment(ctx, orderId);
			throw shopError("PLACEMENT_UNDONE", "Placing the order took too long and it was undone: try again");
		},

		/**
		 * Runs an undo. Not through `ctx.call`: Moleculer skips a call from a context whose time is up
		 * (RequestSkippedError), so a placement that timed out waiting for payments kept its stock
		 * until recovery's time limit. The request id goes along for the logs.
		 */
		async compensate(ctx, action, params) {
			await this.broker.call(action, params, { requestID: ctx.requestID ?? undefined, meta: ctx.meta });
		},

		/**
		 * Moves an order on from the status the caller saw and announces it (`order.cancelled` or
		 * `order.updated`, journalled with the change). If another change won the race, this one is
		 * refused (409) instead of silently overwriting it.
		 */
		async transition(order: Order, to: OrderStatus, by: string, note?: string) {
			const at = new Date();
			const entry: HistoryEntry = note ? { status: to, at, by, note } : { status: to, at, by };
			const update = { status: to, history: [...order.history, entry], updatedAt: at };
			const changed = { ...order, ...update };
			const announcement = this.domainEvent(to === "cancelled" ? "order.cancelled" : "order.updated", changed, order.id);
			if (!(await this.changeStatusOnce(order, "status", update, [announcement]))) {
				const now = await this.findOrder(order.id);
				throw shopError("ORDER_CHANGED", `The order changed meanwhile: it is ${now.status} now`, {
					from: now.status,
					to,
				});
			}
			return changed;
		},

		/** Moves `field` on from the value the caller saw, unless another change of it won first. */
		changeStatusOnce(order, field, update, events) {
			return this.changeOnce(`${order.id}:${field}:${order[field]}`, { _id: order.id, [field]: order[field] }, update, events);
		},

		/**
		 * Records the payment's verdict once and, if the order still waits for it, moves the order on
		 * and announces it (again, on a redelivery: consumers of order.updated are idempotent). A
		 * payment that arrives after the order was cancelled only updates the payment status: the
		 * payments service refunds it.
		 */
		async settlePayment(orderId, from, to, next) {
			let order = await this.findOrder(orderId);
			// Already recorded: this is a redelivery, maybe because the handler that recorded it died
			// before moving the order on. Finish that; each step is idempotent.
			if (order.paymentStatus !== to) {
				if (!from.includes(order.paymentStatus)) return;
				const update = { paymentStatus: to, updatedAt: new Date() };
				if (!(await this.changeStatusOnce(order, "paymentStatus", update))) return;
				order = { ...order, ...update };
			}
			if (next && order.status === "pending") {
				try {
					await this.transition(order, next.status, "payments", next.note);
					return;
				} catch (err) {
					if (!(err instanceof Errors.MoleculerClientError && err.type === "ORDER_CHANGED")) throw err;
				}
			}
			await this.publishEvent("order.updated", await this.findOrder(orderId), orderId);
		},

		async reapStalePending() {
			const PENDING_TTL_MS = pendingTtlMs();
			const cutoff = new Date(Date.now() - PENDING_TTL_MS);
			const stale = await this.adapter.find({ query: { status: "pending", createdAt: { $lt: cutoff } }, limit: 100 });
			let failed = 0;
			for (const doc of stale) {
				try {
					await this.transition(this.toOrder(doc), "failed", "reaper", `no payment within ${PENDING_TTL_MS / 1000} s: stock released`);
					failed++;
				} catch (err) {
					// The payment (or another orders node) got there first.
					if (!(err instanceof Errors.MoleculerClientError && err.type === "ORDER_CHANGED")) throw err;
				}
			}
			if (failed > 0) this.logger.warn(`Reaper failed ${failed} order(s) that waited over ${PENDING_TTL_MS / 1000} s for payment.`);
			return failed;
		},

		/** Why a placement still running must be undone, or null while its node may yet finish it. */
		abandonedPlacement({ placingSince, placingNode, placingInstance }, now) {
			if (!placingSince) return null;
			const ranMs = now - placingSince.getTime();
			if (ranMs > PLACEMENT_LIMIT_MS) return `placing it did not finish within ${PLACEMENT_LIMIT_MS / 1000} s`;
			if (placingNode === null) return "placing it was cut off";
			// A node this one has not discovered (yet) may be alive: only the time limit applies to it.
			const node = this.broker.registry.nodes.get(placingNode);
			if (node && (!node.available || node.instanceID !== placingInstance)) return `placing it was cut off: node ${placingNode} stopped`;
			return null;
		},

		/**
		 * Undoes placements whose node died (SIGKILL, OOM, lost host) before it answered: their client
		 * was never told of the order, yet its stock is reserved and its payment prepared. Runs every
		 * few seconds on each orders node; finds them by one indexed query that matches only orders
		 * being placed.
		 */
		async recoverPlacements(now = Date.now()) {
			const running = await this.adapter.find({
				// An order being placed is pending: that equality is what the test stand-in (FerretDB 1.24)
				// serves from an index, where a date range alone read every order on every run. A lower
				// bound too: a store may order null before every date (NeDB did).
				query: { status: "pending", placingSince: { $gt: new Date(0), $lt: new Date(now - PLACEMENT_CHECK_AFTER_MS) } },
				sort: ["placingSince"],
				limit: 100,
			});
			let undone = 0;
			for (const doc of running) {
				const why = this.abandonedPlacement(this.toEntity<Entity & Placing>(doc), now);
				if (why && (await this.undoPlacement(doc, why))) undone++;
			}
			if (undone > 0) this.logger.warn(`Recovery undid ${undone} placement(s) whose orders node stopped before answering.`);
			return undone;
		},

		/**
		 * Claims the placement (its own node's `finishPlacement` then loses), then fails the order: its
		 * `order.updated` makes inventory release what it reserved and payments void what was prepared.
		 * Every step can be repeated by another recovery run or node. False if the placement finished first.
		 */
		async undoPlacement(doc, why) {
			let order = this.toOrder(doc);
			if (this.toEntity<Entity & Placing>(doc).placingNode !== null) {
				await this.changeOnce(`${order.id}:placement`, { _id: order.id }, { placingNode: null });
				const now = await this.adapter.findById(order.id);
				// Gone (its node refused it) or over (its node finished it after all): nothing to undo.
				if (!now || this.toEntity<Entity & Placing>(now).placingSince === null) return false;
				order = this.toOrder(now);
			}
			if (order.status === "pending") {
				try {
					await this.transition(order, "failed", "recovery", `${why}; stock released, nothing charged`);
				} catch (err) {
					// A customer or admin cancelled it meanwhile: that released it too.
					if (!(err instanceof Errors.MoleculerClientError && err.type === "ORDER_CHANGED")) throw err;
				}
			}
			await this.adapter.updateMany({ _id: order.id }, { $set: PLACING_OVER });
			return true;
		},
	},

	started() {
		if (!settings().backgroundLoops) return;
		this.reaper = setInterval(
			() => {
				this.reapStalePending().catch((err: Error) => this.logger.error("Reaper run failed:", err.message));
			},
			Math.min(60_000, Math.max(1_000, pendingTtlMs() / 4)),
		);
		this.reaper.unref();
		this.recovery = setInterval(() => {
			this.recoverPlacements().catch((err: Error) => this.logger.error("Placement recovery run failed:", err.message));
		}, RECOVERY_INTERVAL_MS);
		this.recovery.unref();
	},

	stopped() {
		clearInterval(this.reaper);
		clearInterval(this.recovery);
	},
};

export default OrdersService;
