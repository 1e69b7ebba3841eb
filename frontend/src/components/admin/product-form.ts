import { html, LitElement, nothing, type PropertyValues } from "lit";
import { customElement, property, state } from "lit/decorators.js";
import { ApiError } from "../../api/client";
import type { Product, ProductInput } from "../../api/types";
import { CATEGORIES } from "../../lib/catalogue-query";
import { parseMoney, toMajorUnits } from "../../lib/format";
import type { FieldErrors } from "../../lib/problems";
import { apiContext } from "../../state/contexts";
import { use } from "../../state/controllers";
import { focusFirstInvalid, inputField, selectField, textareaField } from "../shared/form-field";
import { base, buttons, forms } from "../shared/styles";

/** Fired with the saved product once the server has accepted it. */
export class ProductSavedEvent extends Event {
	constructor(
		readonly product: Product,
		readonly created: boolean,
	) {
		super("product-saved", { bubbles: true, composed: true });
	}
}

/** Creates a product, or edits one (stock itself changes on the inventory page, with a reason). */
@customElement("agora-product-form")
export class ProductForm extends LitElement {
	static override styles = [base, buttons, forms];

	/** The product to edit; none to create one. */
	@property({ attribute: false }) product?: Product;
	@state() private errors: FieldErrors = {};
	@state() private formError = "";
	@state() private busy = false;
	/** The current alert level, read from the inventory when editing. */
	@state() private threshold = "5";

	readonly #api = use(this, apiContext);

	protected override willUpdate(changed: PropertyValues<this>): void {
		if (!changed.has("product")) return;
		this.errors = {};
		this.formError = "";
		const id = this.product?.id;
		this.threshold = id ? "" : "5";
		if (id)
			void this.#api.value.inventory.get(id).then(
				(level) => {
					if (this.product?.id === id) this.threshold = String(level.lowStockThreshold);
				},
				() => {}, // the field stays empty, and an empty field leaves the alert level as it is
			);
	}

	override render() {
		const product = this.product;
		const categories = CATEGORIES.some((category) => category.value === product?.category)
			? CATEGORIES
			: [...CATEGORIES, ...(product ? [{ value: product.category, label: product.category }] : [])];
		return html`<form novalidate @submit=${this.#submit} aria-busy=${this.busy ? "true" : "false"}>
			${this.formError ? html`<p class="form-error" role="alert">${this.formError}</p>` : nothing}
			${inputField({ name: "name", label: "Name", required: true, value: product?.name, error: this.errors.name })}
			<div class="row">
				${inputField({ name: "sku", label: "SKU", required: true, value: product?.sku, error: this.errors.sku, hint: "Letters, digits, '.', '_' or '-'." })}
				${inputField({
					name: "price",
					label: "Price (USD)",
					required: true,
					inputmode: "decimal",
					value: product ? toMajorUnits(product.price, product.currency) : "",
					error: this.errors.price,
				})}
			</div>
			${selectField({ name: "category", label: "Category", required: true, value: product?.category ?? "tea", options: categories, error: this.errors.category })}
			${textareaField({ name: "description", label: "Description", value: product?.description, error: this.errors.description })}
			${inputField({ name: "imageUrl", label: "Image URL", type: "url", value: product?.imageUrl ?? "", error: this.errors.imageUrl, hint: "A path on this site such as /images/products/tea-001.svg, or an https URL." })}
			<div class="row">
				${product ? nothing : inputField({ name: "stock", label: "Units in stock", type: "number", inputmode: "numeric", min: 0, value: "0", error: this.errors.stock })}
				${inputField({
					name: "lowStockThreshold",
					label: "Low-stock alert at",
					type: "number",
					inputmode: "numeric",
					min: 0,
					value: this.threshold,
					error: this.errors.lowStockThreshold,
				})}
			</div>
			<div>
				<button class="button primary" type="submit" ?disabled=${this.busy}>${product ? "Save changes" : "Create product"}</button>
				<button class="button" type="button" @click=${() => this.dispatchEvent(new Event("cancel-edit", { bubbles: true, composed: true }))}>Cancel</button>
			</div>
		</form>`;
	}

	#submit = async (event: SubmitEvent) => {
		event.preventDefault();
		const data = new FormData(event.target as HTMLFormElement);
		const text = (name: string) => String(data.get(name) ?? "").trim();
		const whole = (name: string) => (text(name) === "" ? undefined : Number(text(name)));
		const price = parseMoney(text("price"));
		if (price === null) {
			this.errors = { price: "Enter a price such as 12.90" };
			await this.updateComplete;
			focusFirstInvalid(this.shadowRoot);
			return;
		}
		const input: ProductInput = {
			name: text("name"),
			sku: text("sku"),
			price,
			category: text("category"),
			description: text("description"),
			// Clearing the field removes the picture; the server takes null for "none".
			imageUrl: text("imageUrl") || null,
			lowStockThreshold: whole("lowStockThreshold"),
		};
		this.busy = true;
		this.formError = "";
		try {
			const api = this.#api.value;
			const saved = this.product
				? await api.products.update(this.product.id, input)
				: await api.products.create({ ...input, stock: whole("stock") });
			this.errors = {};
			this.dispatchEvent(new ProductSavedEvent(saved, !this.product));
		} catch (error) {
			this.errors = error instanceof ApiError ? error.fieldErrors : {};
			this.formError =
				Object.keys(this.errors).length > 0
					? "Please correct the highlighted fields."
					: error instanceof Error
						? error.message
						: "Saving failed.";
			await this.updateComplete;
			focusFirstInvalid(this.shadowRoot);
		} finally {
			this.busy = false;
		}
	};
}

declare global {
	interface HTMLElementTagNameMap {
		"agora-product-form": ProductForm;
	}
	interface HTMLElementEventMap {
		"product-saved": ProductSavedEvent;
	}
}
