import { css, html, LitElement } from "lit";
import { customElement } from "lit/decorators.js";
import type { ConnectionState } from "../../api/live";
import { liveContext } from "../../state/contexts";
import { watch } from "../../state/controllers";
import { base } from "./styles";

const LABELS: Record<ConnectionState, string> = {
	connecting: "Connecting…",
	connected: "Live",
	reconnecting: "Reconnecting…",
	offline: "Offline",
};

const DESCRIPTIONS: Record<ConnectionState, string> = {
	connecting: "Connecting to live updates",
	connected: "Live updates are on",
	reconnecting: "Live updates paused, reconnecting",
	offline: "You are offline; changes will show when you are back",
};

/** Whether live updates are flowing; a change is announced politely to screen readers. */
@customElement("agora-connection-indicator")
export class ConnectionIndicator extends LitElement {
	static override styles = [
		base,
		css`
			:host {
				display: inline-flex;
			}
			p {
				display: inline-flex;
				align-items: center;
				gap: 0.375rem;
				margin: 0;
				font-size: 0.8125rem;
				font-weight: 600;
				white-space: nowrap;
			}
			.dot {
				width: 0.625rem;
				height: 0.625rem;
				border-radius: 50%;
				background: var(--dot);
			}
			[data-state="connected"] {
				--dot: #2f9e62;
			}
			[data-state="connecting"],
			[data-state="reconnecting"] {
				--dot: #d08a00;
			}
			[data-state="reconnecting"] .dot {
				animation: pulse 1.2s ease-in-out infinite;
			}
			[data-state="offline"] {
				--dot: #a3301d;
			}
			@keyframes pulse {
				50% {
					opacity: 0.3;
				}
			}
		`,
	];

	readonly #live = watch(this, liveContext);

	override render() {
		const state = this.#live.value.state;
		return html`<p role="status" data-state=${state} title=${DESCRIPTIONS[state]}>
			<span class="dot" aria-hidden="true"></span>${LABELS[state]}<span class="sr-only">: ${DESCRIPTIONS[state]}</span>
		</p>`;
	}
}

declare global {
	interface HTMLElementTagNameMap {
		"agora-connection-indicator": ConnectionIndicator;
	}
}
