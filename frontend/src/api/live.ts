/** The Socket.IO side of the contract: typed pushes, a connection state, reconnect and catch-up. */
import { io, type Socket } from "socket.io-client";
import type { SocketRefusal } from "../../../lib/contracts/errors";
import { Store } from "../state/store";
import type { Cart, ErrorBody, InventoryChange, LowStockAlert, Order, Product, StatsUpdate } from "./types";

/** What the server pushes (docs/events.md, Socket.IO); each payload is the full current object. */
export interface LiveEvents {
	"order.created": Order;
	"order.updated": Order;
	"order.cancelled": Order;
	"inventory.updated": InventoryChange;
	"inventory.low-stock": LowStockAlert;
	"product.created": Product;
	"product.updated": Product;
	"product.deleted": { id: string };
	"stats.updated": StatsUpdate;
	"cart.updated": Cart;
}

export type LiveEvent = keyof LiveEvents;

const LIVE_EVENTS: ReadonlySet<string> = new Set<LiveEvent>([
	"order.created",
	"order.updated",
	"order.cancelled",
	"inventory.updated",
	"inventory.low-stock",
	"product.created",
	"product.updated",
	"product.deleted",
	"stats.updated",
	"cart.updated",
]);

const isLiveEvent = (name: string): name is LiveEvent => LIVE_EVENTS.has(name);

export interface LiveMeta {
	/** Replayed by the catch-up after a reconnect rather than pushed as it happened. */
	replayed: boolean;
}

export type LiveHandler<E extends LiveEvent> = (payload: LiveEvents[E], meta: LiveMeta) => void;

type ServerToClient = { [E in LiveEvent]: (payload: LiveEvents[E]) => void };

interface ClientToServer {
	call: (action: "orders.changedSince", params: { since: string }, ack: (error: ErrorBody | null, orders?: Order[]) => void) => void;
}

export type ConnectionState = "connecting" | "connected" | "reconnecting" | "offline";

// Clocks of browser and server differ a little; replaying a few seconds twice is harmless
// because order lists keep the newest version of each order.
const CLOCK_SKEW_MARGIN_MS = 30_000;
const CATCH_UP_TIMEOUT_MS = 10_000;

export interface LiveConnectionOptions {
	token: () => string | null;
	/** Without a token: the access token of the one guest order this visitor follows, if any. */
	orderToken: () => string | null;
	/** The server refused the token at the handshake; the session should end. */
	onInvalidToken: () => void;
	/** After a reconnect: the orders that changed while the connection was down have been replayed. */
	onCaughtUp?: (missed: readonly Order[]) => void;
}

/** One Socket.IO connection for the app; its value is the connection state for the indicator. */
export class LiveConnection extends Store<ConnectionState> {
	readonly #options: LiveConnectionOptions;
	readonly #handlers = new Map<LiveEvent, Set<LiveHandler<LiveEvent>>>();
	#socket: Socket<ServerToClient, ClientToServer> | null = null;
	/** Changes after this moment may have been missed; moves on when a connection that was caught up drops. */
	#missedSince = Date.now();
	#caughtUp = false;
	#connectedBefore = false;

	constructor(options: LiveConnectionOptions) {
		super("connecting");
		this.#options = options;
	}

	get state(): ConnectionState {
		return this.value;
	}

	start(target: Window = window): void {
		const socket: Socket<ServerToClient, ClientToServer> = io({
			path: "/socket.io",
			// Read at every (re)connect, so a reconnect after signing in or out joins the right rooms.
			auth: (send) => {
				const token = this.#options.token();
				const orderToken = token ? null : this.#options.orderToken();
				send(token ? { token } : orderToken ? { orderToken } : {});
			},
		});
		this.#socket = socket;
		socket.onAny((event: string, payload: LiveEvents[LiveEvent]) => {
			if (isLiveEvent(event)) this.#dispatch(event, payload, { replayed: false });
		});
		socket.on("connect", () => {
			this.set("connected");
			this.#catchUp(this.#connectedBefore);
			this.#connectedBefore = true;
		});
		socket.on("disconnect", () => {
			if (this.#caughtUp) this.#missedSince = Date.now();
			this.#caughtUp = false;
			if (this.value !== "offline") this.set("reconnecting");
		});
		socket.on("connect_error", (error) => {
			// Refused by the server's middleware: Socket.IO will not retry on its own.
			if (error.message === ("INVALID_TOKEN" satisfies SocketRefusal)) this.#options.onInvalidToken();
			else if (this.value !== "offline") this.set("reconnecting");
		});
		// A dead network would only show after the heartbeat times out; the browser knows sooner.
		target.addEventListener("offline", () => {
			this.set("offline");
			socket.disconnect();
		});
		target.addEventListener("online", () => {
			this.set("reconnecting");
			socket.connect();
		});
	}

	/** Reconnects with the current token, e.g. after signing in or out, or a guest opening their order. */
	reauthenticate(): void {
		if (!this.#socket) return;
		this.#socket.disconnect();
		this.#socket.connect();
	}

	on<E extends LiveEvent>(event: E, handler: LiveHandler<E>): () => void {
		let handlers = this.#handlers.get(event);
		if (!handlers) {
			handlers = new Set();
			this.#handlers.set(event, handlers);
		}
		const added = handler as LiveHandler<LiveEvent>;
		handlers.add(added);
		return () => handlers.delete(added);
	}

	#dispatch<E extends LiveEvent>(event: E, payload: LiveEvents[E], meta: LiveMeta): void {
		for (const handler of this.#handlers.get(event) ?? []) handler(payload, meta);
	}

	/** Replays the orders that changed while disconnected as `order.updated`, so every view heals the same way. */
	#catchUp(reconnected: boolean): void {
		const socket = this.#socket;
		if (!socket) return;
		if (!this.#options.token()) {
			// Public rooms carry no orders; a guest's order page reads its one order again on reconnect.
			this.#caughtUp = true;
			return;
		}
		const missedSince = this.#missedSince;
		const since = new Date(missedSince - CLOCK_SKEW_MARGIN_MS).toISOString();
		socket.timeout(CATCH_UP_TIMEOUT_MS).emit("call", "orders.changedSince", { since }, (timeout, error, orders) => {
			// Keep the gap open: the next connection replays from the same moment.
			if (timeout || error || !orders) return;
			this.#caughtUp = true;
			for (const order of orders) this.#dispatch("order.updated", order, { replayed: true });
			// The margin is for safety; what the person missed is what changed after the drop.
			if (reconnected) this.#options.onCaughtUp?.(orders.filter((order) => Date.parse(order.updatedAt) > missedSince));
		});
	}
}
