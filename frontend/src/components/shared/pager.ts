import { css, html, LitElement, nothing } from "lit";
import { customElement, property } from "lit/decorators.js";
import { base, buttons } from "./styles";

/** Previous / next links for a paged list; plain links, so paging is bookmarkable and works with the back button. */
@customElement("agora-pager")
export class Pager extends LitElement {
	static override styles = [
		base,
		buttons,
		css`
			nav {
				display: flex;
				align-items: center;
				justify-content: center;
				gap: var(--agora-space-3);
				margin-top: var(--agora-space-5);
			}
		`,
	];

	@property({ type: Number }) page = 1;
	@property({ type: Number }) totalPages = 1;
	@property({ attribute: false }) href: (page: number) => string = () => "";

	override render() {
		if (this.totalPages <= 1) return nothing;
		return html`<nav aria-label="Pages">
			${this.#link(this.page - 1, "Previous", this.page > 1)}
			<span>Page ${this.page} of ${this.totalPages}</span>
			${this.#link(this.page + 1, "Next", this.page < this.totalPages)}
		</nav>`;
	}

	#link(page: number, label: string, enabled: boolean) {
		return enabled
			? html`<a class="button small" href=${this.href(page)} rel=${label === "Next" ? "next" : "prev"}>${label}</a>`
			: html`<span class="button small" aria-disabled="true">${label}</span>`;
	}
}

declare global {
	interface HTMLElementTagNameMap {
		"agora-pager": Pager;
	}
}
