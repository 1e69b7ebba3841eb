import { css, html, LitElement } from "lit";
import { customElement } from "lit/decorators.js";
import type { Inventory, Order, OrderStatus, Page } from "../../api/types";
import { debounce } from "../../lib/debounce";
import { formatDateTime, formatMoney, shortId } from "../../lib/format";
import { statusLabel } from "../../lib/order-status";
import { apiContext } from "../../state/contexts";
import { LiveSubscription, use } from "../../state/controllers";
import { Loader } from "../shared/loader";
import { OrdersFeed } from "../shared/orders-feed";
import "../shared/status-badge";
import "./sales-insight";
import { base, buttons, tables, tileGrid } from "../shared/styles";

/** The statuses that ask something of the shop, in the order it works through them. */
const WORK_STATUSES: readonly { status: OrderStatus; hint: string }[] = [
	{ status: "pending", hint: "awaiting payment" },
	{ status: "confirmed", hint: "to start" },
	{ status: "processing", hint: "to ship" },
	{ status: "shipped", hint: "on their way" },
];

interface LowStockRow extends Inventory {
	name: string;
}

/** What needs attention now: orders waiting on the shop, the latest orders, stock running out. */
@customElement("agora-admin-overview")
export class AdminOverview extends LitElement {
	static override styles = [
		base,
		buttons,
		tables,
		tileGrid,
		css`
			.columns {
				display: grid;
				grid-template-columns: repeat(auto-fit, minmax(18rem, 1fr));
				gap: var(--agora-space-4);
				align-items: start;
			}
			.low {
				color: var(--agora-danger);
				font-weight: 700;
			}
		`,
	];

	readonly #api = use(this, apiContext);
	readonly #recent = new OrdersFeed(this, { page: 1, pageSize: 5 });
	readonly #counts = new Loader(this, async () => {
		const pages = await Promise.all(WORK_STATUSES.map(({ status }) => this.#api.value.orders.list({ status, pageSize: 1 })));
		return pages.map((page) => page.total);
	});
	readonly #lowStock = new Loader<LowStockRow[]>(this, async () => {
		const [levels, products] = await Promise.all([this.#api.value.inventory.lowStock(), this.#api.value.products.list({ pageSize: 100 })]);
		const names = new Map(products.rows.map((product) => [product.id, product.name]));
		return levels.map((level) => ({ ...level, name: names.get(level.productId) ?? level.productId }));
	});

	constructor() {
		super();
		// Counts come from the server; a burst of order pushes triggers one recount.
		const recount = debounce(() => void this.#counts.run(), 400);
		const recheckStock = debounce(() => void this.#lowStock.run(), 400);
		new LiveSubscription(this, {
			"order.created": recount,
			"order.updated": recount,
			"order.cancelled": recount,
			"inventory.updated": recheckStock,
			"inventory.low-stock": recheckStock,
		});
	}

	override connectedCallback(): void {
		super.connectedCallback();
		void this.#recent.load();
		void this.#counts.run();
		void this.#lowStock.run();
	}

	override render() {
		return html`<agora-sales-insight></agora-sales-insight>
			<section aria-labelledby="work-heading">
				<h2 id="work-heading">Orders in progress</h2>
				${this.#counts.render((counts) => this.#tiles(counts))}
			</section>
			<div class="columns">
				<section class="card" aria-labelledby="recent-heading">
					<h2 id="recent-heading">Latest orders</h2>
					${this.#recent.loader.render((page) => this.#latest(page))}
					<p><a href="/admin/orders">Open the orders board</a></p>
				</section>
				<section class="card" aria-labelledby="stock-heading">
					<h2 id="stock-heading">Low stock</h2>
					${this.#lowStock.render((rows) => this.#low(rows))}
					<p><a href="/admin/inventory">Manage inventory</a></p>
				</section>
			</div>`;
	}

	#tiles(counts: number[]) {
		return html`<ul class="tiles">
			${WORK_STATUSES.map(
				({ status, hint }, i) => html`<li>
					<a class="card tile" href="/admin/orders">
						<strong>${counts[i] ?? 0}</strong>
						<span>${statusLabel(status)} <span class="muted">· ${hint}</span></span>
					</a>
				</li>`,
			)}
		</ul>`;
	}

	#latest(page: Page<Order>) {
		if (page.rows.length === 0) return html`<p class="muted">No orders yet.</p>`;
		return html`<div class="table-wrap">
			<table>
				<thead>
					<tr><th scope="col">Order</th><th scope="col">Placed</th><th scope="col" class="number">Total</th><th scope="col">Status</th></tr>
				</thead>
				<tbody>
					${page.rows.map(
						(order) => html`<tr>
							<td><a href="/orders/${encodeURIComponent(order.id)}">${shortId(order.id)}</a></td>
							<td>${formatDateTime(order.createdAt)}</td>
							<td class="number">${formatMoney(order.total, order.currency)}</td>
							<td><agora-status-badge status=${order.status}></agora-status-badge></td>
						</tr>`,
					)}
				</tbody>
			</table>
		</div>`;
	}

	#low(rows: LowStockRow[]) {
		if (rows.length === 0) return html`<p class="muted">Every product is above its alert level.</p>`;
		return html`<div class="table-wrap">
			<table>
				<thead>
					<tr><th scope="col">Product</th><th scope="col" class="number">Left</th><th scope="col" class="number">Alert at</th></tr>
				</thead>
				<tbody>
					${rows.map(
						(row) => html`<tr>
							<td>${row.name}</td>
							<td class="number low">${row.available}</td>
							<td class="number">${row.lowStockThreshold}</td>
						</tr>`,
					)}
				</tbody>
			</table>
		</div>`;
	}
}

declare global {
	interface HTMLElementTagNameMap {
		"agora-admin-overview": AdminOverview;
	}
}
