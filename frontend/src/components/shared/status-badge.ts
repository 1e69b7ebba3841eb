import { css, html, LitElement } from "lit";
import { customElement, property } from "lit/decorators.js";
import type { OrderStatus } from "../../api/types";
import { statusLabel } from "../../lib/order-status";

@customElement("agora-status-badge")
export class StatusBadge extends LitElement {
	static override styles = css`
		:host {
			display: inline-block;
			padding: 0.125rem 0.625rem;
			font-size: 0.8125rem;
			font-weight: 700;
			white-space: nowrap;
			border-radius: 999px;
			color: var(--agora-info);
			background: var(--agora-info-soft);
		}
		:host([status="pending"]) {
			color: var(--agora-warning);
			background: var(--agora-warning-soft);
		}
		:host([status="shipped"]),
		:host([status="delivered"]) {
			color: var(--agora-accent-strong);
			background: var(--agora-accent-soft);
		}
		:host([status="cancelled"]),
		:host([status="failed"]) {
			color: var(--agora-danger);
			background: var(--agora-danger-soft);
		}
	`;

	@property({ reflect: true }) status: OrderStatus = "pending";

	override render() {
		return html`<span>${statusLabel(this.status)}</span>`;
	}
}

declare global {
	interface HTMLElementTagNameMap {
		"agora-status-badge": StatusBadge;
	}
}
