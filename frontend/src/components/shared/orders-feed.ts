import type { ReactiveControllerHost } from "lit";
import type { Order, Page } from "../../api/types";
import { upsertOrder } from "../../lib/order-list";
import { apiContext } from "../../state/contexts";
import { LiveSubscription, use } from "../../state/controllers";
import { Loader } from "./loader";

export interface OrdersQuery {
	page: number;
	pageSize: number;
}

/**
 * A page of orders that stays current: loaded over REST, then kept up to date by pushes and by the
 * catch-up replay after a reconnect. Serves the shopper's list and the admin board alike: the
 * server decides whose orders each of them sees.
 */
export class OrdersFeed {
	readonly loader: Loader<Page<Order>>;
	#query: OrdersQuery;

	constructor(host: ReactiveControllerHost & HTMLElement, query: OrdersQuery) {
		this.#query = query;
		const api = use(host, apiContext);
		this.loader = new Loader(host, () => api.value.orders.list(this.#query));
		const put = (order: Order) => this.put(order);
		new LiveSubscription(host, { "order.created": put, "order.updated": put, "order.cancelled": put });
	}

	get orders(): readonly Order[] {
		return this.loader.value?.rows ?? [];
	}

	load(query: OrdersQuery = this.#query): Promise<void> {
		this.#query = query;
		return this.loader.run();
	}

	/** Takes a newer version of an order; new orders join only the first page, where the newest are. */
	put(order: Order): void {
		this.loader.patch((page) => {
			const rows = upsertOrder(page.rows, order, { insert: page.page === 1 });
			return rows === page.rows ? page : { ...page, rows: rows.slice(0, page.pageSize) };
		});
	}
}
