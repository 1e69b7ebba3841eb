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

/** A moment: a Date while it stays in one process, the same instant as an ISO string once it crossed a wire. */
export type Timestamp = Date | string;

/**
 * Where the order's money stands: `pending` until the charge's verdict; `paid` or `declined` by it;
 * `voided` when the order was cancelled or failed before anything was taken; `refunded` when what
 * was taken went back.
 */
export const PAYMENT_STATUSES = ["pending", "paid", "declined", "voided", "refunded"] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

export interface OrderItem {
	productId: string;
	name: string;
	/** Minor units, copied from the catalogue when the order was placed. */
	price: number;
	quantity: number;
}

export interface HistoryEntry {
	status: OrderStatus;
	at: Timestamp;
	/** A user id, or the part of the system that made the change ("payments", "reaper"). */
	by: string;
	note?: string;
}

/** The shipping method an order goes by, as charged. */
export interface ShippingCharge {
	method: string;
	name: string;
	price: number;
}

/** The tax of an order: the destination's rate (basis points) on items plus shipping. */
export interface TaxCharge {
	country: string;
	rate: number;
	amount: number;
}

/** An order, as the API answers it and its events carry it (docs/api.md). */
export interface Order {
	id: string;
	/** The customer's account; null for a guest's order, which has `email` instead. */
	userId: string | null;
	email?: string;
	items: OrderItem[];
	/** The items' sum. */
	subtotal: number;
	shipping: ShippingCharge | null;
	tax: TaxCharge | null;
	/** subtotal + shipping + tax: what is charged. */
	total: number;
	currency: string;
	status: OrderStatus;
	paymentStatus: PaymentStatus;
	history: HistoryEntry[];
	shippingAddress: ShippingAddress;
	cardLast4: string;
	createdAt: Timestamp;
	updatedAt: Timestamp;
}

/** What a payment's verdict does to its order: the order's next status and its money's. */
export function paymentVerdict(outcome: "succeeded" | "failed"): { status: OrderStatus; paymentStatus: PaymentStatus } {
	return outcome === "succeeded" ? { status: "confirmed", paymentStatus: "paid" } : { status: "failed", paymentStatus: "declined" };
}
