import type { Context, ServiceSchema, ServiceSettingSchema } from "moleculer";
import type { CheckoutParams } from "../../lib/contracts/actions";
import { ADDRESS, SHIPPING_METHOD, shippingRules } from "../../lib/contracts/checkout";
import { onEvent } from "../../lib/contracts/events";
import { ADMIN_TRANSITIONS, canCancel, ORDER_STATUSES, type Order, type OrderStatus } from "../../lib/contracts/orders";
import type { GatewayMeta } from "../../lib/platform/request-context";
import { settings } from "../../lib/platform/settings";
import { shopError } from "../../lib/platform/shop-error";
import { type AuthUser, signOrderToken, verifyOrderToken } from "../../lib/platform/tokens";
import { type DbMethods, type DbVars, dbMixin } from "../../mixins/db.mixin";
import { type DomainEventMethods, domainEventsMixin, type OutgoingEvent } from "../../mixins/domain-events.mixin";
import { PriceList } from "./catalogue";
import { ORDERS_SPEC, publicOrder, type StoredOrder } from "./model";
import { LINES, PAYMENT, type PlacementHost, type PlacementRequest, place, scopedKey } from "./placement";
import { listOrders, ordersChangedSince, scanOrders } from "./queries";
import { type RecoveryHost, reapStalePending, recoverPlacements } from "./recovery";
import { lostTheRace, settleCharge, settleRefund, transition } from "./settlement";

interface OrderMethods extends DbMethods, DomainEventMethods {
	findStored(filter: object): Promise<StoredOrder | null>;
	findOrder(id: string, reader?: GatewayMeta): Promise<Order>;
	placeAndAnswer(ctx: Context<unknown, GatewayMeta>, request: PlacementRequest): Promise<Order>;
	compensate(ctx: Context, action: "inventory.release" | "payments.refund", params: object): Promise<void>;
	host(): PlacementHost & RecoveryHost;
}

interface OrderVars extends DbVars {
	prices: PriceList;
	/** Orders this node placed whose payment has not been settled here yet (the oldest are dropped). */
	recentlyPlaced: Map<string, Order>;
	reaper?: NodeJS.Timeout;
	recovery?: NodeJS.Timeout;
}

const ORDER_ID = { type: "string", min: 1, max: 64 } as const;
const RECOVERY_INTERVAL_MS = 2_000;
/** Orders kept for their settlement: a few seconds of placements at the highest rates measured. */
const RECENTLY_PLACED_LIMIT = 5_000;

/**
 * Orders: their placement (./placement.ts, the saga's synchronous steps), how they move on
 * (./settlement.ts: the payment's verdict, admins, cancels) and the safety nets (./recovery.ts).
 * This file wires them to actions, channels and timers.
 */
const OrdersService: ServiceSchema<ServiceSettingSchema, OrderMethods, OrderVars> = {
	name: "orders",
	// A new orders pod takes placements as soon as the gateways see it: it must see what a placement
	// calls first (discovery over Kafka takes seconds), or its first orders fail.
	dependencies: ["products", "inventory", "payments"],
	mixins: [dbMixin(ORDERS_SPEC), domainEventsMixin],

	actions: {
		place: {
			auth: "customer",
			params: {
				items: LINES,
				shippingAddress: ADDRESS,
				payment: PAYMENT,
				shippingMethod: { ...SHIPPING_METHOD, optional: true },
				// Prices, totals, owner and status come from the server; anything else sent is dropped.
				$$strict: "remove",
			},
			async handler(
				ctx: Context<
					{
						items: PlacementRequest["lines"];
						shippingAddress: PlacementRequest["shippingAddress"];
						payment: { cardNumber: string };
						shippingMethod?: string;
					},
					GatewayMeta
				>,
			) {
				const user = ctx.meta.user as AuthUser;
				return this.placeAndAnswer(ctx, {
					lines: ctx.params.items,
					shippingAddress: ctx.params.shippingAddress,
					cardNumber: ctx.params.payment.cardNumber,
					shippingMethod: ctx.params.shippingMethod,
					buyer: { userId: user.id },
					idempotencyKey: scopedKey(user.id, ctx.meta.idempotencyKey),
				});
			},
		},

		/** Internal: a cart's checkout (the carts service); a guest's order comes with its access token. */
		checkout: {
			visibility: "public",
			params: {
				items: LINES,
				shippingAddress: ADDRESS,
				shippingMethod: SHIPPING_METHOD,
				payment: PAYMENT,
				buyer: { type: "object", props: { userId: { type: "string", optional: true }, email: { type: "email", optional: true } } },
				holdId: { type: "string", max: 64, optional: true },
				idempotencyKey: { type: "string", max: 200, optional: true },
			},
			async handler(ctx: Context<CheckoutParams, GatewayMeta>) {
				const { items, shippingAddress, shippingMethod, payment, buyer, holdId, idempotencyKey } = ctx.params;
				const who = "userId" in buyer ? buyer.userId : `guest:${buyer.email}`;
				const order = await this.placeAndAnswer(ctx, {
					lines: items,
					shippingAddress,
					shippingMethod,
					cardNumber: payment.cardNumber,
					buyer,
					holdId,
					idempotencyKey: scopedKey(who, idempotencyKey),
				});
				return order.userId === null ? { ...order, accessToken: signOrderToken(order.id) } : order;
			},
		},

		get: {
			// Signed-in owners and admins, or a guest with the order's own token (checked below).
			auth: "public",
			params: { id: ORDER_ID },
			async handler(ctx: Context<{ id: string }, GatewayMeta>) {
				return this.findOrder(ctx.params.id, ctx.meta);
			},
		},

		list: {
			auth: "user",
			params: {
				status: { type: "enum", values: [...ORDER_STATUSES], optional: true },
				page: { type: "number", integer: true, min: 1, max: 100_000, convert: true, default: 1 },
				pageSize: { type: "number", integer: true, min: 1, max: 100, convert: true, default: 20 },
			},
			async handler(ctx: Context<{ status?: OrderStatus; page: number; pageSize: number }, GatewayMeta>) {
				return listOrders(this, ctx.meta.user as AuthUser, ctx.params);
			},
		},

		/** Orders changed after `since` (own, or all for an admin), oldest change first: a reconnecting client's catch-up. */
		changedSince: {
			auth: "user",
			params: {
				since: { type: "date", convert: true },
				limit: { type: "number", integer: true, min: 1, max: 500, convert: true, default: 200 },
			},
			async handler(ctx: Context<{ since: Date; limit: number }, GatewayMeta>) {
				return ordersChangedSince(this, ctx.meta.user as AuthUser, ctx.params.since, ctx.params.limit);
			},
		},

		setStatus: {
			auth: "admin",
			params: { id: ORDER_ID, status: { type: "enum", values: [...ORDER_STATUSES] } },
			async handler(ctx: Context<{ id: string; status: OrderStatus }, GatewayMeta>) {
				const order = await this.findOrder(ctx.params.id);
				const to = ctx.params.status;
				if (!ADMIN_TRANSITIONS[order.status].includes(to))
					throw shopError("ILLEGAL_TRANSITION", `An order that is ${order.status} cannot become ${to}`, {
						from: order.status,
						to,
						allowed: ADMIN_TRANSITIONS[order.status],
					});
				return transition(this.host(), order, to, ctx.meta.user?.id ?? "operator");
			},
		},

		cancel: {
			auth: "user",
			params: { id: ORDER_ID },
			async handler(ctx: Context<{ id: string }, GatewayMeta>) {
				const user = ctx.meta.user as AuthUser;
				// The saga may move the order (pending -> confirmed) while the customer clicks: if it
				// is still cancellable after that, the cancel goes through. Statuses only move forward,
				// so this ends.
				for (;;) {
					const order = await this.findOrder(ctx.params.id, ctx.meta);
					if (!canCancel(order.status, user.role))
						throw shopError("ILLEGAL_TRANSITION", `An order that is ${order.status} can no longer be cancelled`, {
							from: order.status,
							to: "cancelled",
						});
					try {
						return await transition(this.host(), order, "cancelled", user.id);
					} catch (err) {
						if (!lostTheRace(err)) throw err;
					}
				}
			},
		},

		/** Internal: every order, oldest first, a page at a time (the sales figures rebuild from these). */
		scan: {
			visibility: "public",
			params: {
				offset: { type: "number", integer: true, min: 0, default: 0 },
				limit: { type: "number", integer: true, min: 1, max: 1_000, default: 500 },
			},
			async handler(ctx: Context<{ offset: number; limit: number }>) {
				return scanOrders(this, ctx.params.offset, ctx.params.limit);
			},
		},

		/** Operators: fail orders whose payment never completed and release their stock (also runs on a timer). */
		reap: {
			visibility: "public",
			async handler() {
				return { failed: await reapStalePending(this.host(), settings().orderPendingTtlSeconds * 1000) };
			},
		},
	},

	channels: {
		"payment.succeeded": onEvent("payment.succeeded", "orders", async function confirmPaidOrder(payment) {
			await settleCharge(this.host(), payment.orderId, "succeeded");
		}),
		"payment.failed": onEvent("payment.failed", "orders", async function failDeclinedOrder(payment) {
			await settleCharge(this.host(), payment.orderId, "failed", payment.failureReason ?? undefined);
		}),
		"payment.refunded": onEvent("payment.refunded", "orders", async function recordRefund(payment) {
			await settleRefund(this.host(), payment.orderId);
		}),
	},

	events: {
		// Prices may have changed: the next placement asks the catalogue again.
		"cache.clean.products"() {
			this.prices.forget();
		},
	},

	methods: {
		async findStored(filter: object) {
			const doc = await this.adapter.findOne(filter);
			return doc ? this.toEntity<StoredOrder>(doc) : null;
		},

		/**
		 * The order, if `reader` may see it: its owner, an admin, or a guest holding its token (an
		 * operator or another service: no reader). Another customer's order is simply not found.
		 */
		async findOrder(id: string, reader?: GatewayMeta) {
			const found = await this.findStored({ _id: id });
			const order = found && publicOrder(found);
			if (!reader) {
				if (order) return order;
			} else if (reader.user) {
				if (order && (reader.user.role === "admin" || order.userId === reader.user.id)) return order;
			} else if (reader.orderToken) {
				if (order && verifyOrderToken(reader.orderToken) === id) return order;
			} else throw shopError("NO_TOKEN", "Sign in, or give the order's access token (Order-Token)");
			throw shopError("ORDER_NOT_FOUND", "Order not found", { id });
		},

		/** 201 with the order's address, for a new order and for the first order of a repeated request alike. */
		async placeAndAnswer(ctx, request) {
			const order = await place(this.host(), ctx, request);
			ctx.meta.$statusCode = 201;
			ctx.meta.$location = `/api/orders/${order.id}`;
			return order;
		},

		/**
		 * Runs an undo. Not through `ctx.call`: Moleculer skips a call from a context whose time is up
		 * (RequestSkippedError), so a placement that timed out waiting for payments kept its stock
		 * until recovery's time limit. The request id goes along for the logs.
		 */
		async compensate(ctx, action, params) {
			await this.broker.call(action, params, { requestID: ctx.requestID ?? undefined, meta: ctx.meta });
		},

		/** What the parts in this folder need of the service. */
		host(): PlacementHost & RecoveryHost {
			const { shippingMethods, taxRates } = settings();
			return {
				broker: this.broker,
				logger: this.logger,
				adapter: this.adapter,
				prices: this.prices,
				shipping: { methods: shippingMethods, taxRates },
				nodeID: this.broker.nodeID,
				instanceID: this.broker.instanceID,
				newId: () => this.newId(),
				isDuplicateKey: (err: unknown) => this.isDuplicateKey(err),
				toEntity: <T extends { id: string }>(doc: unknown) => this.toEntity<T>(doc),
				changeOnce: (decision: string, filter: object, update: object, events?: OutgoingEvent[]) =>
					this.changeOnce(decision, filter, update, events),
				domainEvent: (type: "order.created" | "order.updated" | "order.cancelled", data: Order, key: string) =>
					this.domainEvent(type, data, key),
				findStored: (filter: object) => this.findStored(filter),
				placed: (order: Order) => {
					this.recentlyPlaced.set(order.id, order);
					if (this.recentlyPlaced.size > RECENTLY_PLACED_LIMIT)
						this.recentlyPlaced.delete(this.recentlyPlaced.keys().next().value as string);
				},
				takePlaced: (id: string) => {
					const order = this.recentlyPlaced.get(id);
					this.recentlyPlaced.delete(id);
					return order;
				},
				findOrder: (id: string) => this.findOrder(id),
				compensate: (ctx: Context, action: "inventory.release" | "payments.refund", params: object) => this.compensate(ctx, action, params),
			};
		},
	},

	/** The shipping methods are the shop's settings: the parameters name them, so a wrong method or country is a 422 by field. */
	merged(schema) {
		const { shippingAddress, shippingMethod } = shippingRules(settings().shippingMethods);
		for (const name of ["place", "checkout"]) {
			const action = schema.actions?.[name];
			if (typeof action !== "object" || !action.params) continue;
			action.params.shippingAddress = shippingAddress;
			action.params.shippingMethod = name === "place" ? { ...shippingMethod, optional: true } : shippingMethod;
		}
	},

	created() {
		this.prices = new PriceList();
		this.recentlyPlaced = new Map();
	},

	started() {
		if (!settings().backgroundLoops) return;
		const ttlMs = settings().orderPendingTtlSeconds * 1000;
		this.reaper = setInterval(
			() => {
				reapStalePending(this.host(), ttlMs).catch((err: Error) => this.logger.error("Reaper run failed:", err.message));
			},
			Math.min(60_000, Math.max(1_000, ttlMs / 4)),
		);
		this.reaper.unref();
		this.recovery = setInterval(() => {
			recoverPlacements(this.host()).catch((err: Error) => this.logger.error("Placement recovery run failed:", err.message));
		}, RECOVERY_INTERVAL_MS);
		this.recovery.unref();
	},

	stopped() {
		clearInterval(this.reaper);
		clearInterval(this.recovery);
	},
};

export default OrdersService;
