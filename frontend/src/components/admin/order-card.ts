import { css, html, LitElement, nothing } from "lit";
import { customElement, property } from "lit/decorators.js";
import type { Order, OrderStatus } from "../../api/types";
import { formatDateTime, formatMoney, shortId } from "../../lib/format";
import { actionLabel, adminTransitions } from "../../lib/order-status";
import "../shared/confirm-button";
import "../shared/status-badge";
import { base, buttons } from "../shared/styles";

/** Asks the board to move an order; the board applies it optimistically and rolls back on refusal. */
export class StatusChangeEvent extends Event {
	constructor(
		readonly order: Order,
		readonly status: OrderStatus,
	) {
		super("status-change", { bubbles: true, composed: true });
	}
}

/** An order on the admin board, with buttons for exactly the moves the server allows from its status. */
@customElement("agora-order-card")
export class OrderCard extends LitElement {
	static override styles = [
		base,
		buttons,
		css`
			article {
				display: grid;
				gap: var(--agora-space-2);
				padding: var(--agora-space-3);
				background: var(--agora-surface);
				border: 1px solid var(--agora-border);
				border-left: 4px solid var(--agora-border);
				border-radius: var(--agora-radius-small);
			}
			:host([fresh]) article {
				border-left-color: var(--agora-accent);
				animation: arrive 1.2s ease-out;
			}
			:host([status="cancelled"]) article,
			:host([status="failed"]) article {
				border-left-color: var(--agora-danger);
				background: var(--agora-danger-soft);
			}
			header {
				display: flex;
				flex-wrap: wrap;
				align-items: baseline;
				justify-content: space-between;
				gap: var(--agora-space-1) var(--agora-space-2);
			}
			h3 {
				margin: 0;
				font-size: 0.95rem;
			}
			h3 a {
				color: inherit;
			}
			.new {
				padding: 0 0.5rem;
				font-size: 0.75rem;
				font-weight: 700;
				color: var(--agora-on-accent);
				background: var(--agora-accent);
				border-radius: 999px;
			}
			p {
				margin: 0;
				font-size: 0.875rem;
			}
			.total {
				font-weight: 700;
			}
			.actions {
				display: flex;
				flex-wrap: wrap;
				gap: var(--agora-space-1);
			}
			@keyframes arrive {
				from {
					background: var(--agora-accent-soft);
				}
			}
		`,
	];

	@property({ attribute: false }) order?: Order;
	/** Arrived while the board was open. */
	@property({ type: Boolean, reflect: true }) fresh = false;
	@property({ reflect: true }) status?: OrderStatus;

	protected override willUpdate(): void {
		this.status = this.order?.status;
	}

	override render() {
		const order = this.order;
		if (!order) return nothing;
		const id = shortId(order.id);
		return html`<article aria-label="Order ${id}">
			<header>
				<h3><a href="/orders/${encodeURIComponent(order.id)}">${id}</a></h3>
				${this.fresh ? html`<span class="new">New</span>` : nothing}
				${order.status === "cancelled" || order.status === "failed" ? html`<agora-status-badge status=${order.status}></agora-status-badge>` : nothing}
			</header>
			<p>${order.shippingAddress?.name ?? "Customer"} · <span class="muted">${formatDateTime(order.createdAt)}</span></p>
			<p>${order.items.map((item) => `${item.quantity} × ${item.name}`).join(", ")}</p>
			<p class="total">${formatMoney(order.total, order.currency)}</p>
			${this.#actions(order, id)}
		</article>`;
	}

	#actions(order: Order, id: string) {
		const next = adminTransitions(order.status);
		if (next.length === 0) return nothing;
		const move = (status: OrderStatus) => this.dispatchEvent(new StatusChangeEvent(order, status));
		return html`<div class="actions" role="group" aria-label="Move order ${id}">
			${next.map((status) =>
				status === "cancelled"
					? html`<agora-confirm-button small label="Cancel" question="Cancel ${id}?" confirmLabel="Yes, cancel" keepLabel="Keep"
							@confirm=${() => move(status)}></agora-confirm-button>`
					: html`<button class="button small primary" type="button" @click=${() => move(status)}>
							${actionLabel(status)}<span class="sr-only"> ${id}</span>
						</button>`,
			)}
		</div>`;
	}
}

declare global {
	interface HTMLElementTagNameMap {
		"agora-order-card": OrderCard;
	}
	interface HTMLElementEventMap {
		"status-change": StatusChangeEvent;
	}
}
