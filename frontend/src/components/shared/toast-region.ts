import { css, html, LitElement } from "lit";
import { customElement } from "lit/decorators.js";
import { repeat } from "lit/directives/repeat.js";
import { toastContext } from "../../state/contexts";
import { watch } from "../../state/controllers";
import type { Toast } from "../../state/toasts";
import { base } from "./styles";

/** Toasts in two live regions: errors interrupt a screen reader, everything else waits its turn. */
@customElement("agora-toast-region")
export class ToastRegion extends LitElement {
	static override styles = [
		base,
		css`
			:host {
				position: fixed;
				inset: auto var(--agora-space-4) var(--agora-space-4) auto;
				z-index: 10;
				display: grid;
				gap: var(--agora-space-2);
				width: min(24rem, calc(100vw - 2 * var(--agora-space-4)));
				pointer-events: none;
			}
			.region {
				display: grid;
				gap: var(--agora-space-2);
			}
			.toast {
				display: flex;
				align-items: flex-start;
				gap: var(--agora-space-3);
				padding: var(--agora-space-3) var(--agora-space-4);
				color: var(--agora-text);
				background: var(--agora-surface);
				border: 1px solid var(--agora-border);
				border-left: 6px solid var(--agora-info);
				border-radius: var(--agora-radius-small);
				box-shadow: var(--agora-shadow);
				pointer-events: auto;
				animation: enter 180ms ease-out;
			}
			.toast[data-tone="success"] {
				border-left-color: var(--agora-accent);
			}
			.toast[data-tone="warning"] {
				border-left-color: #c98200;
			}
			.toast[data-tone="error"] {
				border-left-color: var(--agora-danger);
			}
			.message {
				flex: 1;
				margin: 0;
			}
			button {
				flex: none;
				width: 1.75rem;
				height: 1.75rem;
				padding: 0;
				font-size: 1.25rem;
				line-height: 1;
				color: var(--agora-text-muted);
				background: none;
				border: 0;
				border-radius: var(--agora-radius-small);
				cursor: pointer;
			}
			/*
			 * On a phone a toast at the bottom would sit on the buttons under the shopper's thumb (the
			 * next card's "Add to cart"): there it docks at the top, and taps go through it to the page;
			 * only its dismiss button is a target of its own.
			 */
			@media (max-width: 40rem) {
				:host {
					inset: var(--agora-space-2) var(--agora-space-2) auto;
					width: auto;
				}
				.toast {
					pointer-events: none;
					padding: var(--agora-space-2) var(--agora-space-3);
				}
				button {
					pointer-events: auto;
				}
			}
			@keyframes enter {
				from {
					opacity: 0;
					transform: translateY(0.5rem);
				}
			}
		`,
	];

	readonly #toasts = watch(this, toastContext);

	override render() {
		const toasts = this.#toasts.value.list;
		return html`<div class="region" role="status">${this.#render(toasts.filter((toast) => toast.tone !== "error"))}</div>
			<div class="region" role="alert">${this.#render(toasts.filter((toast) => toast.tone === "error"))}</div>`;
	}

	#render(toasts: readonly Toast[]) {
		return repeat(
			toasts,
			(toast) => toast.id,
			(toast) => html`<div class="toast" data-tone=${toast.tone}>
				<p class="message">${toast.message}</p>
				<button type="button" aria-label="Dismiss notification" @click=${() => this.#toasts.value.dismiss(toast.id)}>×</button>
			</div>`,
		);
	}
}

declare global {
	interface HTMLElementTagNameMap {
		"agora-toast-region": ToastRegion;
	}
}
