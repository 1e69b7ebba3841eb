import { css, html, LitElement, nothing } from "lit";
import { customElement, state } from "lit/decorators.js";
import { refusedForGood } from "../../../../lib/contracts/errors";
import { ApiError } from "../../api/client";
import type { Cart, CartLine, CartShipping, Order, ShippingAddress, ShippingOption } from "../../api/types";
import { buyable, holdDeadline, itemCount } from "../../lib/cart";
import { COUNTRIES, countryName } from "../../lib/countries";
import { formatMoney, plural, shortId } from "../../lib/format";
import { type FieldErrors, missingMessage, outOfStockItems, problemMessage, stockMessage } from "../../lib/problems";
import { apiContext, cartContext, guestOrdersContext, sessionContext, toastContext } from "../../state/contexts";
import { use, watch } from "../../state/controllers";
import { focusFirstInvalid, inputField, selectField } from "../shared/form-field";
import { navigate } from "../shared/navigation";
import "../shared/state-panel";
import { base, buttons, forms } from "../shared/styles";
import "./hold-countdown";
import { cartPanel, lineItemStyles, lineItems, notForAdmins } from "./line-items";

/** A fresh random key per order attempt; `crypto.randomUUID` exists only on HTTPS and localhost. */
function newIdempotencyKey(): string {
	return Array.from(crypto.getRandomValues(new Uint8Array(16)), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

type Step = "address" | "shipping" | "payment";

const STEPS: readonly { step: Step; label: string }[] = [
	{ step: "address", label: "Address" },
	{ step: "shipping", label: "Shipping" },
	{ step: "payment", label: "Payment" },
];

// Typed fields of the address, named by the paths the server reports problems with; the country
// is picked from a list.
const ADDRESS_FIELDS = [
	{ name: "address.name", label: "Full name", autocomplete: "name" },
	{ name: "address.line1", label: "Street address", autocomplete: "address-line1" },
	{ name: "address.city", label: "City", autocomplete: "address-level2" },
	{ name: "address.postalCode", label: "Postal code", autocomplete: "postal-code" },
] as const;
const COUNTRY = "address.country";
const EMAIL = "email";
const METHOD = "method";
const CARD = "payment.cardNumber";

const COUNTRY_OPTIONS = [{ value: "", label: "Choose a country" }, ...COUNTRIES.map(({ code, name }) => ({ value: code, label: name }))];

/** How long the payment step waits for the card's verdict before handing over to the order's page, which follows it live. */
const VERDICT_WAIT_MS = 15_000;
const VERDICT_POLL_MS = 400;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// This tab's typed address and email, so a reload mid-checkout does not ask for them again. The
// card number is never kept.
const ADDRESS_KEY = "agora.checkout-address";
const KEPT = new Set<string>([...ADDRESS_FIELDS.map((field) => field.name), COUNTRY, EMAIL]);

function savedAddress(): Record<string, string> {
	try {
		const parsed: unknown = JSON.parse(sessionStorage.getItem(ADDRESS_KEY) ?? "{}");
		if (typeof parsed !== "object" || parsed === null) return {};
		return Object.fromEntries(
			Object.entries(parsed).filter((entry): entry is [string, string] => KEPT.has(entry[0]) && typeof entry[1] === "string"),
		);
	} catch {
		return {};
	}
}

function saveAddress(values: Record<string, string>): void {
	sessionStorage.setItem(ADDRESS_KEY, JSON.stringify(Object.fromEntries(Object.entries(values).filter(([name]) => KEPT.has(name)))));
}

/**
 * The checkout walk: where it goes (and a guest's email), how it ships with shipping and tax
 * added, then the items held with a countdown while the shopper pays. A declined card leaves the
 * items in the cart to pay another way.
 */
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
			.steps {
				display: flex;
				flex-wrap: wrap;
				gap: var(--agora-space-2);
				margin: 0 0 var(--agora-space-4);
				padding: 0;
				list-style: none;
				counter-reset: step;
			}
			.steps li {
				counter-increment: step;
				padding: var(--agora-space-1) var(--agora-space-3);
				font-size: 0.875rem;
				font-weight: 600;
				color: var(--agora-text-muted);
				border: 1px solid var(--agora-border);
				border-radius: 999px;
			}
			.steps li::before {
				content: counter(step) ". ";
			}
			.steps li[aria-current="step"] {
				color: var(--agora-on-accent);
				background: var(--agora-accent);
				border-color: var(--agora-accent);
			}
			.done {
				display: flex;
				flex-wrap: wrap;
				align-items: baseline;
				justify-content: space-between;
				gap: var(--agora-space-2);
				margin: 0 0 var(--agora-space-4);
				padding-bottom: var(--agora-space-3);
				border-bottom: 1px solid var(--agora-border);
			}
			.done p {
				margin: 0;
				overflow-wrap: anywhere;
			}
			.link-button {
				min-height: 2.75rem;
			}
			.methods {
				display: grid;
				gap: var(--agora-space-2);
			}
			/* The whole row is the radio's label: a big target for a thumb. */
			.method {
				display: grid;
				grid-template-columns: auto minmax(0, 1fr) auto;
				gap: var(--agora-space-3);
				align-items: center;
				min-height: 2.75rem;
				padding: var(--agora-space-2) var(--agora-space-3);
				border: 1px solid var(--agora-border);
				border-radius: var(--agora-radius-small);
				cursor: pointer;
			}
			.method:has(input:checked) {
				border-color: var(--agora-accent);
				background: var(--agora-accent-soft);
			}
			.method input {
				width: 1.25rem;
				height: 1.25rem;
				margin: 0;
			}
			.method .price {
				font-weight: 700;
			}
			.hold {
				margin: 0 0 var(--agora-space-4);
				padding: var(--agora-space-3);
				border-radius: var(--agora-radius-small);
				background: var(--agora-accent-soft);
			}
			.hold.expired {
				color: var(--agora-danger);
				background: var(--agora-danger-soft);
			}
			.hold p {
				margin: 0 0 var(--agora-space-2);
			}
			.actions {
				display: flex;
				flex-wrap: wrap;
				gap: var(--agora-space-3);
				align-items: center;
			}
			.actions .button {
				min-height: 2.75rem;
			}
			aside h2 {
				margin-bottom: var(--agora-space-2);
			}
			@media (max-width: 52rem) {
				.layout {
					grid-template-columns: minmax(0, 1fr);
				}
				aside {
					order: -1;
				}
			}
		`,
	];

	@state() private step: Step = "address";
	@state() private errors: FieldErrors = {};
	@state() private formError = "";
	/** Messages per product id: a line that ran out while the shopper was checking out. */
	@state() private stockProblems: Record<string, string> = {};
	/** A request is on its way; `paying` also while the card's verdict is awaited. */
	@state() private busy: "" | "working" | "paying" = "";
	/** What the shopper typed, kept across steps and failed attempts, and the address across a reload. */
	@state() private values: Record<string, string> = savedAddress();
	@state() private methods: readonly ShippingOption[] = [];
	/** The countdown reached zero: the items went back on sale (the server's cart says so a moment later). */
	@state() private holdRanOut = false;

	readonly #api = use(this, apiContext);
	readonly #toasts = use(this, toastContext);
	readonly #guestOrders = use(this, guestOrdersContext);
	readonly #cart = watch(this, cartContext);
	readonly #session = watch(this, sessionContext);
	// Kept while the outcome of a payment is unknown (a timeout, a lost connection), so trying again
	// cannot place the order twice; renewed once the server has given a definite answer.
	#idempotencyKey = newIdempotencyKey();

	override render() {
		if (!this.#session.value.canBuy) return notForAdmins("Checkout");
		return html`<h1>Checkout</h1>
			${cartPanel(
				this.#cart.value.value,
				(cart) => this.#content(cart),
				() => void this.#cart.value.reload(),
			)}`;
	}

	#content(cart: Cart) {
		return html`<div class="layout">
			<div class="card">
				<ol class="steps" aria-label="Checkout steps">
					${STEPS.map(({ step, label }) => html`<li aria-current=${step === this.step ? "step" : "false"}>${label}</li>`)}
				</ol>
				${this.formError ? html`<p class="form-error" role="alert">${this.formError}</p>` : nothing}
				${this.step === "address" ? this.#addressStep(cart) : this.#doneAddress()}
				${this.step === "shipping" ? this.#shippingStep(cart) : this.step === "payment" ? this.#doneShipping(cart) : nothing}
				${this.step === "payment" ? this.#paymentStep(cart) : nothing}
			</div>
			<aside class="card" aria-label="Order summary">
				<h2>${plural(itemCount(cart), "item")}</h2>
				${lineItems(cart.items, cart, this.stockProblems)}
				${cart.shipping ? nothing : html`<p class="muted">Shipping and tax are added once you choose how it ships.</p>`}
				<p><a href="/cart">Change the cart</a></p>
			</aside>
		</div>`;
	}

	#addressStep(cart: Cart) {
		const guest = !this.#session.value.user;
		if (!buyable(cart))
			return html`<p class="form-error" role="alert">Some items are not in stock as asked: change them in <a href="/cart">your cart</a> to check out.</p>`;
		return html`<form novalidate @submit=${this.#submitAddress} aria-busy=${this.busy ? "true" : "false"}>
			${guest ? html`<p>Checking out as a guest. <a href="/login?next=%2Fcheckout">Sign in</a> to use your account.</p>` : nothing}
			<fieldset>
				<legend>Where it goes</legend>
				${ADDRESS_FIELDS.map((field) =>
					this.#field(field.name, field.label, field.autocomplete, field.name === "address.name" ? this.#session.value.user?.name : ""),
				)}
				${selectField({
					name: COUNTRY,
					label: "Country",
					autocomplete: "country",
					required: true,
					options: COUNTRY_OPTIONS,
					value: this.values[COUNTRY] ?? "",
					error: this.errors[COUNTRY],
				})}
				${
					guest
						? inputField({
								name: EMAIL,
								label: "Email",
								type: "email",
								autocomplete: "email",
								required: true,
								value: this.values[EMAIL] ?? cart.email ?? "",
								error: this.errors[EMAIL],
								hint: "For the order's confirmation and its updates.",
							})
						: nothing
				}
			</fieldset>
			<button class="button primary" type="submit" ?disabled=${this.busy !== ""}>
				${this.busy ? "Finding shipping options…" : "Continue to shipping"}
			</button>
		</form>`;
	}

	#doneAddress() {
		const address = this.#address();
		return html`<div class="done">
			<p><strong>Ships to</strong> ${address.name}, ${address.line1}, ${address.postalCode} ${address.city}, ${countryName(address.country)}</p>
			<button class="link-button" type="button" ?disabled=${this.busy !== ""} @click=${() => this.#goTo("address")}>Change address</button>
		</div>`;
	}

	#shippingStep(cart: Cart) {
		const chosen = cart.shipping?.method;
		return html`<form novalidate @submit=${this.#submitShipping} aria-busy=${this.busy ? "true" : "false"}>
			<fieldset>
				<legend>Shipping method</legend>
				<div class="methods" role="radiogroup" aria-label="Shipping method">
					${this.methods.map(
						(method) => html`<label class="method">
							<input type="radio" name=${METHOD} value=${method.id} .checked=${method.id === chosen} ?disabled=${this.busy !== ""}
								@change=${() => void this.#chooseMethod(method.id)} />
							<span>${method.name} <span class="muted">· ${method.days} days</span></span>
							<span class="price">${formatMoney(method.price, method.currency)}</span>
						</label>`,
					)}
				</div>
				${this.errors[METHOD] ? html`<p class="field-error">${this.errors[METHOD]}</p>` : nothing}
			</fieldset>
			<button class="button primary" type="submit" ?disabled=${this.busy !== "" || !chosen}>
				${this.busy ? "Holding your items…" : `Continue to payment · ${formatMoney(cart.total, cart.currency)}`}
			</button>
		</form>`;
	}

	#doneShipping(cart: Cart) {
		return html`<div class="done">
			<p><strong>Shipping</strong> ${cart.shipping?.name ?? ""} · ${formatMoney(cart.shipping?.price ?? 0, cart.currency)}</p>
			<button class="link-button" type="button" ?disabled=${this.busy !== ""} @click=${() => this.#goTo("shipping")}>Change shipping</button>
		</div>`;
	}

	#paymentStep(cart: Cart) {
		const expired = this.holdRanOut || !cart.hold;
		const paying = this.busy === "paying";
		return html`${
			expired
				? html`<div class="hold expired" role="alert">
						<p><strong>Your hold ran out.</strong> The items went back on sale, so others can buy them now.</p>
						<button class="button primary" type="button" ?disabled=${this.busy !== ""} @click=${this.#hold}>Hold my items again</button>
					</div>`
				: html`<div class="hold">
						<p>Your items are held for you for
							<agora-hold-countdown .deadline=${cart.hold ? holdDeadline(cart.hold, this.#cart.value.value.receivedAt) : 0}
								@expired=${this.#holdExpired}></agora-hold-countdown>.
						</p>
						<button class="link-button" type="button" ?disabled=${this.busy !== ""} @click=${this.#hold}>Keep them longer</button>
					</div>`
		}
			<form novalidate @submit=${this.#pay} aria-busy=${this.busy ? "true" : "false"}>
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
				<div class="actions">
					<button class="button primary" type="submit" ?disabled=${this.busy !== "" || expired}>
						${paying ? "Confirming your payment…" : `Pay ${formatMoney(cart.total, cart.currency)}`}
					</button>
				</div>
			</form>`;
	}

	#field(name: string, label: string, autocomplete: string, fallback = "") {
		return inputField({ name, label, autocomplete, required: true, value: this.values[name] ?? fallback, error: this.errors[name] });
	}

	#address(): ShippingAddress {
		const value = (name: string) => this.values[name] ?? "";
		return {
			name: value("address.name"),
			line1: value("address.line1"),
			city: value("address.city"),
			postalCode: value("address.postalCode"),
			country: value(COUNTRY),
		};
	}

	#shipping(method: string): CartShipping {
		const email = this.values[EMAIL];
		return { address: this.#address(), method, ...(email && !this.#session.value.user ? { email } : {}) };
	}

	#goTo(step: Step): void {
		this.step = step;
		this.errors = {};
		this.formError = "";
	}

	/** Takes what the form holds into `values`; answers the names of required fields left empty. */
	#read(form: HTMLFormElement): string[] {
		const data = new FormData(form);
		const typed = Object.fromEntries([...data.keys()].map((name) => [name, String(data.get(name) ?? "").trim()]));
		this.values = { ...this.values, ...typed };
		saveAddress(this.values);
		return [...form.querySelectorAll<HTMLInputElement | HTMLSelectElement>("[required]")]
			.map((control) => control.name)
			.filter((name) => !typed[name]);
	}

	#submitAddress = async (event: SubmitEvent) => {
		event.preventDefault();
		if (this.busy) return;
		// An empty field is named before anything is sent, in the words the server's answer would get.
		const missing = this.#read(event.target as HTMLFormElement);
		if (missing.length > 0) return this.#flagFields(Object.fromEntries(missing.map((name) => [name, missingMessage(name)])));
		const country = this.values[COUNTRY] ?? "";
		await this.#working(async () => {
			const methods = await this.#api.value.shipping.methods(country);
			if (methods.length === 0)
				return this.#flagFields({ [COUNTRY]: `We do not ship to ${countryName(country)} yet. Choose another country.` });
			this.methods = methods;
			const cart = this.#cart.value.cart;
			const chosen = methods.find((method) => method.id === cart?.shipping?.method) ?? methods[0];
			// The first (cheapest) way is picked at once, so shipping, tax and the total show straight away.
			if (chosen) await this.#cart.value.setShipping(this.#shipping(chosen.id));
			this.#goTo("shipping");
		}, "Shipping options could not be found. Try again.");
	};

	async #chooseMethod(method: string): Promise<void> {
		await this.#working(async () => {
			await this.#cart.value.setShipping(this.#shipping(method));
		}, "That shipping method could not be chosen. Try again.");
	}

	#submitShipping = async (event: SubmitEvent) => {
		event.preventDefault();
		if (this.busy) return;
		await this.#working(async () => {
			await this.#cart.value.hold();
			this.holdRanOut = false;
			this.#goTo("payment");
		}, "Your items could not be held. Try again.");
	};

	#hold = async () => {
		await this.#working(async () => {
			await this.#cart.value.hold();
			this.holdRanOut = false;
			this.formError = "";
		}, "Your items could not be held. Try again.");
	};

	#holdExpired = () => {
		this.holdRanOut = true;
		// The server has let the units go by now; its cart says `hold: null`.
		this.#cart.value.refresh().catch(() => undefined);
	};

	#pay = async (event: SubmitEvent) => {
		event.preventDefault();
		if (this.busy) return;
		const missing = this.#read(event.target as HTMLFormElement);
		if (missing.length > 0) return this.#flagFields(Object.fromEntries(missing.map((name) => [name, missingMessage(name)])));
		const cart = this.#cart.value.cart;
		const method = cart?.shipping?.method;
		if (!cart || !method) return;
		// What to put back if the card is declined: the server closes the cart with the order.
		const lines = cart.items;
		const shipping = this.#shipping(method);
		const email = shipping.email;
		this.busy = "paying";
		this.errors = {};
		this.formError = "";
		this.stockProblems = {};
		try {
			const placed = await this.#cart.value.checkout(
				{ payment: { cardNumber: (this.values[CARD] ?? "").replace(/[\s-]/g, "") }, ...(email ? { email } : {}) },
				this.#idempotencyKey,
			);
			this.#idempotencyKey = newIdempotencyKey();
			if (placed.accessToken) this.#guestOrders.value.remember(placed.id, placed.accessToken);
			const order = await this.#verdict(placed, placed.accessToken);
			if (order.status === "failed") await this.#declined(lines, shipping);
			else {
				this.#cart.value.closed();
				this.#toasts.value.show(`Thank you! Order ${shortId(order.id)} is placed.`, "success");
				navigate(this, `/orders/${encodeURIComponent(order.id)}`);
			}
		} catch (error) {
			this.#showProblem(error, "The payment could not be made. Try again.");
		} finally {
			this.busy = "";
		}
	};

	/** The order once its card has been charged or declined; as it is after a while if the verdict is slow. */
	async #verdict(order: Order, accessToken: string | undefined): Promise<Order> {
		let current = order;
		for (const giveUpAt = Date.now() + VERDICT_WAIT_MS; current.status === "pending" && Date.now() < giveUpAt; ) {
			await pause(VERDICT_POLL_MS);
			current = await this.#api.value.orders.get(order.id, accessToken);
		}
		return current;
	}

	/** Puts the items back in the cart and holds them again, so the shopper can try another card at once. */
	async #declined(lines: readonly CartLine[], shipping: CartShipping): Promise<void> {
		const { cart, refused } = await this.#cart.value.restore(lines, shipping);
		this.values = { ...this.values, [CARD]: "" };
		this.holdRanOut = false;
		let held = false;
		if (cart.items.length > 0 && Object.keys(refused).length === 0) {
			try {
				await this.#cart.value.hold();
				held = true;
			} catch (error) {
				this.#showProblem(error, "Your items could not be held again.");
			}
		}
		this.stockProblems = { ...this.stockProblems, ...refused };
		this.errors = { [CARD]: "This card was declined. Try another card." };
		this.formError = held
			? "Your card was declined, so nothing was charged. Your items are still in your cart and held for you: try another card."
			: "Your card was declined, so nothing was charged. Your items are still in your cart.";
		void this.updateComplete.then(() => focusFirstInvalid(this.shadowRoot));
	}

	/** Runs one step's request with the form busy; a refusal is shown where it belongs. */
	async #working(task: () => Promise<void>, fallback: string): Promise<void> {
		this.busy = "working";
		this.errors = {};
		this.formError = "";
		this.stockProblems = {};
		try {
			await task();
		} catch (error) {
			this.#showProblem(error, fallback);
		} finally {
			this.busy = "";
		}
	}

	#showProblem(error: unknown, fallback: string): void {
		if (!(error instanceof ApiError)) {
			this.formError = fallback;
			return;
		}
		// A payment the shop may still be at keeps its key, so sending it again cannot order twice.
		if (refusedForGood(error.body)) this.#idempotencyKey = newIdempotencyKey();
		const outOfStock = outOfStockItems(error.body);
		if (outOfStock.length > 0) {
			const names = Object.fromEntries((this.#cart.value.cart?.items ?? []).map((line) => [line.productId, line.name]));
			this.stockProblems = Object.fromEntries(outOfStock.map((item) => [item.productId, stockMessage(item, names[item.productId])]));
			this.formError = `${problemMessage(error.body, fallback, names)} Change your cart to continue.`;
			return;
		}
		const errors = error.fieldErrors;
		if (Object.keys(errors).length > 0) this.#flagFields(errors);
		else this.formError = problemMessage(error.body, fallback);
	}

	/** Marks the fields in error and moves focus to the first; problems with no field on this step are spelled out. */
	#flagFields(errors: FieldErrors): void {
		this.errors = errors;
		const shown = this.shadowRoot?.querySelectorAll<HTMLElement>("[name]") ?? [];
		const here = new Set([...shown].map((control) => control.getAttribute("name")));
		const elsewhere = Object.entries(errors).filter(([field]) => !here.has(field));
		this.formError = ["Please correct the highlighted fields.", ...elsewhere.map(([, message]) => `${message}.`)].join(" ");
		void this.updateComplete.then(() => focusFirstInvalid(this.shadowRoot));
	}
}

declare global {
	interface HTMLElementTagNameMap {
		"agora-checkout-page": CheckoutPage;
	}
}
