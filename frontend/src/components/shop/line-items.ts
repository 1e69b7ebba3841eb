import { css, html, nothing, type TemplateResult } from "lit";
import { formatMoney } from "../../lib/format";
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
		font-size: 1.1rem;
		font-weight: 700;
		border-bottom: 0;
	}
	.items .problem {
		display: block;
		margin-top: var(--agora-space-1);
		font-size: 0.875rem;
		font-weight: 600;
		color: var(--agora-danger);
	}
`;

/**
 * The lines of a cart or an order with their total; `problems` puts a message under a line (an
 * item that ran out while the shopper was checking out).
 */
export function lineItems(
	items: readonly LineItem[],
	{ total, currency, problems = {} }: { total: number; currency: string; problems?: Record<string, string> },
): TemplateResult {
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
			<tr><th scope="row">Total</th><td class="amount">${formatMoney(total, currency)}</td></tr>
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
