import { css, html, LitElement } from "lit";
import { customElement, query, state } from "lit/decorators.js";
import { repeat } from "lit/directives/repeat.js";
import type { Page, Product } from "../../api/types";
import { formatMoney } from "../../lib/format";
import { apiContext, toastContext } from "../../state/contexts";
import { LiveSubscription, use } from "../../state/controllers";
import { optimistically } from "../../state/optimistic";
import "../shared/confirm-button";
import { Loader } from "../shared/loader";
import { base, buttons, tables } from "../shared/styles";
import { PLACEHOLDER_IMAGE } from "../shop/product-card";
import "./product-form";
import type { ProductSavedEvent } from "./product-form";

// One screen of the catalogue; the demo has a dozen products and a shop of a hundred still fits.
const PAGE_SIZE = 100;

const byName = (a: Product, b: Product) => a.name.localeCompare(b.name);

/** The catalogue for admins: create, edit and delete products, with changes from other admins arriving live. */
@customElement("agora-products-admin")
export class ProductsAdmin extends LitElement {
	static override styles = [
		base,
		buttons,
		tables,
		css`
			img {
				display: block;
				width: 2.5rem;
				height: 2.5rem;
				object-fit: cover;
				border-radius: var(--agora-radius-small);
			}
			.sku {
				display: block;
				font-size: 0.8125rem;
			}
			.actions {
				display: flex;
				flex-wrap: wrap;
				gap: var(--agora-space-2);
			}
			dialog {
				width: min(40rem, calc(100vw - 2rem));
				max-height: calc(100vh - 2rem);
				padding: var(--agora-space-5);
				color: var(--agora-text);
				background: var(--agora-surface);
				border: 0;
				border-radius: var(--agora-radius);
				box-shadow: 0 12px 40px rgb(0 0 0 / 0.25);
			}
			dialog::backdrop {
				background: rgb(29 35 32 / 0.45);
			}
			@media (max-width: 40rem) {
				.hide-small {
					display: none;
				}
			}
		`,
	];

	/** The product in the dialog: a product to edit, null for a new one, undefined when closed. */
	@state() private editing: Product | null | undefined;
	@query("dialog") private dialog?: HTMLDialogElement;

	readonly #api = use(this, apiContext);
	readonly #toasts = use(this, toastContext);
	readonly #products = new Loader<Page<Product>>(this, () => this.#api.value.products.list({ pageSize: PAGE_SIZE, sort: "name" }));

	constructor() {
		super();
		const upsert = (product: Product) => this.#put(product);
		new LiveSubscription(this, {
			"product.created": upsert,
			"product.updated": upsert,
			"product.deleted": ({ id }) => this.#products.patch((page) => ({ ...page, rows: page.rows.filter((row) => row.id !== id) })),
			"inventory.updated": ({ productId, available }) =>
				this.#products.patch((page) => ({
					...page,
					rows: page.rows.map((row) => (row.id === productId ? { ...row, stock: available } : row)),
				})),
		});
		this.addEventListener("product-saved", (event) => this.#saved(event));
		this.addEventListener("cancel-edit", () => this.dialog?.close());
	}

	override connectedCallback(): void {
		super.connectedCallback();
		void this.#products.run();
	}

	override render() {
		return html`<div class="page-head">
				<h2>Products</h2>
				<button class="button primary" type="button" @click=${() => this.#open(null)}>New product</button>
			</div>
			${this.#products.render((page) => this.#table(page.rows), "Loading products…")}
			<dialog aria-labelledby="dialog-title" @close=${this.#closed}>
				<h2 id="dialog-title">${this.editing ? `Edit ${this.editing.name}` : "New product"}</h2>
				${this.editing === undefined ? "" : html`<agora-product-form .product=${this.editing ?? undefined}></agora-product-form>`}
			</dialog>`;
	}

	#table(products: readonly Product[]) {
		if (products.length === 0) return html`<agora-state-panel kind="empty" heading="No products yet"></agora-state-panel>`;
		return html`<div class="table-wrap">
			<table>
				<thead>
					<tr>
						<th scope="col" class="hide-small"><span class="sr-only">Image</span></th>
						<th scope="col">Product</th>
						<th scope="col" class="hide-small">Category</th>
						<th scope="col" class="number">Price</th>
						<th scope="col" class="number">Stock</th>
						<th scope="col"><span class="sr-only">Actions</span></th>
					</tr>
				</thead>
				<tbody>
					${repeat(
						products,
						(product) => product.id,
						(product) => html`<tr>
							<td class="hide-small"><img src=${product.imageUrl || PLACEHOLDER_IMAGE} alt="" width="40" height="40" loading="lazy" /></td>
							<td><a href="/products/${encodeURIComponent(product.id)}">${product.name}</a><span class="sku muted">${product.sku}</span></td>
							<td class="hide-small">${product.category}</td>
							<td class="number">${formatMoney(product.price, product.currency)}</td>
							<td class="number">${product.stock ?? "–"}</td>
							<td>
								<div class="actions">
									<button class="button small" type="button" @click=${() => this.#open(product)}>
										Edit<span class="sr-only"> ${product.name}</span>
									</button>
									<agora-confirm-button small label="Delete" question="Delete ${product.name}?" confirmLabel="Yes, delete" keepLabel="Keep"
										@confirm=${() => this.#delete(product)}></agora-confirm-button>
								</div>
							</td>
						</tr>`,
					)}
				</tbody>
			</table>
		</div>`;
	}

	async #open(product: Product | null): Promise<void> {
		this.editing = product;
		await this.updateComplete;
		this.dialog?.showModal();
	}

	#closed = () => {
		this.editing = undefined;
	};

	#put(product: Product): void {
		this.#products.patch((page) => {
			const known = page.rows.some((row) => row.id === product.id);
			const rows = known
				? page.rows.map((row) => (row.id === product.id ? { ...row, ...product, stock: product.stock ?? row.stock } : row))
				: [...page.rows, product].sort(byName);
			return { ...page, rows };
		});
	}

	#saved(event: ProductSavedEvent): void {
		this.#put(event.product);
		this.dialog?.close();
		this.#toasts.value.show(`${event.product.name} ${event.created ? "created" : "saved"}.`, "success");
	}

	async #delete(product: Product): Promise<void> {
		try {
			await optimistically(
				() => this.#products.patch((page) => ({ ...page, rows: page.rows.filter((row) => row.id !== product.id) })),
				() => this.#api.value.products.remove(product.id),
				() => this.#put(product),
			);
			this.#toasts.value.show(`${product.name} deleted.`, "success");
		} catch (error) {
			this.#toasts.value.error(error, `${product.name} could not be deleted.`);
		}
	}
}

declare global {
	interface HTMLElementTagNameMap {
		"agora-products-admin": ProductsAdmin;
	}
}
