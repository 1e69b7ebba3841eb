import { css, html, LitElement, nothing } from "lit";
import { customElement, property } from "lit/decorators.js";
import type { Product } from "../../api/types";
import { formatMoney } from "../../lib/format";
import { cartContext, sessionContext, toastContext } from "../../state/contexts";
import { use, watch } from "../../state/controllers";
import { base, buttons } from "../shared/styles";
import { addToCart } from "./add-to-cart";
import "./stock-note";

export const PLACEHOLDER_IMAGE = "/images/products/placeholder.svg";

@customElement("agora-product-card")
export class ProductCard extends LitElement {
	static override styles = [
		base,
		buttons,
		css`
			article {
				position: relative;
				display: grid;
				grid-template-rows: auto 1fr auto;
				height: 100%;
				overflow: hidden;
				background: var(--agora-surface);
				border: 1px solid var(--agora-border);
				border-radius: var(--agora-radius);
				box-shadow: var(--agora-shadow);
				transition: transform 150ms ease, box-shadow 150ms ease;
			}
			article:hover {
				transform: translateY(-2px);
			}
			img {
				display: block;
				width: 100%;
				aspect-ratio: 4 / 3;
				object-fit: cover;
				background: var(--agora-surface-muted);
			}
			.body {
				display: grid;
				align-content: start;
				gap: var(--agora-space-1);
				padding: var(--agora-space-3) var(--agora-space-4) 0;
			}
			h2 {
				margin: 0;
				font-size: 1.05rem;
			}
			/* The whole card is the link's hit area; the heading keeps the accessible name short. */
			h2 a {
				color: inherit;
				text-decoration: none;
			}
			h2 a::after {
				content: "";
				position: absolute;
				inset: 0;
			}
			.category {
				font-size: 0.8125rem;
				text-transform: capitalize;
			}
			.buy {
				display: flex;
				align-items: center;
				justify-content: space-between;
				gap: var(--agora-space-2);
				padding: var(--agora-space-3) var(--agora-space-4) var(--agora-space-4);
			}
			.price {
				font-size: 1.1rem;
				font-weight: 700;
			}
			/* Above the card-wide link, so it stays its own target. */
			.buy .button {
				position: relative;
				z-index: 1;
			}
		`,
	];

	@property({ attribute: false }) product?: Product;

	readonly #cart = use(this, cartContext);
	readonly #toasts = use(this, toastContext);
	readonly #session = watch(this, sessionContext);

	override render() {
		const product = this.product;
		if (!product) return nothing;
		const soldOut = product.stock !== undefined && product.stock <= 0;
		return html`<article>
			<img src=${product.imageUrl || PLACEHOLDER_IMAGE} alt="" width="320" height="240" loading="lazy" />
			<div class="body">
				<span class="category muted">${product.category}</span>
				<h2><a href="/products/${encodeURIComponent(product.id)}">${product.name}</a></h2>
				${product.stock === undefined ? nothing : html`<agora-stock-note .available=${product.stock} .threshold=${product.lowStockThreshold ?? 5}></agora-stock-note>`}
			</div>
			<div class="buy">
				<span class="price">${formatMoney(product.price, product.currency)}</span>
				${
					this.#session.value.canBuy
						? html`<button class="button small primary" type="button" ?disabled=${soldOut} aria-label="Add to cart: ${product.name}" @click=${this.#add}>
								Add to cart
							</button>`
						: nothing
				}
			</div>
		</article>`;
	}

	#add = () => {
		if (this.product) void addToCart(this.#cart.value, this.#toasts.value, this.product, 1);
	};
}

declare global {
	interface HTMLElementTagNameMap {
		"agora-product-card": ProductCard;
	}
}
