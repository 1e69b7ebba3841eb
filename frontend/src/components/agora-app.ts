import { ContextProvider } from "@lit/context";
import { css, html, LitElement, type PropertyValues } from "lit";
import { customElement, query, state } from "lit/decorators.js";
import { guard, isAdminRoute, matchRoute, type Route } from "../lib/routes";
import { createAppState, startAppState } from "../state/app-state";
import { apiContext, cartContext, guestOrdersContext, liveContext, sessionContext, toastContext } from "../state/contexts";
import { NavigateEvent } from "./shared/navigation";
import "./shared/site-header";
import "./shared/state-panel";
import "./shared/toast-region";
import { base } from "./shared/styles";
import "./shop/cart-page";
import "./shop/catalogue-page";
import "./shop/checkout-page";
import "./shop/login-page";
import "./shop/order-page";
import "./shop/orders-page";
import "./shop/product-page";

/**
 * The app shell: owns the state every component reads through context, routes on real URLs with
 * the History API, and keeps signed-out visitors and customers out of pages that are not theirs.
 */
@customElement("agora-app")
export class AgoraApp extends LitElement {
	static override styles = [
		base,
		css`
			:host {
				display: flex;
				flex-direction: column;
				min-height: 100vh;
			}
			main {
				flex: 1;
				width: 100%;
				max-width: var(--agora-content-width);
				margin: 0 auto;
				padding: var(--agora-space-5) var(--agora-space-4) var(--agora-space-6);
			}
			main:focus {
				outline: none;
			}
			.skip {
				position: absolute;
				top: var(--agora-space-2);
				left: var(--agora-space-2);
				z-index: 20;
				padding: var(--agora-space-2) var(--agora-space-3);
				color: var(--agora-on-accent);
				background: var(--agora-accent);
				border-radius: var(--agora-radius-small);
				transform: translateY(-200%);
			}
			.skip:focus {
				transform: none;
			}
			footer {
				padding: var(--agora-space-4);
				font-size: 0.875rem;
				text-align: center;
				color: var(--agora-text-muted);
				border-top: 1px solid var(--agora-border);
			}
		`,
	];

	readonly #state = createAppState();
	@state() private route: Route = matchRoute(location.pathname);
	@state() private search = location.search;
	/** The session is still being restored, so a guarded page cannot be decided yet. */
	@state() private waiting = false;
	@state() private adminLoaded = false;
	@query("main") private main?: HTMLElement;
	#moveFocus = false;
	#started = false;
	#unsubscribeSession?: () => void;

	constructor() {
		super();
		const { api, session, cart, guestOrders, live, toasts } = this.#state;
		new ContextProvider(this, { context: apiContext, initialValue: api });
		new ContextProvider(this, { context: sessionContext, initialValue: session });
		new ContextProvider(this, { context: cartContext, initialValue: cart });
		new ContextProvider(this, { context: guestOrdersContext, initialValue: guestOrders });
		new ContextProvider(this, { context: liveContext, initialValue: live });
		new ContextProvider(this, { context: toastContext, initialValue: toasts });
	}

	override connectedCallback(): void {
		super.connectedCallback();
		window.addEventListener("popstate", this.#resolve);
		this.addEventListener("click", this.#followLink);
		this.addEventListener(NavigateEvent.type, this.#onNavigate);
		this.#unsubscribeSession = this.#state.session.subscribe(this.#resolve);
		if (!this.#started) {
			this.#started = true;
			startAppState(this.#state);
		}
		this.#resolve();
	}

	override disconnectedCallback(): void {
		super.disconnectedCallback();
		window.removeEventListener("popstate", this.#resolve);
		this.removeEventListener("click", this.#followLink);
		this.removeEventListener(NavigateEvent.type, this.#onNavigate);
		this.#unsubscribeSession?.();
	}

	override render() {
		return html`<a class="skip" href="#main" @click=${this.#skipToContent}>Skip to content</a>
			<agora-site-header .route=${this.route.name}></agora-site-header>
			<main id="main" tabindex="-1">${this.#page()}</main>
			<footer>Agora demo shop · pay with the test card 4242 4242 4242 4242</footer>
			<agora-toast-region></agora-toast-region>`;
	}

	protected override updated(changed: PropertyValues): void {
		if (!changed.has("route") || !this.#moveFocus) return;
		this.#moveFocus = false;
		// A new page: start at its top, and let screen readers hear where they are.
		window.scrollTo(0, 0);
		this.main?.focus({ preventScroll: true });
	}

	#page() {
		if (this.waiting || (isAdminRoute(this.route) && !this.adminLoaded))
			return html`<agora-state-panel kind="loading"></agora-state-panel>`;
		const { params } = this.route;
		switch (this.route.name) {
			case "catalogue":
				return html`<agora-catalogue-page .search=${this.search}></agora-catalogue-page>`;
			case "product":
				return html`<agora-product-page .productId=${params.id ?? ""}></agora-product-page>`;
			case "cart":
				return html`<agora-cart-page></agora-cart-page>`;
			case "checkout":
				return html`<agora-checkout-page></agora-checkout-page>`;
			case "orders":
				return html`<agora-orders-page .search=${this.search}></agora-orders-page>`;
			case "order":
				return html`<agora-order-page .orderId=${params.id ?? ""}></agora-order-page>`;
			case "login":
				return html`<agora-login-page .search=${this.search}></agora-login-page>`;
			case "admin":
				return html`<agora-admin-area section="overview"></agora-admin-area>`;
			case "admin-orders":
				return html`<agora-admin-area section="orders"></agora-admin-area>`;
			case "admin-products":
				return html`<agora-admin-area section="products"></agora-admin-area>`;
			case "admin-inventory":
				return html`<agora-admin-area section="inventory"></agora-admin-area>`;
			case "admin-webhooks":
				return html`<agora-admin-area section="webhooks"></agora-admin-area>`;
			case "admin-webhook":
				return html`<agora-admin-area section="webhooks" .webhookId=${params.id ?? ""} .search=${this.search}></agora-admin-area>`;
			case "not-found":
				return html`<agora-state-panel kind="empty" heading="This page does not exist">
					<a href="/">Back to the shop</a>
				</agora-state-panel>`;
		}
	}

	/** Decides what the current URL shows, given who is signed in. */
	#resolve = (): void => {
		const route = matchRoute(location.pathname);
		const session = this.#state.session.value;
		const decision = guard(
			route,
			{ restoring: session.restoring, role: session.user?.role ?? null, guestOrders: Object.keys(this.#state.guestOrders.value) },
			location.pathname + location.search,
		);
		if (decision.kind === "redirect") {
			if (decision.reason === "admins-only") this.#state.toasts.show("That page is for admins only.", "error");
			this.#go(decision.to, true);
			return;
		}
		this.#moveFocus ||= route.name !== this.route.name || route.params.id !== this.route.params.id;
		this.route = route;
		this.search = location.search;
		this.waiting = decision.kind === "wait";
		document.title = `${route.title} · Agora`;
		if (isAdminRoute(route) && decision.kind === "allow") void this.#loadAdmin();
	};

	#go(url: string, replace = false): void {
		if (url !== location.pathname + location.search + location.hash) {
			if (replace) history.replaceState(null, "", url);
			else history.pushState(null, "", url);
		}
		this.#resolve();
	}

	/** The admin pages are a separate chunk: shoppers never download them. */
	async #loadAdmin(): Promise<void> {
		if (this.adminLoaded) return;
		try {
			await import("./admin/admin-area");
			this.adminLoaded = true;
		} catch {
			this.#state.toasts.show("The admin pages could not be loaded. Reload to try again.", "error");
		}
	}

	#onNavigate = (event: NavigateEvent): void => {
		this.#go(event.url, event.replace);
	};

	/** Same-origin links navigate in the app; new tabs, downloads and other sites keep the browser's behaviour. */
	#followLink = (event: MouseEvent): void => {
		if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
		const anchor = event.composedPath().find((target): target is HTMLAnchorElement => target instanceof HTMLAnchorElement);
		if (!anchor?.href || anchor.target || anchor.hasAttribute("download")) return;
		const url = new URL(anchor.href);
		if (url.origin !== location.origin) return;
		event.preventDefault();
		this.#go(url.pathname + url.search + url.hash);
	};

	#skipToContent = (event: Event): void => {
		event.preventDefault();
		this.main?.focus();
	};
}

declare global {
	interface HTMLElementTagNameMap {
		"agora-app": AgoraApp;
	}
}
