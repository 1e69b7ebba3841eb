import { css, html, LitElement } from "lit";
import { customElement, state } from "lit/decorators.js";
import { repeat } from "lit/directives/repeat.js";
import type { Order, Page } from "../../api/types";
import { shortId } from "../../lib/format";
import { BOARD_COLUMNS, statusLabel } from "../../lib/order-status";
import { apiContext, toastContext } from "../../state/contexts";
import { LiveSubscription, use } from "../../state/controllers";
import { optimistically } from "../../state/optimistic";
import { OrdersFeed } from "../shared/orders-feed";
import { base, buttons } from "../shared/styles";
import "./order-card";
import type { StatusChangeEvent } from "./order-card";

// The board is a working view of what is in flight; older orders are on the shoppers' pages and via the API.
const BOARD_SIZE = 100;

/** Orders by status, live: new ones appear, moves and cancellations show as they happen. */
@customElement("agora-orders-board")
export class OrdersBoard extends LitElement {
	static override styles = [
		base,
		buttons,
		css`
			.board {
				display: grid;
				grid-template-columns: repeat(auto-fit, minmax(10.5rem, 1fr));
				gap: var(--agora-space-3);
				align-items: start;
			}
			section {
				min-width: 0;
				padding: var(--agora-space-3);
				background: var(--agora-surface-muted);
				border-radius: var(--agora-radius);
			}
			h2 {
				display: flex;
				justify-content: space-between;
				margin-bottom: var(--agora-space-3);
				font-size: 0.95rem;
			}
			.count {
				min-width: 1.75rem;
				padding: 0 0.5rem;
				text-align: center;
				background: var(--agora-surface);
				border-radius: 999px;
			}
			ul {
				display: grid;
				gap: var(--agora-space-2);
				margin: 0;
				padding: 0;
				list-style: none;
			}
			.empty {
				margin: 0;
				font-size: 0.875rem;
			}
		`,
	];

	/** Orders that arrived while the board was open, marked "New". */
	@state() private fresh: ReadonlySet<string> = new Set();
	/** The last move, for screen readers: the card itself jumps to another column. */
	@state() private announcement = "";

	readonly #api = use(this, apiContext);
	readonly #toasts = use(this, toastContext);
	readonly #feed = new OrdersFeed(this, { page: 1, pageSize: BOARD_SIZE });

	constructor() {
		super();
		new LiveSubscription(this, {
			"order.created": (order) => {
				this.fresh = new Set(this.fresh).add(order.id);
			},
		});
		this.addEventListener("status-change", (event) => void this.#move(event));
	}

	override connectedCallback(): void {
		super.connectedCallback();
		void this.#feed.load();
	}

	override render() {
		return html`<p class="sr-only" role="status">${this.announcement}</p>
			${this.#feed.loader.render((page) => this.#board(page), "Loading orders…")}`;
	}

	#board(page: Page<Order>) {
		return html`<div class="board">
			${BOARD_COLUMNS.map((column, i) => {
				const orders = page.rows.filter((order) => column.statuses.includes(order.status));
				return html`<section aria-labelledby="column-${i}">
					<h2 id="column-${i}">${column.title} <span class="count">${orders.length}</span></h2>
					${
						orders.length === 0
							? html`<p class="empty muted">No orders</p>`
							: html`<ul>
									${repeat(
										orders,
										(order) => order.id,
										(order) => html`<li><agora-order-card .order=${order} ?fresh=${this.fresh.has(order.id)}></agora-order-card></li>`,
									)}
								</ul>`
					}
				</section>`;
			})}
		</div>`;
	}

	async #move({ order, status }: StatusChangeEvent): Promise<void> {
		const orders = this.#api.value.orders;
		const id = shortId(order.id);
		try {
			const moved = await optimistically(
				() => this.#feed.put({ ...order, status }),
				// Cancelling goes through its own route: it also releases stock and refunds.
				() => (status === "cancelled" ? orders.cancel(order.id) : orders.setStatus(order.id, status)),
				() => this.#feed.put(order),
			);
			this.#feed.put(moved);
			this.announcement = `Order ${id} is now ${statusLabel(moved.status).toLowerCase()}.`;
		} catch (error) {
			this.#toasts.value.error(error, `Order ${id} could not be moved.`);
		}
	}
}

declare global {
	interface HTMLElementTagNameMap {
		"agora-orders-board": OrdersBoard;
	}
}
