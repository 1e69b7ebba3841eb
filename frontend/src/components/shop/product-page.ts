import { css, html, LitElement, nothing, type PropertyValues } from "lit";
import { customElement, property, state } from "lit/decorators.js";
import type { Product } from "../../api/types";
import { clampQuantity, MAX_QUANTITY } from "../../lib/cart";
import { formatMoney } from "../../lib/format";
import { apiContext, cartContext, sessionContext, toastContext } from "../../state/contexts";
import { LiveSubscription, use, watch } from "../../state/controllers";
import { Loader } from "../shared/loader";
import { base, buttons, forms } from "../shared/styles";
import { addToCart } from "./add-to-cart";
import { PLACEHOLDER_IMAGE } from "./product-card";
import "./stock-note";

/** One product, with stock that follows every sale and restock as it happens. */
@customElement("agora-product-page")
export class ProductPage extends LitElement {
	static override styles = [
		base,
		buttons,
		forms,
		css`
			.layout {
				display: grid;
				grid-template-columns: minmax(0, 1fr) minmax(0, 1fr);
				gap: var(--agora-space-6);
				align-items: start;
			}
			img {
				display: block;
				width: 100%;
				aspect-ratio: 4 / 3;
				object-fit: cover;
				background: var(--agora-surface-muted);
				border-radius: var(--agora-radius);
			}
			.category {
				text-transform: capitalize;
			}
			.price {
				font-size: 1.5rem;
				font-weight: 700;
			}
			.buy {
				display: flex;
				flex-wrap: wrap;
				align-items: end;
				gap: var(--agora-space-3);
				margin-top: var(--agora-space-4);
			}
			.buy .field {
				width: 6rem;
			}
			.gone {
				color: var(--agora-danger);
				font-weight: 600;
			}
			@media (max-width: 48rem) {
				.layout {
					/* minmax(0, …): the picture's intrinsic 640 px must not widen the column on a phone. */
					grid-template-columns: minmax(0, 1fr);
					gap: var(--agora-space-4);
				}
			}
		`,
	];

	@property() productId = "";
	@state() private deleted = false;

	readonly #api = use(this, apiContext);
	readonly #cart = use(this, cartContext);
	readonly #session = watch(this, sessionContext);
	readonly #toasts = use(this, toastContext);
	readonly #product = new Loader<Product>(this, () => this.#api.value.products.get(this.productId));

	constructor() {
		super();
		const mine = (id: string) => id === this.productId;
		new LiveSubscription(this, {
			"inventory.updated": ({ productId, available }) => {
				if (mine(productId)) this.#product.patch((product) => ({ ...product, stock: available }));
			},
			"product.updated": (product) => {
				if (mine(product.id)) this.#product.patch((current) => ({ ...current, ...product, stock: product.stock ?? current.stock }));
			},
			"product.deleted": ({ id }) => {
				if (mine(id)) this.deleted = true;
			},
		});
	}

	protected override willUpdate(changed: PropertyValues<this>): void {
		if (changed.has("productId")) {
			this.deleted = false;
			void this.#product.run().then(() => {
				if (this.#product.value) document.title = `${this.#product.value.name} · Agora`;
			});
		}
	}

	override render() {
		return html`<p><a href="/">← Back to the shop</a></p>
			${this.#product.render((product) => this.#details(product), "Loading product…")}`;
	}

	#details(product: Product) {
		const available = product.stock ?? 0;
		return html`<div class="layout">
			<img src=${product.imageUrl || PLACEHOLDER_IMAGE} alt="" width="640" height="480" />
			<div>
				<p class="category muted">${product.category}</p>
				<h1>${product.name}</h1>
				<p class="price">${formatMoney(product.price, product.currency)}</p>
				${product.description ? html`<p>${product.description}</p>` : nothing}
				<p aria-live="polite"><agora-stock-note .available=${available} .threshold=${product.lowStockThreshold ?? 5}></agora-stock-note></p>
				${
					this.deleted
						? html`<p class="gone" role="status">This product is no longer sold.</p>`
						: !this.#session.value.canBuy
							? nothing
							: html`<form class="buy" @submit=${this.#add}>
								<div class="field">
									<label for="quantity">Quantity</label>
									<input id="quantity" name="quantity" type="number" inputmode="numeric" min="1" max=${Math.max(1, Math.min(available, MAX_QUANTITY))} value="1" />
								</div>
								<button class="button primary" type="submit" ?disabled=${available <= 0}>Add to cart</button>
								<a class="button" href="/cart">View cart</a>
							</form>`
				}
			</div>
		</div>`;
	}

	#add = (event: SubmitEvent) => {
		event.preventDefault();
		const product = this.#product.value;
		if (!product) return;
		const quantity = clampQuantity(Number(new FormData(event.target as HTMLFormElement).get("quantity")));
		void addToCart(this.#cart.value, this.#toasts.value, product, quantity);
	};
}

declare global {
	interface HTMLElementTagNameMap {
		"agora-product-page": ProductPage;
	}
}
