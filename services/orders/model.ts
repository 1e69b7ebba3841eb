/**
 * How an order is stored: the order clients see (lib/contracts/orders.ts `Order`) plus the
 * bookkeeping of its placement, which clients never see.
 */
import mongoose from "mongoose";
import { ORDER_STATUSES, type Order, PAYMENT_STATUSES } from "../../lib/contracts/orders";
import type { CollectionSpec } from "../../lib/platform/store";

/**
 * While an order is being placed (from its first write until its answer), which node places it,
 * so that another orders node can undo it if that node dies. `placingNode` turns null once
 * recovery has claimed it; all three once the placement is over.
 */
export interface Placing {
	placingSince: Date | null;
	placingNode: string | null;
	placingInstance: string | null;
}

export const PLACING_OVER = { placingSince: null, placingNode: null, placingInstance: null } satisfies Placing;

/** An order as stored: with its idempotency key (`<buyer>:<key>`) and its placement's progress. */
export type StoredOrder = Order & Placing & { idempotencyKey?: string };

/** An order as its placement writes it. */
export type NewOrder = Omit<StoredOrder, "id"> & { _id: string };

export const ORDERS_SPEC: CollectionSpec = {
	name: "orders",
	fields: {
		userId: { type: String, default: null },
		email: { type: String },
		items: [{ _id: false, productId: String, name: String, price: Number, quantity: Number }],
		subtotal: { type: Number, required: true },
		shipping: { type: mongoose.Schema.Types.Mixed, default: null },
		tax: { type: mongoose.Schema.Types.Mixed, default: null },
		total: { type: Number, required: true },
		currency: { type: String, required: true },
		status: { type: String, required: true, enum: ORDER_STATUSES },
		paymentStatus: { type: String, required: true, enum: PAYMENT_STATUSES },
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
};

/** The order a placement wrote, with `id` as everywhere else. */
export function stored({ _id, ...order }: NewOrder): StoredOrder {
	return { id: _id, ...order };
}

/**
 * A stored order as clients see it: the idempotency key and the placement's progress are
 * bookkeeping. Orders stored before shipping and tax existed cost their items' sum.
 */
export function publicOrder({
	idempotencyKey: _key,
	placingSince: _since,
	placingNode: _node,
	placingInstance: _instance,
	...order
}: StoredOrder): Order {
	return { ...order, subtotal: order.subtotal ?? order.total, shipping: order.shipping ?? null, tax: order.tax ?? null };
}
