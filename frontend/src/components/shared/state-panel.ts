import { css, html, LitElement } from "lit";
import { customElement, property } from "lit/decorators.js";
import { base } from "./styles";

/** The loading, empty and error states of a page or a section, so they look and sound the same everywhere. */
@customElement("agora-state-panel")
export class StatePanel extends LitElement {
	static override styles = [
		base,
		css`
			:host {
				display: grid;
				justify-items: center;
				gap: var(--agora-space-2);
				padding: var(--agora-space-6) var(--agora-space-4);
				text-align: center;
				color: var(--agora-text-muted);
			}
			:host([kind="error"]) {
				color: var(--agora-danger);
			}
			.spinner {
				width: 1.75rem;
				height: 1.75rem;
				border: 3px solid var(--agora-border);
				border-top-color: var(--agora-accent);
				border-radius: 50%;
				animation: spin 0.8s linear infinite;
			}
			@keyframes spin {
				to {
					transform: rotate(360deg);
				}
			}
			strong {
				color: var(--agora-text);
				font-size: 1.05rem;
			}
			:host([kind="error"]) strong {
				color: inherit;
			}
		`,
	];

	@property({ reflect: true }) kind: "loading" | "empty" | "error" = "loading";
	@property() heading = "";

	override render() {
		if (this.kind === "loading")
			return html`<div class="spinner" aria-hidden="true"></div>
				<p role="status">${this.heading || "Loading…"}</p>`;
		return html`<div role=${this.kind === "error" ? "alert" : "status"}>
				<strong>${this.heading}</strong>
			</div>
			<slot></slot>`;
	}
}

declare global {
	interface HTMLElementTagNameMap {
		"agora-state-panel": StatePanel;
	}
}
