import { css, html, LitElement, type PropertyValues } from "lit";
import { customElement, property } from "lit/decorators.js";
import { repeat } from "lit/directives/repeat.js";
import type { Page, Product } from "../../api/types";
import { CATEGORIES, type CatalogueQuery, catalogueUrl, parseCatalogueQuery, SORTS, toProductQuery } from "../../lib/catalogue-query";
import { plural } from "../../lib/format";
import { apiContext } from "../../state/contexts";
import { LiveSubscription, use } from "../../state/controllers";
import { Loader } from "../shared/loader";
import { navigate } from "../shared/navigation";
import "../shared/pager";
import { base, buttons, forms } from "../shared/styles";
import "./product-card";

const withRow = (page: Page<Product>, id: string, change: (product: Product) => Product): Page<Product> =>
	page.rows.some((row) => row.id === id) ? { ...page, rows: page.rows.map((row) => (row.id === id ? change(row) : row)) } : page;

/** The shop front: search, category filter, sort and pages, all kept in the URL. */
@customElement("agora-catalogue-page")
export class CataloguePage extends LitElement {
	static override styles = [
		base,
		buttons,
		forms,
		css`
			.filters {
				display: grid;
				grid-template-columns: minmax(0, 1fr) auto;
				gap: var(--agora-space-3);
				align-items: end;
				margin-bottom: var(--agora-space-4);
			}
			.search {
				display: flex;
				gap: var(--agora-space-2);
			}
			.search input {
				flex: 1;
			}
			.categories {
				display: flex;
				flex-wrap: wrap;
				gap: var(--agora-space-2);
				margin: 0 0 var(--agora-space-4);
				padding: 0;
				list-style: none;
			}
			.categories a {
				display: inline-block;
				padding: var(--agora-space-1) var(--agora-space-3);
				font-weight: 600;
				color: var(--agora-text);
				text-decoration: none;
				background: var(--agora-surface);
				border: 1px solid var(--agora-border);
				border-radius: 999px;
			}
			.categories a[aria-current="page"] {
				color: var(--agora-on-accent);
				background: var(--agora-accent);
				border-color: var(--agora-accent);
			}
			.grid {
				display: grid;
				grid-template-columns: repeat(auto-fill, minmax(14rem, 1fr));
				gap: var(--agora-space-4);
				margin: 0;
				padding: 0;
				list-style: none;
			}
			.summary {
				margin-bottom: var(--agora-space-3);
			}
			@media (max-width: 40rem) {
				.filters {
					grid-template-columns: 1fr;
				}
			}
		`,
	];

	/** The URL's query string: the single source of the view's filters. */
	@property() search = "";

	readonly #api = use(this, apiContext);
	#query: CatalogueQuery = parseCatalogueQuery("");
	readonly #products = new Loader(this, () => this.#api.value.products.list(toProductQuery(this.#query)));

	constructor() {
		super();
		const patch = (product: Product) => this.#products.patch((page) => withRow(page, product.id, (row) => ({ ...row, ...product })));
		// A new or removed product moves the others across pages: ask the server again.
		const reload = () => void this.#products.run();
		new LiveSubscription(this, {
			"product.created": reload,
			"product.updated": patch,
			"product.deleted": reload,
			"inventory.updated": ({ productId, available }) =>
				this.#products.patch((page) => withRow(page, productId, (row) => ({ ...row, stock: available }))),
		});
	}

	protected override willUpdate(changed: PropertyValues<this>): void {
		if (changed.has("search")) {
			this.#query = parseCatalogueQuery(this.search);
			void this.#products.run();
		}
	}

	override render() {
		const query = this.#query;
		return html`<div class="page-head"><h1>${query.q ? `Results for “${query.q}”` : "Tea, coffee and brewing gear"}</h1></div>
			<div class="filters">
				<form class="search" role="search" @submit=${this.#search}>
					<label class="sr-only" for="q">Search products</label>
					<input id="q" name="q" type="search" placeholder="Search products" .value=${query.q} autocomplete="off" />
					<button class="button" type="submit">Search</button>
				</form>
				<div class="field">
					<label for="sort">Sort by</label>
					<select id="sort" @change=${this.#sort}>
						${SORTS.map((sort) => html`<option value=${sort.value} ?selected=${sort.value === query.sort}>${sort.label}</option>`)}
					</select>
				</div>
			</div>
			<nav aria-label="Categories">
				<ul class="categories">
					${[{ value: "", label: "All" }, ...CATEGORIES].map(
						(category) =>
							html`<li>
								<a href=${catalogueUrl({ ...query, category: category.value, page: 1 })} aria-current=${query.category === category.value ? "page" : "false"}
									>${category.label}</a
								>
							</li>`,
					)}
				</ul>
			</nav>
			<section aria-label="Products" aria-busy=${this.#products.loading ? "true" : "false"}>
				${this.#products.render((page) => this.#results(page), "Loading products…")}
			</section>`;
	}

	#results(page: Page<Product>) {
		if (page.rows.length === 0)
			return html`<agora-state-panel kind="empty" heading="No products match">
				<a href="/">Show all products</a>
			</agora-state-panel>`;
		return html`<p class="summary muted" role="status">${plural(page.total, "product")}</p>
			<ul class="grid">
				${repeat(
					page.rows,
					(product) => product.id,
					(product) => html`<li><agora-product-card .product=${product}></agora-product-card></li>`,
				)}
			</ul>
			<agora-pager .page=${page.page} .totalPages=${page.totalPages} .href=${(n: number) => catalogueUrl({ ...this.#query, page: n })}></agora-pager>`;
	}

	#search = (event: SubmitEvent) => {
		event.preventDefault();
		const q = String(new FormData(event.target as HTMLFormElement).get("q") ?? "").trim();
		navigate(this, catalogueUrl({ ...this.#query, q, page: 1 }));
	};

	#sort = (event: Event) => {
		const sort = (event.target as HTMLSelectElement).value as CatalogueQuery["sort"];
		navigate(this, catalogueUrl({ ...this.#query, sort, page: 1 }), { replace: true });
	};
}

declare global {
	interface HTMLElementTagNameMap {
		"agora-catalogue-page": CataloguePage;
	}
}
