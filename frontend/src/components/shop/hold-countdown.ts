import { css, html, LitElement, type PropertyValues } from "lit";
import { customElement, property, state } from "lit/decorators.js";
import { formatCountdown } from "../../lib/cart";

/** When a screen reader hears how long is left (the ticking itself stays quiet). */
const ANNOUNCE_AT_MS = 60_000;

/**
 * The time left on a checkout hold, ticking each second; fires `expired` once when it reaches
 * zero. A new `deadline` (the hold was extended) starts it again.
 */
@customElement("agora-hold-countdown")
export class HoldCountdown extends LitElement {
	static override styles = css`
		:host {
			display: inline;
		}
		time {
			font-variant-numeric: tabular-nums;
			font-weight: 700;
		}
		.sr-only {
			position: absolute;
			width: 1px;
			height: 1px;
			overflow: hidden;
			clip-path: inset(50%);
			white-space: nowrap;
		}
	`;

	/** Date.now() at which the hold runs out. */
	@property({ type: Number }) deadline = 0;
	@state() private now = Date.now();
	#timer: ReturnType<typeof setInterval> | undefined;
	#expired = false;

	override connectedCallback(): void {
		super.connectedCallback();
		this.#timer = setInterval(() => {
			this.now = Date.now();
		}, 1_000);
	}

	override disconnectedCallback(): void {
		super.disconnectedCallback();
		clearInterval(this.#timer);
	}

	protected override willUpdate(changed: PropertyValues<this>): void {
		if (changed.has("deadline")) {
			this.now = Date.now();
			this.#expired = false;
		}
	}

	protected override updated(): void {
		if (this.#expired || this.now < this.deadline) return;
		this.#expired = true;
		this.dispatchEvent(new Event("expired", { bubbles: true, composed: true }));
	}

	override render() {
		const left = this.deadline - this.now;
		const seconds = Math.max(0, Math.ceil(left / 1000));
		return html`<time role="timer" datetime="PT${seconds}S">${formatCountdown(left)}</time>
			<span class="sr-only" aria-live="polite">${left > 0 && left <= ANNOUNCE_AT_MS ? "Less than a minute left." : ""}</span>`;
	}
}

declare global {
	interface HTMLElementTagNameMap {
		"agora-hold-countdown": HoldCountdown;
	}
}
