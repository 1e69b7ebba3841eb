/** The admin dashboard: loaded as its own chunk, and only for admins (see agora-app's guard). */
import { css, html, LitElement } from "lit";
import { customElement, property } from "lit/decorators.js";
import { base } from "../shared/styles";
import "./admin-overview";
import "./inventory-admin";
import "./orders-board";
import "./products-admin";
import "./webhook-deliveries";
import "./webhooks-admin";

export type AdminSection = "overview" | "orders" | "products" | "inventory" | "webhooks";

const SECTIONS: readonly { id: AdminSection; href: string; title: string }[] = [
	{ id: "overview", href: "/admin", title: "Overview" },
	{ id: "orders", href: "/admin/orders", title: "Orders" },
	{ id: "products", href: "/admin/products", title: "Products" },
	{ id: "inventory", href: "/admin/inventory", title: "Inventory" },
	{ id: "webhooks", href: "/admin/webhooks", title: "Webhooks" },
];

@customElement("agora-admin-area")
export class AdminArea extends LitElement {
	static override styles = [
		base,
		css`
			/* Every tab stays in sight: on a narrow phone the bar wraps onto a second row. */
			nav ul {
				display: flex;
				flex-wrap: wrap;
				gap: var(--agora-space-1);
				margin: 0 0 var(--agora-space-5);
				padding: 0;
				list-style: none;
				border-bottom: 1px solid var(--agora-border);
			}
			nav a {
				display: block;
				padding: var(--agora-space-2) var(--agora-space-3);
				font-weight: 600;
				white-space: nowrap;
				color: var(--agora-text-muted);
				text-decoration: none;
				border-bottom: 3px solid transparent;
			}
			nav a[aria-current="page"] {
				color: var(--agora-accent-strong);
				border-bottom-color: var(--agora-accent);
			}
		`,
	];

	@property() section: AdminSection = "overview";
	/** The webhook whose delivery log is open, in the webhooks section. */
	@property() webhookId = "";
	@property() search = "";

	override render() {
		const current = SECTIONS.find((section) => section.id === this.section);
		return html`<h1>Admin · ${current?.title}</h1>
			<nav aria-label="Admin">
				<ul>
					${SECTIONS.map(
						(section) =>
							html`<li><a href=${section.href} aria-current=${section.id === this.section ? "page" : "false"}>${section.title}</a></li>`,
					)}
				</ul>
			</nav>
			${this.#content()}`;
	}

	#content() {
		switch (this.section) {
			case "overview":
				return html`<agora-admin-overview></agora-admin-overview>`;
			case "orders":
				return html`<agora-orders-board></agora-orders-board>`;
			case "products":
				return html`<agora-products-admin></agora-products-admin>`;
			case "inventory":
				return html`<agora-inventory-admin></agora-inventory-admin>`;
			case "webhooks":
				return this.webhookId
					? html`<agora-webhook-deliveries .webhookId=${this.webhookId} .search=${this.search}></agora-webhook-deliveries>`
					: html`<agora-webhooks-admin></agora-webhooks-admin>`;
		}
	}
}

declare global {
	interface HTMLElementTagNameMap {
		"agora-admin-area": AdminArea;
	}
}
