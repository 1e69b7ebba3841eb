import { io, type Socket } from "socket.io-client";

/** A Socket.IO client as the web app uses it, remembering every event it was pushed. */
export interface Listener {
	socket: Socket;
	/** Payloads of `event` received so far that `match` accepts, oldest first. */
	received<T = Record<string, unknown>>(event: string, match?: (payload: T) => boolean): T[];
	/** The first payload of `event` that `match` accepts, already received or still to come. */
	waitFor<T = Record<string, unknown>>(event: string, match?: (payload: T) => boolean, timeoutMs?: number): Promise<T>;
	/** When each `event` arrived (ms since the epoch), oldest first. */
	arrivals(event: string): number[];
	/** Calls an action over the socket, as the app's catch-up does; resolves with `[error, result]`. */
	call(action: string, params?: unknown): Promise<[unknown, unknown]>;
	close(): void;
}

/**
 * Connects to a gateway, signed in with a token or as a guest following one order (`{orderToken}`);
 * rejects with the server's reason (e.g. `INVALID_TOKEN`) when refused.
 */
export async function listen(url: string, token?: string | { orderToken: string }): Promise<Listener> {
	const auth = typeof token === "object" ? token : token ? { token } : {};
	const socket = io(url, { path: "/socket.io", transports: ["websocket"], auth, reconnectionDelay: 100 });
	const log: { event: string; payload: unknown; at: number }[] = [];
	const waiters = new Set<() => void>();
	socket.onAny((event: string, payload: unknown) => {
		log.push({ event, payload, at: Date.now() });
		for (const wake of waiters) wake();
	});

	await new Promise<void>((resolve, reject) => {
		const refused = (err: Error) => {
			socket.off("connect", connected);
			socket.close();
			reject(err);
		};
		// Once connected, a failed attempt to reconnect (its gateway restarting) must not close the socket for good.
		const connected = () => {
			socket.off("connect_error", refused);
			resolve();
		};
		socket.once("connect", connected);
		socket.once("connect_error", refused);
	});

	const received = <T>(event: string, match: (payload: T) => boolean = () => true) =>
		log.filter((entry) => entry.event === event && match(entry.payload as T)).map((entry) => entry.payload as T);

	return {
		socket,
		received,
		waitFor<T>(event: string, match: (payload: T) => boolean = () => true, timeoutMs = 20_000) {
			return new Promise<T>((resolve, reject) => {
				const check = () => {
					const [first] = received(event, match);
					if (first === undefined) return;
					clearTimeout(timer);
					waiters.delete(check);
					resolve(first);
				};
				const timer = setTimeout(() => {
					waiters.delete(check);
					reject(new Error(`no matching '${event}' within ${timeoutMs} ms; got: ${log.map((entry) => entry.event).join(", ")}`));
				}, timeoutMs);
				waiters.add(check);
				check();
			});
		},
		arrivals(event: string) {
			return log.filter((entry) => entry.event === event).map((entry) => entry.at);
		},
		call(action: string, params: unknown = {}) {
			return new Promise((resolve) => socket.emit("call", action, params, (error: unknown, result: unknown) => resolve([error, result])));
		},
		close() {
			socket.close();
		},
	};
}
