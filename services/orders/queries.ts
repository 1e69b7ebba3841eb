/** The order lists: an admin's (every order) or a customer's (their own), newest first, a page at a time. */
import type { Order, OrderStatus } from "../../lib/contracts/orders";
import type { DbAdapter, Entity } from "../../lib/platform/store";
import type { AuthUser } from "../../lib/platform/tokens";
import { publicOrder, type StoredOrder } from "./model";

interface Reader {
	adapter: DbAdapter;
	toEntity<T extends Entity>(doc: unknown): T;
}

const ordersOf = (reader: Reader, docs: unknown[]): Order[] => docs.map((doc) => publicOrder(reader.toEntity<StoredOrder>(doc)));

/** Who sees what: an admin every order, anyone else their own. */
const visibleTo = (user: AuthUser): Record<string, unknown> => (user.role === "admin" ? {} : { userId: user.id });

export async function listOrders(
	reader: Reader,
	user: AuthUser,
	{ status, page, pageSize }: { status?: OrderStatus; page: number; pageSize: number },
) {
	const query = { ...visibleTo(user), ...(status ? { status } : {}) };
	const [docs, total] = await Promise.all([
		reader.adapter.find({ query, sort: ["-createdAt"], limit: pageSize, offset: (page - 1) * pageSize }),
		reader.adapter.count({ query }),
	]);
	return { rows: ordersOf(reader, docs), total, page, pageSize, totalPages: Math.ceil(total / pageSize) };
}

/** Orders changed after `since`, oldest change first: a reconnecting client's catch-up. */
export async function ordersChangedSince(reader: Reader, user: AuthUser, since: Date, limit: number): Promise<Order[]> {
	return ordersOf(
		reader,
		await reader.adapter.find({ query: { ...visibleTo(user), updatedAt: { $gt: since } }, sort: ["updatedAt"], limit }),
	);
}

/** Every order, oldest first, a page at a time (the sales figures rebuild from these). */
export async function scanOrders(reader: Reader, offset: number, limit: number): Promise<Order[]> {
	return ordersOf(reader, await reader.adapter.find({ sort: ["createdAt"], offset, limit }));
}
