import { css, html, LitElement, type PropertyValues } from "lit";
import { customElement, property } from "lit/decorators.js";
import { repeat } from "lit/directives/repeat.js";
import type { Order, Page } from "../../api/types";
import { formatDateTime, formatMoney, plural, shortId } from "../../lib/format";
import { OrdersFeed } from "../shared/orders-feed";
import "../shared/pager";
import "../shared/status-badge";
import { base, buttons } from "../shared/styles";

const PAGE_SIZE = 20;

/** The shopper's orders, newest first; statuses change in place as the shop works on them. */
@customElement("agora-orders-page")
export class OrdersPage extends LitElement {
	static override styles = [
		base,
		buttons,
		css`
			ul {
				display: grid;
				gap: var(--agora-space-3);
				margin: 0;
				padding: 0;
				list-style: none;
			}
			li a {
				display: grid;
				grid-template-columns: minmax(0, 1fr) auto;
				gap: var(--agora-space-1) var(--agora-space-4);
				color: inherit;
				text-decoration: none;
			}
			li a:hover {
				border-color: var(--agora-accent);
			}
			.id {
				font-weight: 700;
			}
			.total {
				font-weight: 700;
				text-align: right;
			}
		`,
	];

	@property() search = "";

	readonly #feed = new OrdersFeed(this, { page: 1, pageSize: PAGE_SIZE });

	protected override willUpdate(changed: PropertyValues<this>): void {
		if (changed.has("search")) {
			const page = Number(new URLSearchParams(this.search).get("page"));
			void this.#feed.load({ page: Number.isInteger(page) && page > 1 ? page : 1, pageSize: PAGE_SIZE });
		}
	}

	override render() {
		return html`<div class="page-head"><h1>Your orders</h1></div>
			${this.#feed.loader.render((page) => this.#list(page), "Loading your orders…")}`;
	}

	#list(page: Page<Order>) {
		if (page.rows.length === 0)
			return html`<agora-state-panel kind="empty" heading="No orders yet">
				<a class="button primary" href="/">Find something you like</a>
			</agora-state-panel>`;
		return html`<ul>
				${repeat(
					page.rows,
					(order) => order.id,
					(order) => html`<li>
						<a class="card" href="/orders/${encodeURIComponent(order.id)}">
							<span class="id">Order ${shortId(order.id)}</span>
							<span class="total">${formatMoney(order.total, order.currency)}</span>
							<span class="muted">${formatDateTime(order.createdAt)} · ${plural(
								order.items.reduce((n, item) => n + item.quantity, 0),
								"item",
							)}</span>
							<agora-status-badge status=${order.status}></agora-status-badge>
						</a>
					</li>`,
				)}
			</ul>
			<agora-pager .page=${page.page} .totalPages=${page.totalPages} .href=${(n: number) => (n > 1 ? `/orders?page=${n}` : "/orders")}></agora-pager>`;
	}
}

declare global {
	interface HTMLElementTagNameMap {
		"agora-orders-page": OrdersPage;
	}
}
