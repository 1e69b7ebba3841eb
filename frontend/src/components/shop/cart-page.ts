import { css, html, LitElement, nothing } from "lit";
import { customElement, state } from "lit/decorators.js";
import { repeat } from "lit/directives/repeat.js";
import { ApiError } from "../../api/client";
import type { Cart, CartLine } from "../../api/types";
import { buyable, clampQuantity, itemCount, lineNote, MAX_QUANTITY } from "../../lib/cart";
import { formatMoney } from "../../lib/format";
import { problemMessage } from "../../lib/problems";
import { cartContext, sessionContext } from "../../state/contexts";
import { watch } from "../../state/controllers";
import "../shared/state-panel";
import { base, buttons, forms } from "../shared/styles";
import { cartPanel, lineNoteStyles, notForAdmins, percent } from "./line-items";

/** The server's cart: its lines at today's prices, what is in stock, and quantities to change. */
@customElement("agora-cart-page")
export class CartPage extends LitElement {
	static override styles = [
		base,
		buttons,
		forms,
		lineNoteStyles,
		css`
			.layout {
				display: grid;
				grid-template-columns: minmax(0, 1fr) 18rem;
				gap: var(--agora-space-5);
				align-items: start;
			}
			ul {
				display: grid;
				gap: var(--agora-space-4);
				margin: 0;
				padding: 0;
				list-style: none;
			}
			li {
				display: grid;
				grid-template-columns: minmax(0, 1fr) auto;
				grid-template-areas: "name total" "note note" "quantity remove";
				gap: var(--agora-space-2) var(--agora-space-3);
				align-items: center;
				padding-bottom: var(--agora-space-4);
				border-bottom: 1px solid var(--agora-border);
			}
			li:last-child {
				padding-bottom: 0;
				border-bottom: 0;
			}
			.name {
				grid-area: name;
				font-weight: 600;
				overflow-wrap: anywhere;
			}
			.total {
				grid-area: total;
				font-weight: 700;
				text-align: right;
			}
			.notes {
				grid-area: note;
			}
			.quantity {
				grid-area: quantity;
				display: flex;
				flex-wrap: wrap;
				align-items: center;
				gap: var(--agora-space-1);
			}
			/* 44 px: a target a thumb hits on a phone. */
			.quantity .button {
				flex: none;
				width: 2.75rem;
				min-height: 2.75rem;
				padding: 0;
			}
			.quantity input {
				flex: none;
				width: 4rem;
				min-height: 2.75rem;
				text-align: center;
			}
			.remove {
				grid-area: remove;
				justify-self: end;
				min-height: 2.75rem;
			}
			dl {
				display: grid;
				grid-template-columns: 1fr auto;
				gap: var(--agora-space-2);
				margin: 0 0 var(--agora-space-4);
			}
			dt,
			dd {
				margin: 0;
			}
			dd {
				text-align: right;
			}
			.grand {
				font-size: 1.2rem;
				font-weight: 700;
			}
			.checkout {
				width: 100%;
			}
			@media (max-width: 48rem) {
				.layout {
					grid-template-columns: minmax(0, 1fr);
				}
			}
		`,
	];

	/** A sentence under a line whose change the shop refused (not enough in stock). */
	@state() private problems: Record<string, string> = {};
	/** Lines with a change on its way: their controls wait for the answer. */
	@state() private busy: ReadonlySet<string> = new Set();

	readonly #cart = watch(this, cartContext);
	readonly #session = watch(this, sessionContext);

	override render() {
		if (!this.#session.value.canBuy) return notForAdmins("Your cart");
		return html`<h1>Your cart</h1>
			${cartPanel(
				this.#cart.value.value,
				(cart) => this.#content(cart),
				() => void this.#cart.value.reload(),
			)}`;
	}

	#content(cart: Cart) {
		const ready = buyable(cart);
		return html`<div class="layout">
			<section class="card" aria-label="Items">
				<ul>
					${repeat(
						cart.items,
						(line) => line.productId,
						(line) => this.#line(line, cart),
					)}
				</ul>
			</section>
			<aside class="card" aria-label="Summary">
				<dl>
					<dt>Items</dt>
					<dd>${itemCount(cart)}</dd>
					<dt>Subtotal</dt>
					<dd>${formatMoney(cart.subtotal, cart.currency)}</dd>
					${
						cart.shipping && cart.tax
							? html`<dt>Shipping (${cart.shipping.name})</dt>
									<dd>${formatMoney(cart.shipping.price, cart.currency)}</dd>
									<dt>Tax (${percent(cart.tax.rate)})</dt>
									<dd>${formatMoney(cart.tax.amount, cart.currency)}</dd>
									<dt class="grand">Total</dt>
									<dd class="grand">${formatMoney(cart.total, cart.currency)}</dd>`
							: nothing
					}
				</dl>
				${cart.shipping ? nothing : html`<p class="muted">Shipping and tax are added at checkout, once you say where it goes.</p>`}
				${
					ready
						? html`<a class="button primary checkout" href="/checkout">Go to checkout</a>`
						: html`<p class="note problem" role="status">Change the items marked above to check out.</p>`
				}
			</aside>
		</div>`;
	}

	#line(line: CartLine, cart: Cart) {
		const id = `quantity-${line.productId}`;
		const busy = this.busy.has(line.productId);
		const note = lineNote(line, cart.hold !== null);
		const max = Math.min(MAX_QUANTITY, Math.max(line.available, line.quantity));
		return html`<li data-product-id=${line.productId}>
			<a class="name" href="/products/${encodeURIComponent(line.productId)}">${line.name}</a>
			<span class="total">${formatMoney(line.price * line.quantity, cart.currency)}</span>
			<div class="notes">
				<span class="note ${note.tone}">${note.text}</span>
				${this.problems[line.productId] ? html`<p class="note problem" role="alert">${this.problems[line.productId]}</p>` : nothing}
			</div>
			<div class="quantity">
				<button class="button small" type="button" aria-label="One less ${line.name}" ?disabled=${busy || line.quantity <= 1}
					@click=${() => this.#set(line, line.quantity - 1)}>−</button>
				<label class="sr-only" for=${id}>Quantity of ${line.name}</label>
				<input id=${id} type="number" inputmode="numeric" min="1" max=${max} .value=${String(line.quantity)} ?disabled=${busy}
					@change=${(event: Event) => this.#set(line, clampQuantity(Number((event.target as HTMLInputElement).value)))} />
				<button class="button small" type="button" aria-label="One more ${line.name}" ?disabled=${busy || line.quantity >= max}
					@click=${() => this.#set(line, line.quantity + 1)}>+</button>
				<span class="muted">× ${formatMoney(line.price, cart.currency)}</span>
			</div>
			<button class="link-button remove" type="button" ?disabled=${busy} @click=${() => this.#set(line, 0)}>
				Remove<span class="sr-only"> ${line.name}</span>
			</button>
		</li>`;
	}

	async #set(line: CartLine, quantity: number): Promise<void> {
		this.problems = Object.fromEntries(Object.entries(this.problems).filter(([id]) => id !== line.productId));
		this.busy = new Set([...this.busy, line.productId]);
		try {
			await this.#cart.value.setQuantity(line.productId, quantity);
		} catch (error) {
			const message =
				error instanceof ApiError
					? problemMessage(error.body, `${line.name} could not be changed. Try again.`, { [line.productId]: line.name })
					: `${line.name} could not be changed. Try again.`;
			this.problems = { ...this.problems, [line.productId]: message };
			// What the input shows goes back to what the cart holds.
			this.requestUpdate();
		} finally {
			this.busy = new Set([...this.busy].filter((id) => id !== line.productId));
		}
	}
}

declare global {
	interface HTMLElementTagNameMap {
		"agora-cart-page": CartPage;
	}
}
