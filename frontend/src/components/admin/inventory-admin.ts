import { css, html, LitElement } from "lit";
import { customElement } from "lit/decorators.js";
import { repeat } from "lit/directives/repeat.js";
import type { Inventory, InventoryAdjustment, Product } from "../../api/types";
import { debounce } from "../../lib/debounce";
import { apiContext, toastContext } from "../../state/contexts";
import { LiveSubscription, use } from "../../state/controllers";
import { optimistically } from "../../state/optimistic";
import { Loader } from "../shared/loader";
import { base, buttons, forms } from "../shared/styles";

interface StockRow {
	product: Product;
	level: Inventory;
}

const REASONS = ["Restock", "Stock count", "Damaged", "Returned"] as const;

const isLow = ({ level }: StockRow) => level.available <= level.lowStockThreshold;

/** Stock per product with its alert level; admins adjust it here, and every sale shows as it happens. */
@customElement("agora-inventory-admin")
export class InventoryAdmin extends LitElement {
	static override styles = [
		base,
		buttons,
		forms,
		css`
			.alerts {
				margin-bottom: var(--agora-space-5);
				border-left: 6px solid var(--agora-danger);
			}
			.alerts ul {
				margin: 0;
				padding-left: var(--agora-space-5);
			}
			.rows {
				display: grid;
				gap: var(--agora-space-3);
				margin: 0;
				padding: 0;
				list-style: none;
			}
			.row-item {
				display: grid;
				grid-template-columns: minmax(10rem, 1.2fr) minmax(12rem, 1fr) minmax(20rem, 2fr);
				gap: var(--agora-space-3) var(--agora-space-4);
				align-items: center;
			}
			.row-item.low {
				border-color: var(--agora-danger);
			}
			.name {
				font-weight: 700;
			}
			dl {
				display: flex;
				gap: var(--agora-space-4);
				margin: 0;
			}
			dt {
				font-size: 0.75rem;
				font-weight: 700;
				text-transform: uppercase;
				color: var(--agora-text-muted);
			}
			dd {
				margin: 0;
				font-size: 1.25rem;
				font-weight: 700;
				font-variant-numeric: tabular-nums;
			}
			.low dd.available {
				color: var(--agora-danger);
			}
			form {
				display: flex;
				flex-wrap: wrap;
				align-items: end;
				gap: var(--agora-space-2);
			}
			form .field {
				flex: 1 1 6rem;
			}
			@media (max-width: 60rem) {
				.row-item {
					grid-template-columns: 1fr;
				}
			}
		`,
	];

	readonly #api = use(this, apiContext);
	readonly #toasts = use(this, toastContext);
	readonly #rows = new Loader<StockRow[]>(this, async () => {
		const api = this.#api.value;
		const products = await api.products.list({ pageSize: 100, sort: "name" });
		return Promise.all(products.rows.map(async (product) => ({ product, level: await api.inventory.get(product.id) })));
	});

	constructor() {
		super();
		const reload = debounce(() => void this.#rows.run(), 300);
		new LiveSubscription(this, {
			"inventory.updated": ({ productId, available }) => this.#setLevel(productId, (level) => ({ ...level, available })),
			"product.created": reload,
			"product.updated": reload,
			"product.deleted": reload,
		});
	}

	override connectedCallback(): void {
		super.connectedCallback();
		void this.#rows.run();
	}

	override render() {
		return this.#rows.render((rows) => {
			if (rows.length === 0) return html`<agora-state-panel kind="empty" heading="No products to stock yet"></agora-state-panel>`;
			const low = rows.filter(isLow);
			return html`${
				low.length > 0
					? html`<section class="card alerts" aria-labelledby="alerts-heading">
							<h2 id="alerts-heading">Low stock</h2>
							<ul>
								${low.map((row) => html`<li>${row.product.name}: ${row.level.available} left (alert at ${row.level.lowStockThreshold})</li>`)}
							</ul>
						</section>`
					: ""
			}
				<ul class="rows" aria-label="Stock per product">
					${repeat(
						rows,
						(row) => row.product.id,
						(row) => this.#row(row),
					)}
				</ul>`;
		}, "Loading stock…");
	}

	#row(row: StockRow) {
		const { product, level } = row;
		const id = (name: string) => `${name}-${product.id}`;
		return html`<li class="card row-item ${isLow(row) ? "low" : ""}">
			<div>
				<span class="name">${product.name}</span><br /><span class="muted">${product.sku}</span>
			</div>
			<dl>
				<div><dt>Available</dt><dd class="available">${level.available}</dd></div>
				<div><dt>Reserved</dt><dd>${level.reserved}</dd></div>
				<div><dt>Alert at</dt><dd>${level.lowStockThreshold}</dd></div>
			</dl>
			<form aria-label="Adjust stock of ${product.name}" @submit=${(event: SubmitEvent) => this.#adjust(event, row)}>
				<div class="field">
					<label for=${id("mode")}>Change</label>
					<select id=${id("mode")} name="mode">
						<option value="delta">Add (±)</option>
						<option value="set">Set to</option>
					</select>
				</div>
				<div class="field">
					<label for=${id("amount")}>Units</label>
					<input id=${id("amount")} name="amount" type="number" inputmode="numeric" step="1" required />
				</div>
				<div class="field">
					<label for=${id("reason")}>Reason</label>
					<select id=${id("reason")} name="reason">
						${REASONS.map((reason) => html`<option>${reason}</option>`)}
					</select>
				</div>
				<button class="button" type="submit">Apply<span class="sr-only"> to ${product.name}</span></button>
			</form>
		</li>`;
	}

	#setLevel(productId: string, change: (level: Inventory) => Inventory): void {
		this.#rows.patch((rows) => rows.map((row) => (row.product.id === productId ? { ...row, level: change(row.level) } : row)));
	}

	async #adjust(event: SubmitEvent, { product, level }: StockRow): Promise<void> {
		event.preventDefault();
		const form = event.target as HTMLFormElement;
		const data = new FormData(form);
		// The browser has checked the amount already (required, whole numbers).
		const amount = Number(data.get("amount"));
		const reason = String(data.get("reason"));
		const adjustment: InventoryAdjustment = data.get("mode") === "set" ? { set: amount, reason } : { delta: amount, reason };
		const expected = "set" in adjustment ? adjustment.set : level.available + adjustment.delta;
		try {
			const updated = await optimistically(
				() => this.#setLevel(product.id, (current) => ({ ...current, available: expected })),
				() => this.#api.value.inventory.adjust(product.id, adjustment),
				() => this.#setLevel(product.id, (current) => ({ ...current, available: level.available })),
			);
			this.#setLevel(product.id, () => updated);
			form.reset();
			this.#toasts.value.show(`${product.name}: ${updated.available} available.`, "success");
		} catch (error) {
			this.#toasts.value.error(error, `The stock of ${product.name} could not be changed.`);
		}
	}
}

declare global {
	interface HTMLElementTagNameMap {
		"agora-inventory-admin": InventoryAdmin;
	}
}
