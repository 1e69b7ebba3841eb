/** The order state machine (docs/events.md), shared by the orders service, its tests and the web app. */
export const ORDER_STATUSES = ["pending", "confirmed", "processing", "shipped", "delivered", "failed", "cancelled"] as const;

export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** Where an order ships: given at checkout, kept with the order. */
export interface ShippingAddress {
	name: string;
	line1: string;
	city: string;
	postalCode: string;
	country: string;
}

/**
 * What an admin may set with PATCH /orders/:id/status. `confirmed` and `failed` are the payment's
 * verdict, set by the saga, never by hand; cancelling is allowed until the parcel has shipped.
 */
export const ADMIN_TRANSITIONS: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
	pending: ["cancelled"],
	confirmed: ["processing", "cancelled"],
	processing: ["shipped", "cancelled"],
	shipped: ["delivered"],
	delivered: [],
	failed: [],
	cancelled: [],
};

/** A customer may cancel only before the shop starts working on the order. */
export const CUSTOMER_CANCELLABLE: readonly OrderStatus[] = ["pending", "confirmed"];

export function canCancel(status: OrderStatus, role: "customer" | "admin"): boolean {
	return role === "admin" ? ADMIN_TRANSITIONS[status].includes("cancelled") : CUSTOMER_CANCELLABLE.includes(status);
}

export interface OrderLine {
	productId: string;
	quantity: number;
}

/** Sums duplicate lines and sorts by product, so concurrent reservations take products in the same order. */
export function mergeLines(items: readonly OrderLine[]): OrderLine[] {
	const totals = new Map<string, number>();
	for (const { productId, quantity } of items) totals.set(productId, (totals.get(productId) ?? 0) + quantity);
	return [...totals].sort(([a], [b]) => a.localeCompare(b)).map(([productId, quantity]) => ({ productId, quantity }));
}
