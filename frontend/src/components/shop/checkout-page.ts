import { css, html, LitElement, nothing } from "lit";
import { customElement, state } from "lit/decorators.js";
import { refusedForGood } from "../../../../lib/contracts/errors";
import { ApiError } from "../../api/client";
import type { PlaceOrder } from "../../api/types";
import { cartTotals, orderItems } from "../../lib/cart";
import { COUNTRIES } from "../../lib/countries";
import { plural, shortId } from "../../lib/format";
import { type FieldErrors, missingMessage, outOfStockItems } from "../../lib/problems";
import { apiContext, cartContext, sessionContext, toastContext } from "../../state/contexts";
import { use, watch } from "../../state/controllers";
import { focusFirstInvalid, inputField, selectField } from "../shared/form-field";
import { navigate } from "../shared/navigation";
import "../shared/state-panel";
import { base, buttons, forms } from "../shared/styles";
import { lineItemStyles, lineItems, notForAdmins } from "./line-items";

/** A fresh random key per order attempt; `crypto.randomUUID` exists only on HTTPS and localhost. */
function newIdempotencyKey(): string {
	return Array.from(crypto.getRandomValues(new Uint8Array(16)), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

// Typed fields of the address; the country is picked from a list (see #country).
const ADDRESS_FIELDS = [
	{ name: "shippingAddress.name", label: "Full name", autocomplete: "name" },
	{ name: "shippingAddress.line1", label: "Street address", autocomplete: "address-line1" },
	{ name: "shippingAddress.city", label: "City", autocomplete: "address-level2" },
	{ name: "shippingAddress.postalCode", label: "Postal code", autocomplete: "postal-code" },
] as const;
const COUNTRY = "shippingAddress.country";
const CARD = "payment.cardNumber";

/** Every field of the form; all of them are required. */
const FORM_FIELDS = new Set<string>([...ADDRESS_FIELDS.map((field) => field.name), COUNTRY, CARD]);

const COUNTRY_OPTIONS = [{ value: "", label: "Choose a country" }, ...COUNTRIES.map((name) => ({ value: name, label: name }))];

@customElement("agora-checkout-page")
export class CheckoutPage extends LitElement {
	static override styles = [
		base,
		buttons,
		forms,
		lineItemStyles,
		css`
			.layout {
				display: grid;
				grid-template-columns: minmax(0, 1fr) 20rem;
				gap: var(--agora-space-5);
				align-items: start;
			}
			aside h2 {
				margin-bottom: var(--agora-space-2);
			}
			@media (max-width: 52rem) {
				.layout {
					grid-template-columns: 1fr;
				}
				aside {
					order: -1;
				}
			}
		`,
	];

	@state() private errors: FieldErrors = {};
	@state() private formError = "";
	/** Messages per product id, from an out-of-stock answer. */
	@state() private stockProblems: Record<string, string> = {};
	@state() private submitting = false;
	/** What the shopper typed, kept across re-renders and failed attempts. */
	@state() private values: Record<string, string> = {};

	readonly #api = use(this, apiContext);
	readonly #toasts = use(this, toastContext);
	readonly #cart = watch(this, cartContext);
	readonly #session = watch(this, sessionContext);
	// Kept while the outcome of a submit is unknown (a timeout, a lost connection), so retrying
	// cannot place the order twice; renewed once the server has given a definite answer.
	#idempotencyKey = newIdempotencyKey();

	override render() {
		const user = this.#session.value.user;
		const lines = this.#cart.value.lines;
		if (!this.#session.value.canBuy) return notForAdmins("Checkout");
		if (lines.length === 0)
			return html`<h1>Checkout</h1>
				<agora-state-panel kind="empty" heading="Your cart is empty">
					<a class="button primary" href="/">Browse the shop</a>
				</agora-state-panel>`;
		const totals = cartTotals(lines);
		return html`<h1>Checkout</h1>
			<div class="layout">
				<form class="card" novalidate @submit=${this.#submit} aria-busy=${this.submitting ? "true" : "false"}>
					${this.formError ? html`<p class="form-error" role="alert">${this.formError}</p>` : nothing}
					<fieldset>
						<legend>Shipping address</legend>
						${ADDRESS_FIELDS.map((field) => this.#field(field.name, field.label, field.autocomplete, field.name === "shippingAddress.name" ? user?.name : ""))}
						${selectField({
							name: COUNTRY,
							label: "Country",
							// The list holds names, and orders store the name: the token for a country by name.
							autocomplete: "country-name",
							required: true,
							options: COUNTRY_OPTIONS,
							value: this.values[COUNTRY] ?? "",
							error: this.errors[COUNTRY],
						})}
					</fieldset>
					<fieldset>
						<legend>Payment</legend>
						${inputField({
							name: CARD,
							label: "Card number",
							autocomplete: "cc-number",
							inputmode: "numeric",
							required: true,
							value: this.values[CARD],
							error: this.errors[CARD],
							hint: "Test cards: 4242 4242 4242 4242 is accepted, 4000 0000 0000 0002 is declined.",
						})}
					</fieldset>
					<button class="button primary" type="submit" ?disabled=${this.submitting}>
						${this.submitting ? "Placing your order…" : "Place order"}
					</button>
				</form>
				<aside class="card" aria-label="Order summary">
					<h2>${plural(totals.count, "item")}</h2>
					${lineItems(lines, { total: totals.subtotal, currency: totals.currency, problems: this.stockProblems })}
					<p><a href="/cart">Change the cart</a></p>
				</aside>
			</div>`;
	}

	#field(name: string, label: string, autocomplete: string, fallback = "") {
		return inputField({ name, label, autocomplete, required: true, value: this.values[name] ?? fallback, error: this.errors[name] });
	}

	#submit = async (event: SubmitEvent) => {
		event.preventDefault();
		if (this.submitting) return;
		const data = new FormData(event.target as HTMLFormElement);
		const value = (name: string) => String(data.get(name) ?? "").trim();
		this.values = Object.fromEntries([...data.keys()].map((name) => [name, value(name)]));
		// An empty field is named before anything is sent, in the words the server's answer would get.
		const missing = [...FORM_FIELDS].filter((name) => value(name) === "");
		if (missing.length > 0) {
			this.stockProblems = {};
			this.#flagFields(Object.fromEntries(missing.map((name) => [name, missingMessage(name)])));
			return;
		}
		const order: PlaceOrder = {
			items: orderItems(this.#cart.value.lines),
			shippingAddress: {
				name: value("shippingAddress.name"),
				line1: value("shippingAddress.line1"),
				city: value("shippingAddress.city"),
				postalCode: value("shippingAddress.postalCode"),
				country: value(COUNTRY),
			},
			payment: { cardNumber: value(CARD).replace(/[\s-]/g, "") },
		};
		this.submitting = true;
		this.formError = "";
		try {
			const placed = await this.#api.value.orders.place(order, this.#idempotencyKey);
			this.#cart.value.clear();
			this.#toasts.value.show(`Thank you! Order ${shortId(placed.id)} is placed.`, "success");
			navigate(this, `/orders/${encodeURIComponent(placed.id)}`);
		} catch (error) {
			this.#showProblem(error);
		} finally {
			this.submitting = false;
		}
	};

	#showProblem(error: unknown): void {
		// A request the shop may still be at keeps its key, so sending it again cannot order twice.
		if (error instanceof ApiError && refusedForGood(error.body)) this.#idempotencyKey = newIdempotencyKey();
		const errors = error instanceof ApiError ? error.fieldErrors : {};
		const outOfStock = error instanceof ApiError ? outOfStockItems(error.body) : [];
		this.stockProblems = Object.fromEntries(
			outOfStock.map((item) => [
				item.productId,
				item.available === undefined
					? "Not enough in stock."
					: item.available > 0
						? `Only ${item.available} left: lower the quantity.`
						: "Sold out: remove it to continue.",
			]),
		);
		if (Object.keys(errors).length > 0 && outOfStock.length === 0) {
			this.#flagFields(errors);
			return;
		}
		this.errors = errors;
		this.formError =
			outOfStock.length > 0
				? `Some items are no longer in stock: ${outOfStock.map((item) => item.name).join(", ")}.`
				: error instanceof Error
					? error.message
					: "The order could not be placed.";
		void this.updateComplete.then(() => focusFirstInvalid(this.shadowRoot));
	}

	/** Marks the fields in error and moves focus to the first; problems with no field here (an item's quantity) are spelled out. */
	#flagFields(errors: FieldErrors): void {
		this.errors = errors;
		const elsewhere = Object.entries(errors).filter(([field]) => !FORM_FIELDS.has(field));
		this.formError = ["Please correct the highlighted fields.", ...elsewhere.map(([, message]) => message)].join(" ");
		void this.updateComplete.then(() => focusFirstInvalid(this.shadowRoot));
	}
}

declare global {
	interface HTMLElementTagNameMap {
		"agora-checkout-page": CheckoutPage;
	}
}
