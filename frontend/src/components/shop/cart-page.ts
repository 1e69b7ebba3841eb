import { css, html, LitElement } from "lit";
import { customElement } from "lit/decorators.js";
import { repeat } from "lit/directives/repeat.js";
import { type CartLine, cartTotals, lineTotal, MAX_QUANTITY } from "../../lib/cart";
import { formatMoney } from "../../lib/format";
import { cartContext, sessionContext } from "../../state/contexts";
import { watch } from "../../state/controllers";
import "../shared/state-panel";
import { base, buttons, forms } from "../shared/styles";
import { notForAdmins } from "./line-items";
import { PLACEHOLDER_IMAGE } from "./product-card";

@customElement("agora-cart-page")
export class CartPage extends LitElement {
	static override styles = [
		base,
		buttons,
		forms,
		css`
			.layout {
				display: grid;
				grid-template-columns: minmax(0, 1fr) 18rem;
				gap: var(--agora-space-5);
				align-items: start;
			}
			ul {
				display: grid;
				gap: var(--agora-space-3);
				margin: 0;
				padding: 0;
				list-style: none;
			}
			li {
				display: grid;
				grid-template-columns: 4.5rem minmax(0, 1fr) auto;
				grid-template-areas: "image name total" "image quantity remove";
				gap: var(--agora-space-2) var(--agora-space-3);
				align-items: center;
			}
			img {
				grid-area: image;
				width: 4.5rem;
				height: 4.5rem;
				object-fit: cover;
				border-radius: var(--agora-radius-small);
				background: var(--agora-surface-muted);
			}
			.name {
				grid-area: name;
				font-weight: 600;
			}
			.total {
				grid-area: total;
				font-weight: 700;
				text-align: right;
			}
			.quantity {
				grid-area: quantity;
				display: flex;
				align-items: center;
				gap: var(--agora-space-1);
			}
			.quantity input {
				width: 4rem;
				text-align: center;
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
				min-height: 2.75rem;
			}
			.remove {
				grid-area: remove;
				justify-self: end;
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
			.grand {
				font-size: 1.2rem;
				font-weight: 700;
			}
			.checkout {
				width: 100%;
			}
			@media (max-width: 48rem) {
				.layout {
					grid-template-columns: 1fr;
				}
			}
			/* On a phone the quantity controls get a row of their own, so they keep their size. */
			@media (max-width: 30rem) {
				li {
					grid-template-areas: "image name total" "quantity quantity remove";
				}
			}
		`,
	];

	readonly #cart = watch(this, cartContext);
	readonly #session = watch(this, sessionContext);

	override render() {
		if (!this.#session.value.canBuy) return notForAdmins("Your cart");
		const lines = this.#cart.value.lines;
		if (lines.length === 0)
			return html`<h1>Your cart</h1>
				<agora-state-panel kind="empty" heading="Your cart is empty">
					<a class="button primary" href="/">Browse the shop</a>
				</agora-state-panel>`;
		const totals = cartTotals(lines);
		return html`<h1>Your cart</h1>
			<div class="layout">
				<section class="card" aria-label="Items">
					<ul>
						${repeat(
							lines,
							(line) => line.productId,
							(line) => this.#line(line),
						)}
					</ul>
				</section>
				<aside class="card" aria-label="Summary">
					<dl>
						<dt>Items</dt>
						<dd>${totals.count}</dd>
						<dt class="grand">Subtotal</dt>
						<dd class="grand">${formatMoney(totals.subtotal, totals.currency)}</dd>
					</dl>
					<a class="button primary checkout" href="/checkout">Go to checkout</a>
				</aside>
			</div>`;
	}

	#line(line: CartLine) {
		const cart = this.#cart.value;
		const id = `quantity-${line.productId}`;
		return html`<li>
			<img src=${line.imageUrl || PLACEHOLDER_IMAGE} alt="" width="72" height="72" />
			<a class="name" href="/products/${encodeURIComponent(line.productId)}">${line.name}</a>
			<span class="total">${formatMoney(lineTotal(line), line.currency)}</span>
			<div class="quantity">
				<button class="button small" type="button" aria-label="One less ${line.name}" ?disabled=${line.quantity <= 1}
					@click=${() => cart.setQuantity(line.productId, line.quantity - 1)}>−</button>
				<label class="sr-only" for=${id}>Quantity of ${line.name}</label>
				<input id=${id} type="number" inputmode="numeric" min="1" max=${MAX_QUANTITY} .value=${String(line.quantity)}
					@change=${(event: Event) => cart.setQuantity(line.productId, Number((event.target as HTMLInputElement).value))} />
				<button class="button small" type="button" aria-label="One more ${line.name}" ?disabled=${line.quantity >= MAX_QUANTITY}
					@click=${() => cart.setQuantity(line.productId, line.quantity + 1)}>+</button>
				<span class="muted">× ${formatMoney(line.price, line.currency)}</span>
			</div>
			<button class="link-button remove" type="button" @click=${() => cart.remove(line.productId)}>
				Remove<span class="sr-only"> ${line.name}</span>
			</button>
		</li>`;
	}
}

declare global {
	interface HTMLElementTagNameMap {
		"agora-cart-page": CartPage;
	}
}
