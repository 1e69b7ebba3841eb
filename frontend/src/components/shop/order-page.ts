import { css, html, LitElement, nothing, type PropertyValues } from "lit";
import { customElement, property } from "lit/decorators.js";
import type { Order } from "../../api/types";
import { countryName } from "../../lib/countries";
import { formatDateTime, shortId } from "../../lib/format";
import { isNewer } from "../../lib/order-list";
import { canCancel, FULFILMENT_STEPS, statusLabel } from "../../lib/order-status";
import { apiContext, guestOrdersContext, liveContext, sessionContext, toastContext } from "../../state/contexts";
import { LiveSubscription, use } from "../../state/controllers";
import { optimistically } from "../../state/optimistic";
import "../shared/confirm-button";
import { Loader } from "../shared/loader";
import "../shared/status-badge";
import { base, buttons } from "../shared/styles";
import { lineItemStyles, lineItems } from "./line-items";

/**
 * One order: where it stands, as it moves, and a way to cancel it while that is still possible.
 * A guest reads and follows it with the access token their checkout left in this browser.
 */
@customElement("agora-order-page")
export class OrderPage extends LitElement {
	static override styles = [
		base,
		buttons,
		lineItemStyles,
		css`
			.layout {
				display: grid;
				grid-template-columns: minmax(0, 1fr) 18rem;
				gap: var(--agora-space-5);
				align-items: start;
			}
			.status {
				display: flex;
				flex-wrap: wrap;
				align-items: center;
				gap: var(--agora-space-3);
				font-size: 1.1rem;
			}
			.steps {
				display: grid;
				grid-template-columns: repeat(5, 1fr);
				gap: var(--agora-space-1);
				margin: var(--agora-space-4) 0;
				padding: 0;
				list-style: none;
				counter-reset: step;
			}
			.steps li {
				padding-top: var(--agora-space-2);
				font-size: 0.8125rem;
				font-weight: 600;
				color: var(--agora-text-muted);
				border-top: 4px solid var(--agora-border);
			}
			.steps li.done {
				color: var(--agora-accent-strong);
				border-top-color: var(--agora-accent);
			}
			.closed {
				padding: var(--agora-space-3);
				font-weight: 600;
				color: var(--agora-danger);
				background: var(--agora-danger-soft);
				border-radius: var(--agora-radius-small);
			}
			.history {
				margin: 0;
				padding-left: var(--agora-space-5);
			}
			.history time {
				display: block;
				font-size: 0.875rem;
				color: var(--agora-text-muted);
			}
			address {
				margin-bottom: var(--agora-space-5);
				font-style: normal;
			}
			@media (max-width: 48rem) {
				.layout {
					grid-template-columns: 1fr;
				}
				.steps {
					grid-template-columns: 1fr;
				}
			}
		`,
	];

	@property() orderId = "";

	readonly #api = use(this, apiContext);
	readonly #session = use(this, sessionContext);
	readonly #toasts = use(this, toastContext);
	readonly #guestOrders = use(this, guestOrdersContext);
	readonly #live = use(this, liveContext);
	readonly #order = new Loader<Order>(this, () => this.#api.value.orders.get(this.orderId, this.#guestToken() ?? undefined));
	#unwatchLive?: () => void;

	constructor() {
		super();
		const take = (order: Order) => {
			if (order.id === this.orderId) this.#order.patch((current) => (isNewer(order, current) ? order : current));
		};
		new LiveSubscription(this, { "order.created": take, "order.updated": take, "order.cancelled": take });
	}

	override connectedCallback(): void {
		super.connectedCallback();
		// A guest's socket is in no account's room, so nothing replays what it missed while down: read the order again.
		let state = this.#live.value.state;
		this.#unwatchLive = this.#live.value.subscribe((next) => {
			if (next === "connected" && state !== "connected" && this.#guestToken()) void this.#order.run();
			state = next;
		});
	}

	override disconnectedCallback(): void {
		super.disconnectedCallback();
		this.#unwatchLive?.();
		if (this.#guestOrders.value.follow(null)) this.#live.value.reauthenticate();
	}

	protected override willUpdate(changed: PropertyValues<this>): void {
		if (!changed.has("orderId")) return;
		void this.#order.run();
		if (this.#guestOrders.value.follow(this.#guestToken() ? this.orderId : null)) this.#live.value.reauthenticate();
	}

	override render() {
		return html`<p>${this.#guestToken() ? html`<a href="/">← Back to the shop</a>` : html`<a href="/orders">← All orders</a>`}</p>
			${this.#order.render((order) => this.#details(order), "Loading the order…")}`;
	}

	/** The access token of a guest's order, when nobody is signed in (an account reads its own orders). */
	#guestToken(): string | null {
		return this.#session.value.token ? null : this.#guestOrders.value.tokenOf(this.orderId);
	}

	#details(order: Order) {
		const reached = FULFILMENT_STEPS.indexOf(order.status);
		const closed = order.status === "cancelled" || order.status === "failed";
		return html`<div class="page-head"><h1>Order ${shortId(order.id)}</h1></div>
			${order.email ? html`<p>Updates on this order go to ${order.email}. Keep this page to follow it.</p>` : nothing}
			<div class="layout">
				<section class="card" aria-label="Status">
					<p class="status" aria-live="polite">
						Status: <agora-status-badge status=${order.status}></agora-status-badge>
						<span class="sr-only">${statusLabel(order.status)}</span>
					</p>
					${
						closed
							? html`<p class="closed">${order.status === "failed" ? "The payment was declined, so nothing was charged." : "This order was cancelled. Any payment is refunded."}</p>`
							: html`<ol class="steps" aria-label="Progress">
									${FULFILMENT_STEPS.map(
										(step, i) =>
											html`<li class=${i <= reached ? "done" : ""} aria-current=${i === reached ? "step" : "false"}>${statusLabel(step)}</li>`,
									)}
								</ol>`
					}
					${lineItems(order.items, order)}
					${this.#cancelControls(order)}
				</section>
				<aside class="card">
					${
						order.shippingAddress
							? html`<h2>Shipping to</h2>
									<address>
										${order.shippingAddress.name}<br />${order.shippingAddress.line1}<br />${order.shippingAddress.postalCode}
										${order.shippingAddress.city}<br />${countryName(order.shippingAddress.country)}
									</address>`
							: nothing
					}
					<h2>History</h2>
					<ol class="history">
						${order.history.map((entry) => html`<li>${statusLabel(entry.status)}<time datetime=${entry.at}>${formatDateTime(entry.at)}</time></li>`)}
					</ol>
				</aside>
			</div>`;
	}

	#cancelControls(order: Order) {
		const role = this.#session.value.user?.role;
		// A guest's token reads the order; cancelling asks for an account.
		if (!role || !canCancel(order.status, role)) return nothing;
		return html`<p>
			<agora-confirm-button
				label="Cancel order"
				question="Cancel this order?"
				confirmLabel="Yes, cancel it"
				keepLabel="Keep the order"
				@confirm=${() => this.#cancel(order)}
			></agora-confirm-button>
		</p>`;
	}

	async #cancel(order: Order): Promise<void> {
		try {
			const cancelled = await optimistically(
				() => this.#order.patch(() => ({ ...order, status: "cancelled" })),
				() => this.#api.value.orders.cancel(order.id),
				() => this.#order.patch((current) => (isNewer(order, current) ? order : current)),
			);
			this.#order.patch((current) => (isNewer(cancelled, current) ? cancelled : current));
		} catch (error) {
			this.#toasts.value.error(error, "The order could not be cancelled.");
		}
	}
}

declare global {
	interface HTMLElementTagNameMap {
		"agora-order-page": OrderPage;
	}
}
