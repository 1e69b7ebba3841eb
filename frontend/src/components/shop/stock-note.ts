import { css, html, LitElement } from "lit";
import { customElement, property } from "lit/decorators.js";

/** How many units are left, said the way a shop would say it; updated live by the pages that show it. */
@customElement("agora-stock-note")
export class StockNote extends LitElement {
	static override styles = css`
		:host {
			display: inline-block;
			font-size: 0.875rem;
			font-weight: 600;
			color: var(--agora-accent-strong);
		}
		:host([level="low"]) {
			color: var(--agora-warning);
		}
		:host([level="out"]) {
			color: var(--agora-danger);
		}
	`;

	@property({ type: Number }) available = 0;
	@property({ type: Number }) threshold = 5;
	@property({ reflect: true }) level: "in" | "low" | "out" = "in";

	protected override willUpdate(): void {
		this.level = this.available <= 0 ? "out" : this.available <= this.threshold ? "low" : "in";
	}

	override render() {
		if (this.level === "out") return html`<span>Out of stock</span>`;
		if (this.level === "low") return html`<span>Only ${this.available} left</span>`;
		return html`<span>In stock (${this.available})</span>`;
	}
}

declare global {
	interface HTMLElementTagNameMap {
		"agora-stock-note": StockNote;
	}
}
