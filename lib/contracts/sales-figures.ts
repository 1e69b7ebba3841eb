/**
 * The sales read model's arithmetic, shared by the insights service and its tests: which facts an
 * order or an account stands for, and how facts add up to the figures of an hour or a period.
 * Everything here is a pure function of its input, so a live projection and a rebuild agree.
 */
import type { AccountSnapshot, OrderSnapshot } from "./events";

/** What the figures read of an order event. */
export type OrderFactsSource = Pick<OrderSnapshot, "id" | "items" | "total" | "paymentStatus" | "createdAt" | "updatedAt"> & {
	history: Pick<OrderSnapshot["history"][number], "status" | "at">[];
};

/** What the figures read of `user.registered`. */
export type AccountFactsSource = Pick<AccountSnapshot, "id" | "role" | "createdAt">;

export interface ProductFigures {
	productId: string;
	name: string;
	units: number;
	revenue: number;
}

export interface Figures {
	/** Orders placed. */
	orders: number;
	/** Paid revenue in cents, less what cancels and refunds took back. */
	revenue: number;
	/** Paid orders, less those taken back (for the average order value). */
	paid: number;
	cancelled: number;
	/** Orders whose payment was declined or never came. */
	failed: number;
	newCustomers: number;
}

/**
 * One business fact, at the moment it happened. Its key names the fact ("order X was paid"), so
 * each is counted once however many events repeat it: every order event carries the whole order,
 * and a redelivered or replayed event names the same facts again.
 */
export interface Fact extends Figures {
	key: string;
	at: Date;
	products: ProductFigures[];
}

export interface Totals {
	orders: number;
	revenue: number;
	cancelled: number;
	failed: number;
	averageOrderValue: number;
	newCustomers: number;
}

/** `GET /stats/sales` asks for... */
export interface SalesQuery {
	from: string;
	to: string;
	bucket: "hour" | "day";
}

/** ...and answers this (money in cents; `previous` is the period of equal length just before). */
export interface SalesAnswer {
	totals: Totals;
	previous: Totals;
	buckets: { at: string; orders: number; revenue: number; cancelled: number }[];
	topProducts: ProductFigures[];
}

/** What `stats.updated` carries: today's totals (the UTC day), for admins' dashboards. */
export interface StatsPush {
	from: string;
	to: string;
	totals: Totals;
}

/** The params of the internal `<service>.scan` actions a rebuild reads the stores with, oldest first. */
export const SCAN_PARAMS = {
	offset: { type: "number", integer: true, min: 0, default: 0 },
	limit: { type: "number", integer: true, min: 1, max: 1_000, default: 500 },
} as const;

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

export const NO_FIGURES: Readonly<Figures> = { orders: 0, revenue: 0, paid: 0, cancelled: 0, failed: 0, newCustomers: 0 };

const FIGURE_NAMES = Object.keys(NO_FIGURES) as (keyof Figures)[];

/** The start of the UTC hour `at` falls in: the unit of the stored buckets. */
export function hourOf(at: Date): Date {
	return new Date(Math.floor(at.getTime() / HOUR_MS) * HOUR_MS);
}

function fact(key: string, at: string | Date, figures: Partial<Figures>, products: ProductFigures[] = []): Fact {
	return { key, at: new Date(at), ...NO_FIGURES, ...figures, products };
}

function lines(order: OrderFactsSource, sign: 1 | -1): ProductFigures[] {
	return order.items.map((item) => ({
		productId: item.productId,
		name: item.name,
		units: sign * item.quantity,
		revenue: sign * item.price * item.quantity,
	}));
}

/**
 * The facts an order stands for, dated by the order itself (its creation and its history), never
 * by when an event about it was handled: so the orders store alone rebuilds the same figures.
 * - placed, when created: one order;
 * - paid, when it became confirmed: its total as revenue, its lines as units and product revenue;
 * - failed, when its payment was declined or timed out;
 * - cancelled, when cancelled; if it had been paid, that takes its revenue back at the same moment;
 * - a refund without a cancel (an operator's): takes the revenue back when the order last changed.
 */
export function orderFacts(order: OrderFactsSource): Fact[] {
	const when = (status: string) => order.history.find((entry) => entry.status === status)?.at;
	const facts = [fact(`placed:${order.id}`, order.createdAt, { orders: 1 })];
	const paidAt = when("confirmed");
	const failedAt = when("failed");
	const cancelledAt = when("cancelled");
	if (paidAt) facts.push(fact(`paid:${order.id}`, paidAt, { revenue: order.total, paid: 1 }, lines(order, 1)));
	if (failedAt) facts.push(fact(`failed:${order.id}`, failedAt, { failed: 1 }));
	if (cancelledAt) facts.push(fact(`cancelled:${order.id}`, cancelledAt, { cancelled: 1 }));
	const takenBackAt = cancelledAt ?? (order.paymentStatus === "refunded" ? order.updatedAt : undefined);
	if (paidAt && takenBackAt) facts.push(fact(`takenBack:${order.id}`, takenBackAt, { revenue: -order.total, paid: -1 }, lines(order, -1)));
	return facts;
}

/** A new customer, when the account was made (admins are not customers). */
export function accountFacts(account: AccountFactsSource): Fact[] {
	return account.role === "customer" ? [fact(`customer:${account.id}`, account.createdAt, { newCustomers: 1 })] : [];
}

/** Adds `more` into `into`, figure by figure and product by product. */
export function addFigures(
	into: Figures & { products: Map<string, ProductFigures> },
	more: Figures & { products: ProductFigures[] },
): void {
	for (const name of FIGURE_NAMES) into[name] += more[name];
	for (const line of more.products) {
		const known = into.products.get(line.productId);
		if (known) {
			known.units += line.units;
			known.revenue += line.revenue;
		} else into.products.set(line.productId, { ...line });
	}
}

export function emptySum(): Figures & { products: Map<string, ProductFigures> } {
	return { ...NO_FIGURES, products: new Map() };
}

export function totals(figures: Figures): Totals {
	const { orders, revenue, paid, cancelled, failed, newCustomers } = figures;
	return { orders, revenue, cancelled, failed, averageOrderValue: paid > 0 ? Math.round(revenue / paid) : 0, newCustomers };
}

/** The best sellers: by revenue, then units; products whose sales were all taken back are left out. */
export function topProducts(products: Iterable<ProductFigures>, count = 5): ProductFigures[] {
	return [...products]
		.filter((line) => line.units > 0)
		.sort((a, b) => b.revenue - a.revenue || b.units - a.units || a.name.localeCompare(b.name))
		.slice(0, count);
}
