import { css, html, nothing, type TemplateResult } from "lit";
import type { Cart, ShippingCharge, TaxCharge } from "../../api/types";
import { formatMoney } from "../../lib/format";
import type { CartState } from "../../state/cart";
import "../shared/state-panel";

export interface LineItem {
	productId: string;
	name: string;
	price: number;
	quantity: number;
}

export const lineItemStyles = css`
	.items {
		width: 100%;
		border-collapse: collapse;
	}
	.items th,
	.items td {
		padding: var(--agora-space-2) 0;
		text-align: left;
		vertical-align: top;
		border-bottom: 1px solid var(--agora-border);
	}
	.items .amount {
		padding-left: var(--agora-space-3);
		text-align: right;
		white-space: nowrap;
		font-variant-numeric: tabular-nums;
	}
	.items tfoot th,
	.items tfoot td {
		font-weight: 400;
		border-bottom: 0;
	}
	.items tfoot .grand th,
	.items tfoot .grand td {
		font-size: 1.1rem;
		font-weight: 700;
		border-top: 1px solid var(--agora-border);
	}
	.items .problem {
		display: block;
		margin-top: var(--agora-space-1);
		font-size: 0.875rem;
		font-weight: 600;
		color: var(--agora-danger);
	}
`;

/** What a cart or an order adds up to; shipping and tax are null until a method is chosen. */
export interface Totals {
	subtotal: number;
	shipping: ShippingCharge | null;
	tax: TaxCharge | null;
	total: number;
	currency: string;
}

/** "20%" for 2000 basis points, "7.5%" for 750. */
export function percent(basisPoints: number): string {
	return `${basisPoints / 100}%`;
}

/**
 * The lines of a cart or an order with subtotal, shipping, tax and total; `problems` puts a
 * message under a line (an item that ran out while the shopper was checking out).
 */
export function lineItems(
	items: readonly LineItem[],
	{ subtotal, shipping, tax, total, currency }: Totals,
	problems: Record<string, string> = {},
): TemplateResult {
	const row = (label: string, amount: number) =>
		html`<tr><th scope="row">${label}</th><td class="amount">${formatMoney(amount, currency)}</td></tr>`;
	return html`<table class="items">
		<caption class="sr-only">Items</caption>
		<thead class="sr-only">
			<tr><th scope="col">Item</th><th scope="col">Amount</th></tr>
		</thead>
		<tbody>
			${items.map(
				(item) => html`<tr data-product-id=${item.productId}>
					<td>
						${item.quantity} × ${item.name}
						${problems[item.productId] ? html`<span class="problem">${problems[item.productId]}</span>` : nothing}
					</td>
					<td class="amount">${formatMoney(item.price * item.quantity, currency)}</td>
				</tr>`,
			)}
		</tbody>
		<tfoot>
			${shipping || tax ? row("Subtotal", subtotal) : nothing}
			${shipping ? row(`Shipping (${shipping.name})`, shipping.price) : nothing}
			${tax ? row(`Tax (${percent(tax.rate)})`, tax.amount) : nothing}
			<tr class="grand"><th scope="row">Total</th><td class="amount">${formatMoney(total, currency)}</td></tr>
		</tfoot>
	</table>`;
}

/** What the cart and the checkout show an admin instead: the API refuses admins an order. */
export function notForAdmins(heading: string): TemplateResult {
	return html`<h1>${heading}</h1>
		<agora-state-panel kind="empty" heading="Admin accounts cannot place orders">
			<p>Sign in with a customer account to buy.</p>
		</agora-state-panel>`;
}

/** How a cart line's stock note looks: `ok`, `low` or `problem` (lineNote's tones). */
export const lineNoteStyles = css`
	.note {
		display: block;
		margin: 0;
		font-size: 0.875rem;
		font-weight: 600;
		color: var(--agora-accent-strong);
	}
	.note.low {
		color: var(--agora-warning);
	}
	.note.problem {
		color: var(--agora-danger);
	}
`;

/**
 * The cart once it is there: while it loads, why it could not be loaded (with a retry), or that
 * it is empty. Needs the host's `buttons` styles.
 */
export function cartPanel({ cart, loading, error }: CartState, ready: (cart: Cart) => TemplateResult, retry: () => void): TemplateResult {
	if (loading && !cart) return html`<agora-state-panel kind="loading" heading="Loading your cart…"></agora-state-panel>`;
	if (error)
		return html`<agora-state-panel kind="error" heading=${error}>
			<button class="button" type="button" @click=${retry}>Try again</button>
		</agora-state-panel>`;
	if (!cart || cart.items.length === 0)
		return html`<agora-state-panel kind="empty" heading="Your cart is empty">
			<a class="button primary" href="/">Browse the shop</a>
		</agora-state-panel>`;
	return ready(cart);
}
