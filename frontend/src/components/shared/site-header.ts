import { css, html, LitElement, nothing } from "lit";
import { customElement, property } from "lit/decorators.js";
import { itemCount } from "../../lib/cart";
import type { RouteName } from "../../lib/routes";
import { cartContext, sessionContext } from "../../state/contexts";
import { watch } from "../../state/controllers";
import "./connection-indicator";
import { navigate } from "./navigation";
import { base, buttons } from "./styles";

const SHOP_ROUTES: readonly RouteName[] = ["catalogue", "product"];
const ORDER_ROUTES: readonly RouteName[] = ["orders", "order"];
const ADMIN_ROUTES: readonly RouteName[] = ["admin", "admin-orders", "admin-products", "admin-inventory"];

@customElement("agora-site-header")
export class SiteHeader extends LitElement {
	static override styles = [
		base,
		buttons,
		css`
			:host {
				background: var(--agora-surface);
				border-bottom: 1px solid var(--agora-border);
			}
			.bar {
				display: flex;
				flex-wrap: wrap;
				align-items: center;
				gap: var(--agora-space-2) var(--agora-space-4);
				max-width: var(--agora-content-width);
				margin: 0 auto;
				padding: var(--agora-space-3) var(--agora-space-4);
			}
			.brand {
				display: inline-flex;
				align-items: center;
				gap: var(--agora-space-2);
				font-size: 1.25rem;
				font-weight: 800;
				letter-spacing: -0.01em;
				color: var(--agora-text);
				text-decoration: none;
			}
			.brand svg {
				width: 1.75rem;
				height: 1.75rem;
			}
			nav {
				flex: 1 1 auto;
			}
			nav ul {
				display: flex;
				flex-wrap: wrap;
				gap: var(--agora-space-1) var(--agora-space-3);
				margin: 0;
				padding: 0;
				list-style: none;
			}
			nav a {
				display: inline-block;
				padding: var(--agora-space-1) var(--agora-space-2);
				font-weight: 600;
				color: var(--agora-text-muted);
				text-decoration: none;
				border-radius: var(--agora-radius-small);
			}
			nav a:hover,
			nav a[aria-current="page"] {
				color: var(--agora-accent-strong);
				background: var(--agora-accent-soft);
			}
			.tools {
				display: flex;
				flex-wrap: wrap;
				align-items: center;
				gap: var(--agora-space-3);
			}
			.count {
				min-width: 1.5rem;
				padding: 0 0.375rem;
				font-size: 0.8125rem;
				text-align: center;
				color: var(--agora-on-accent);
				background: var(--agora-accent);
				border-radius: 999px;
			}
			.who {
				max-width: 12rem;
				overflow: hidden;
				text-overflow: ellipsis;
				white-space: nowrap;
			}
			/* On a phone the name would cost a whole row of the header. */
			@media (max-width: 40rem) {
				.who {
					display: none;
				}
			}
		`,
	];

	@property() route: RouteName = "catalogue";

	readonly #session = watch(this, sessionContext);
	readonly #cart = watch(this, cartContext);

	override render() {
		const user = this.#session.value.user;
		const count = itemCount(this.#cart.value.cart);
		return html`<div class="bar">
			<a class="brand" href="/">
				<svg viewBox="0 0 32 32" aria-hidden="true">
					<circle cx="16" cy="16" r="15" fill="#2e6a4f" />
					<path d="M9 19c0-5 3-9 7-11 4 2 7 6 7 11a7 7 0 0 1-14 0z" fill="#cfe5d8" />
					<path d="M16 10v15" stroke="#2e6a4f" stroke-width="1.6" stroke-linecap="round" />
				</svg>
				Agora
			</a>
			<nav aria-label="Main">
				<ul>
					<li>${this.#link("/", "Shop", SHOP_ROUTES)}</li>
					${user?.role === "customer" ? html`<li>${this.#link("/orders", "Your orders", ORDER_ROUTES)}</li>` : nothing}
					${user?.role === "admin" ? html`<li>${this.#link("/admin", "Admin", ADMIN_ROUTES)}</li>` : nothing}
				</ul>
			</nav>
			<div class="tools">
				<agora-connection-indicator></agora-connection-indicator>
				${
					this.#session.value.canBuy
						? html`<a class="button small" href="/cart" aria-current=${this.route === "cart" ? "page" : "false"}>
								Cart <span class="count" aria-hidden="true">${count}</span><span class="sr-only">, ${count} items</span>
							</a>`
						: nothing
				}
				${
					user
						? html`<span class="who muted" title=${user.email}>${user.name}</span>
								<button class="button small" type="button" @click=${this.#signOut}>Sign out</button>`
						: html`<a class="button small primary" href="/login">Sign in</a>`
				}
			</div>
		</div>`;
	}

	#link(href: string, label: string, routes: readonly RouteName[]) {
		return html`<a href=${href} aria-current=${routes.includes(this.route) ? "page" : "false"}>${label}</a>`;
	}

	#signOut = () => {
		this.#session.value.signOut();
		navigate(this, "/");
	};
}

declare global {
	interface HTMLElementTagNameMap {
		"agora-site-header": SiteHeader;
	}
}
