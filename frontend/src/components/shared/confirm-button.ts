import { css, html, LitElement } from "lit";
import { customElement, property, state } from "lit/decorators.js";
import { base, buttons } from "./styles";

/**
 * A destructive action that asks first, in place rather than in a browser dialog: the question
 * appears where the button was, focus moves with it, and `confirm` fires only on a yes.
 */
@customElement("agora-confirm-button")
export class ConfirmButton extends LitElement {
	static override styles = [
		base,
		buttons,
		css`
			:host {
				display: inline-block;
			}
			.ask {
				display: flex;
				flex-wrap: wrap;
				align-items: center;
				gap: var(--agora-space-2);
			}
		`,
	];

	@property() label = "Delete";
	@property() question = "Are you sure?";
	@property() confirmLabel = "Yes";
	@property() keepLabel = "No";
	@property({ type: Boolean }) small = false;
	@state() private asking = false;

	override render() {
		const size = this.small ? "small" : "";
		if (!this.asking)
			return html`<button class="button danger ${size}" type="button" data-focus="ask" @click=${() => this.#ask(true)}>${this.label}</button>`;
		return html`<div class="ask" role="group" aria-label=${this.question}>
			<span>${this.question}</span>
			<button class="button danger ${size}" type="button" @click=${this.#confirm}>${this.confirmLabel}</button>
			<button class="button ${size}" type="button" data-focus="keep" @click=${() => this.#ask(false)}>${this.keepLabel}</button>
		</div>`;
	}

	async #ask(asking: boolean): Promise<void> {
		this.asking = asking;
		await this.updateComplete;
		this.renderRoot.querySelector<HTMLElement>(`[data-focus="${asking ? "keep" : "ask"}"]`)?.focus();
	}

	#confirm = () => {
		this.asking = false;
		this.dispatchEvent(new Event("confirm"));
	};
}

declare global {
	interface HTMLElementTagNameMap {
		"agora-confirm-button": ConfirmButton;
	}
}
