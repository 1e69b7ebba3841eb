/** Builds the app's state once per <agora-app> and wires the parts to each other. */
import { ApiClient } from "../api/client";
import { LiveConnection } from "../api/live";
import { formatMoney, plural, shortId } from "../lib/format";
import { statusLabel } from "../lib/order-status";
import { type CartOwner, CartStore } from "./cart";
import { GuestOrderStore } from "./guest-orders";
import { type SessionState, SessionStore } from "./session";
import { ToastStore } from "./toasts";

export interface AppState {
	api: ApiClient;
	session: SessionStore;
	cart: CartStore;
	guestOrders: GuestOrderStore;
	live: LiveConnection;
	toasts: ToastStore;
}

export function createAppState(): AppState {
	const toasts = new ToastStore();
	const api: ApiClient = new ApiClient({
		token: () => session.token,
		onUnauthorized: () => {
			session.signOut();
			toasts.show("Your session has ended. Please sign in again.", "error");
		},
	});
	const session = new SessionStore(api, localStorage);
	const cart = new CartStore(api, localStorage);
	const guestOrders = new GuestOrderStore(localStorage);
	const live = new LiveConnection({
		token: () => session.token,
		orderToken: () => guestOrders.followed,
		onInvalidToken: () => session.signOut(),
		onCaughtUp: (missed) => {
			if (missed.length > 0) toasts.show(`Back online: ${plural(missed.length, "order")} changed while you were away.`);
		},
	});
	return { api, session, cart, guestOrders, live, toasts };
}

function cartOwner({ user }: SessionState): CartOwner {
	return user ? user.role : "guest";
}

/** Starts the network side: checks the saved session, opens the live connection, keeps everything in step. */
export function startAppState({ session, cart, live, toasts }: AppState): void {
	let token = session.token;
	// The cart is the signed-in account's, so it is fetched once the saved session is known.
	let cartFor: string | null = null;
	const loadCart = (state: SessionState) => {
		const owner = `${cartOwner(state)}:${state.token ?? ""}`;
		if (state.restoring || owner === cartFor) return;
		cartFor = owner;
		void cart.load(cartOwner(state));
	};
	session.subscribe((state) => {
		loadCart(state);
		if (state.token === token) return;
		token = state.token;
		live.reauthenticate();
	});
	loadCart(session.value);
	window.addEventListener("storage", (event) => cart.syncFrom(event));
	live.on("cart.updated", (pushed) => cart.replace(pushed));
	announcePushes(live, session, toasts);
	live.start();
	void session.restore();
}

/** Toasts for the pushes a person would want to hear about, wherever they are in the app. */
function announcePushes(live: LiveConnection, session: SessionStore, toasts: ToastStore): void {
	const role = () => session.user?.role;
	// Someone's own action already shows its result where they made it.
	const byOther = (order: { history: { by?: string }[] }) => order.history.at(-1)?.by !== session.user?.id;

	live.on("order.created", (order, { replayed }) => {
		if (role() === "admin" && !replayed)
			toasts.show(`New order ${shortId(order.id)}: ${formatMoney(order.total, order.currency)}.`, "success");
	});
	live.on("order.updated", (order, { replayed }) => {
		// Cancellations have their own push below.
		if (role() === "customer" && !replayed && order.status !== "cancelled" && byOther(order))
			toasts.show(`Order ${shortId(order.id)} is now ${statusLabel(order.status).toLowerCase()}.`);
	});
	live.on("order.cancelled", (order) => {
		if (byOther(order)) toasts.show(`Order ${shortId(order.id)} was cancelled.`, "warning");
	});
	live.on("inventory.low-stock", (alert) => {
		if (role() === "admin") toasts.show(`Low stock: ${alert.name} has ${alert.available} left.`, "warning");
	});
}
