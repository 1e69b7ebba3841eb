/**
 * Placing an order: the saga's synchronous part, which answers the shopper. Its steps are declared
 * below (`PLACEMENT`), each with its undo; lib/platform/saga.ts runs them, and on any failure
 * undoes every step that started, in reverse, at once. What happens after the answer (the charge,
 * the confirmation) follows as durable events (./settlement.ts).
 *
 *   writeOrder                     the order, pending, by its idempotency key    undo: removeOrder
 *   reserveStock + preparePayment  (together) stock held, card authorized         undo: release stock / void payment
 *   finishPlacement                announced (`order.created`), placing over      safety net: placement recovery
 *
 * Both undos are idempotent and safe against a call still on its way: a release forbids the
 * reservation it did not find, a void leaves a voided payment that a late prepare finds. If an
 * undo itself fails, the order stays "being placed" and placement recovery (./recovery.ts) fails
 * it, which releases and voids through the order's events.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Context, Logger } from "moleculer";
import type { Buyer } from "../../lib/contracts/actions";
import { type ShippingMethod, type TaxRates, totalsFor } from "../../lib/contracts/checkout";
import { mergeLines, type Order, type OrderLine, type ShippingAddress } from "../../lib/contracts/orders";
import { paymentProvider } from "../../lib/payments/payment-provider";
import { call } from "../../lib/platform/actions";
import { runSaga, type SagaPlan } from "../../lib/platform/saga";
import { invalidFields, isShopError, shopError } from "../../lib/platform/shop-error";
import type { DbAdapter } from "../../lib/platform/store";
import type { OutgoingEvent } from "../../mixins/domain-events.mixin";
import type { PriceList } from "./catalogue";
import { type NewOrder, PLACING_OVER, publicOrder, type StoredOrder, stored } from "./model";

/** What a placement is asked for, from the REST route or a cart's checkout. */
export interface PlacementRequest {
	lines: OrderLine[];
	shippingAddress: ShippingAddress;
	cardNumber: string;
	/** Without a method, neither shipping nor tax is added (API clients that handle both themselves). */
	shippingMethod?: string;
	buyer: Buyer;
	holdId?: string;
	/** The buyer's own key, already scoped to the buyer. */
	idempotencyKey?: string;
}

/** A placement as it goes: its order, and what its steps did. */
export interface Placement {
	ctx: Context;
	lines: OrderLine[];
	order: NewOrder;
	cardNumber: string;
	holdId?: string;
	/** The order is stored: undoing means removing it. */
	written: boolean;
	/** Recovery failed the order first: it stays, as failed (its events release what it held). */
	kept: boolean;
}

/** What the orders service lends its placements. */
export interface PlacementHost {
	logger: Logger;
	adapter: DbAdapter;
	prices: PriceList;
	shipping: { methods: readonly ShippingMethod[]; taxRates: TaxRates };
	newId(): string;
	nodeID: string;
	instanceID: string;
	isDuplicateKey(err: unknown): boolean;
	changeOnce(decision: string, filter: object, update: object, events?: OutgoingEvent[]): Promise<boolean>;
	domainEvent(type: "order.created", data: Order, key: string): OutgoingEvent;
	findStored(filter: object): Promise<StoredOrder | null>;
	/** Remembers an order this node just placed, for the settlement of its payment. */
	placed(order: Order): void;
	/** Runs an undo outside the placement's own context, whose time may be up. */
	compensate(ctx: Context, action: "inventory.release" | "payments.refund", params: object): Promise<void>;
}

/** The parameters of a placement request, shared by the REST route and a cart's checkout. */
const TEXT = (max: number) => ({ type: "string", trim: true, min: 1, max }) as const;
export const LINES = {
	type: "array",
	min: 1,
	max: 50,
	items: {
		type: "object",
		strict: "remove",
		props: { productId: TEXT(64), quantity: { type: "number", integer: true, positive: true, max: 1_000 } },
	},
} as const;
// A card the provider cannot take is refused before anything is reserved.
export const PAYMENT = { type: "object", strict: "remove", props: { cardNumber: paymentProvider.cardNumberRule } } as const;
/** Each buyer's keys are their own: another buyer's request with the same key places another order. */
export const scopedKey = (buyer: string, key: string | undefined) => (key ? `${buyer}:${key}` : undefined);

/** A request repeating an order still being placed waits this long for it (well within the request timeout). */
const SAME_KEY_WAIT_MS = 5_000;

const sameKeyBusy = (state: string) => shopError("ORDER_BEING_PLACED", `An order with this Idempotency-Key ${state}: try again`);

/** Thrown by `writeOrder` when an order was placed under the same key first: it answers this request. */
export class EarlierOrder extends Error {
	constructor(readonly order: Order) {
		super("placed before under the same Idempotency-Key");
	}
}

/**
 * The order placed under `key`, once its placement is over; null if there is none. A request
 * repeated while the first is still being placed waits for it: that placement may yet be refused
 * (and its order removed), and a client must never be told of an order that vanishes.
 */
export async function byIdempotencyKey(host: PlacementHost, key: string): Promise<Order | null> {
	const giveUpAt = Date.now() + SAME_KEY_WAIT_MS;
	for (;;) {
		const stored = await host.findStored({ idempotencyKey: key });
		if (!stored) return null;
		// An admin may cancel an order still being placed; recovery looks only at pending ones.
		if (!stored.placingSince || stored.status !== "pending") return publicOrder(stored);
		if (Date.now() > giveUpAt) throw sameKeyBusy("is still being placed");
		await sleep(50);
	}
}

/** The order the request asks for, priced from the catalogue now: later price changes never touch it. */
async function newOrder(host: PlacementHost, ctx: Context, request: PlacementRequest, lines: OrderLine[]): Promise<NewOrder> {
	const entries = await host.prices.entriesOf(
		ctx,
		lines.map((line) => line.productId),
	);
	// Both depend on the catalogue as it is now, not on the request's shape: not 422.
	const missing = lines.find((line) => !entries.has(line.productId));
	if (missing) throw shopError("PRODUCT_NOT_FOUND", "A product of this order is no longer sold", { productId: missing.productId });
	const currencies = [...new Set([...entries.values()].map((entry) => entry.currency))];
	if (currencies.length > 1)
		throw shopError("MIXED_CURRENCIES", "All items of one order must be priced in the same currency", { currencies });
	const items = lines.map(({ productId, quantity }) => {
		const { name, price } = entries.get(productId) as { name: string; price: number };
		return { productId, name, price, quantity };
	});
	// The action's parameter admits only the shop's methods (orders.service.ts `merged`).
	const method = host.shipping.methods.find((candidate) => candidate.id === request.shippingMethod) ?? null;
	const totals = totalsFor(items, method, request.shippingAddress.country, host.shipping.taxRates);
	if (!totals)
		throw invalidFields("The shipping method does not ship there", [
			{ field: "shippingMethod", message: `${method?.name} does not ship to ${request.shippingAddress.country}`, type: "enumValue" },
		]);
	const now = new Date();
	const by = "userId" in request.buyer ? request.buyer.userId : "guest";
	return {
		_id: host.newId(),
		userId: "userId" in request.buyer ? request.buyer.userId : null,
		...("email" in request.buyer ? { email: request.buyer.email } : {}),
		items,
		...totals,
		currency: currencies[0] ?? "USD",
		status: "pending",
		paymentStatus: "pending",
		history: [{ status: "pending", at: now, by, note: "order placed" }],
		shippingAddress: request.shippingAddress,
		cardLast4: request.cardNumber.slice(-4),
		...(request.idempotencyKey ? { idempotencyKey: request.idempotencyKey } : {}),
		createdAt: now,
		updatedAt: now,
		placingSince: now,
		placingNode: host.nodeID,
		placingInstance: host.instanceID,
	};
}

/** The placement's steps, in order; an inner list runs at once. */
export function placementPlan(host: PlacementHost): SagaPlan<Placement> {
	const orderId = (placement: Placement) => placement.order._id;
	return [
		{
			// The order is written first, so that its unique idempotency key lets exactly one of several
			// identical concurrent requests go on; a repeat is answered with the first order.
			name: "writeOrder",
			async run(placement) {
				try {
					await host.adapter.insert(placement.order);
					placement.written = true;
				} catch (err) {
					const key = placement.order.idempotencyKey;
					if (!(key && host.isDuplicateKey(err))) throw err;
					const first = await byIdempotencyKey(host, key);
					// The first was refused (and removed) between this insert and that lookup.
					if (!first) throw sameKeyBusy("was just refused");
					throw new EarlierOrder(first);
				}
			},
			async undo(placement) {
				if (placement.written && !placement.kept) await host.adapter.removeById(orderId(placement));
			},
		},
		[
			{
				// Every line or none; a cart's hold gives its units first. A shortage is told by the product's name.
				name: "reserveStock",
				async run(placement) {
					try {
						await call(placement.ctx, "inventory.reserve", {
							orderId: orderId(placement),
							items: placement.lines,
							...(placement.holdId ? { holdId: placement.holdId } : {}),
						});
					} catch (err) {
						if (!isShopError(err, "OUT_OF_STOCK")) throw err;
						const data = (err as { data: { productId: string; available: number } }).data;
						const name = placement.order.items.find((line) => line.productId === data.productId)?.name ?? data.productId;
						throw shopError("OUT_OF_STOCK", `Not enough stock of ${name}: ${data.available} left`, { ...data, name });
					}
				},
				async undo(placement) {
					const reason = "order not placed";
					await host.compensate(placement.ctx, "inventory.release", { orderId: orderId(placement), items: placement.lines, reason });
				},
			},
			{
				// One payment per order, its card authorized by the provider.
				name: "preparePayment",
				async run(placement) {
					const { order, cardNumber } = placement;
					await call(placement.ctx, "payments.prepare", {
						orderId: order._id,
						userId: order.userId,
						amount: order.total,
						currency: order.currency,
						cardNumber,
					});
				},
				async undo(placement) {
					await host.compensate(placement.ctx, "payments.refund", { orderId: orderId(placement) });
				},
			},
		],
		{
			// The order is announced (`order.created` starts the charge) and no longer being placed, in
			// one journalled decision. If recovery claimed the placement first (this node looked gone,
			// or took over a minute), the order is being failed: what was taken goes back, and the
			// client is told to try again, never that it was placed.
			name: "finishPlacement",
			async run(placement) {
				const placed = publicOrder({ ...stored(placement.order), ...PLACING_OVER });
				const finished = await host.changeOnce(`${placed.id}:placement`, { _id: placed.id }, PLACING_OVER, [
					host.domainEvent("order.created", placed, placed.id),
				]);
				if (finished) return;
				placement.kept = true;
				throw shopError("PLACEMENT_UNDONE", "Placing the order took too long and it was undone: try again");
			},
		},
	];
}

/** A placement about to run: the request priced into its order. */
export async function preparePlacement(host: PlacementHost, ctx: Context, request: PlacementRequest): Promise<Placement> {
	const lines = mergeLines(request.lines);
	const order = await newOrder(host, ctx, request, lines);
	return { ctx, lines, order, cardNumber: request.cardNumber, holdId: request.holdId, written: false, kept: false };
}

/** Runs a placement's steps; answers its order, or the one placed before under the same key. */
export async function runPlacement(host: PlacementHost, placement: Placement, plan = placementPlan(host)): Promise<Order> {
	try {
		await runSaga(plan, placement, (step, err) =>
			host.logger.warn(`Could not undo ${step} of order ${placement.order._id} (recovery will): ${(err as Error).message}`),
		);
	} catch (err) {
		if (err instanceof EarlierOrder) return err.order;
		throw err;
	}
	const order = publicOrder({ ...stored(placement.order), ...PLACING_OVER });
	host.placed(order);
	return order;
}

/** Places an order, or answers the one placed before under the same key. */
export async function place(host: PlacementHost, ctx: Context, request: PlacementRequest): Promise<Order> {
	return runPlacement(host, await preparePlacement(host, ctx, request));
}
