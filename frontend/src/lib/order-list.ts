/** Keeps a list of orders current as pushes, catch-up replays and REST answers arrive in any order. */
import type { Order } from "../api/types";

/**
 * Whether `incoming` is at least as recent as `current`: a late or replayed push must not roll an
 * order back. Optimistic copies keep the server's `updatedAt`, so undoing one is accepted unless a
 * real change has landed meanwhile, which then rightly stays.
 */
export function isNewer(incoming: Pick<Order, "updatedAt">, current: Pick<Order, "updatedAt">): boolean {
	return Date.parse(incoming.updatedAt) >= Date.parse(current.updatedAt);
}

export interface UpsertOptions {
	/** Add orders the list does not have yet (off for a page other than the first). */
	insert?: boolean;
}

/** The list with `order` replacing its older self, or added newest-first; unchanged (same array) otherwise. */
export function upsertOrder(orders: readonly Order[], order: Order, { insert = true }: UpsertOptions = {}): readonly Order[] {
	const index = orders.findIndex((existing) => existing.id === order.id);
	if (index === -1) {
		if (!insert) return orders;
		return [...orders, order].sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt));
	}
	const current = orders[index];
	if (current && !isNewer(order, current)) return orders;
	return orders.map((existing, i) => (i === index ? order : existing));
}
