/**
 * The gateway's limits on Socket.IO: open sockets per account (SocketCap) and messages per socket
 * (limitMessages).
 */
import type { Socket } from "socket.io";
import type { ErrorBody } from "../../lib/contracts/errors";
import type { LimitStore } from "./limit-store";

export interface SharedSockets {
	store: LimitStore;
	/** This gateway process, unique even when a restarted pod keeps its node id. */
	gateway: string;
	/** How long an entry counts without renewal: how soon the sockets of a dead gateway stop counting. */
	leaseMs: number;
}

/**
 * The cap on open sockets per account (`SOCKETS_PER_USER`). Each gateway knows its own sockets;
 * with a store, every gateway also writes an entry per socket there, renewed while the socket is
 * open, so the cap holds across gateways and the entries of a gateway that died without saying
 * goodbye expire within a lease. Admission inserts, then counts (as the login limits do): racing
 * connections may both be refused at the last place, never both let in. With the store down, a
 * gateway falls back to its own count: sockets keep working, capped per gateway.
 */
export class SocketCap {
	/** This gateway's open sockets, per account. */
	private readonly local = new Map<string, Set<string>>();
	private renewer?: NodeJS.Timeout;

	constructor(
		/** Sockets one account may hold open, across gateways. */
		readonly perAccount: number,
		private readonly shared: SharedSockets | null,
	) {}

	start(): void {
		if (this.shared) this.renewer = setInterval(() => void this.renew(), this.shared.leaseMs / 3).unref();
	}

	/** Closes the books of this gateway: its sockets are closing with it. */
	async stop(): Promise<void> {
		clearInterval(this.renewer);
		// The closing sockets' own leave() calls then have nothing to do.
		this.local.clear();
		const { shared } = this;
		if (shared) await shared.store.use(() => shared.store.sockets.deleteMany({ gateway: shared.gateway }));
	}

	/** Takes a place for the socket, or false when the account already has all its places. */
	async admit(socketId: string, account: string): Promise<boolean> {
		const mine = this.local.get(account) ?? new Set<string>();
		if (mine.size >= this.perAccount) return false;
		// Reserved before the store is asked: this gateway's own count stays exact, whatever the store answers (or not).
		mine.add(socketId);
		this.local.set(account, mine);
		const { shared } = this;
		if (!shared) return true;
		const admitted = await shared.store.use(() => this.admitShared(shared, socketId, account));
		if (admitted === false) this.dropLocal(socketId, account);
		else if (!mine.has(socketId)) {
			// It closed while the store answered, and its leave() found no entry to remove yet.
			await shared.store.use(() => shared.store.sockets.deleteOne({ _id: `${shared.gateway}/${socketId}` }));
			return false;
		}
		return admitted !== false;
	}

	/** Frees the socket's place; safe to call more than once. */
	async leave(socketId: string, account: string): Promise<void> {
		if (!this.dropLocal(socketId, account)) return;
		const { shared } = this;
		if (shared) await shared.store.use(() => shared.store.sockets.deleteOne({ _id: `${shared.gateway}/${socketId}` }));
	}

	private dropLocal(socketId: string, account: string): boolean {
		const mine = this.local.get(account);
		const dropped = mine?.delete(socketId) ?? false;
		if (mine?.size === 0) this.local.delete(account);
		return dropped;
	}

	private async admitShared({ store, gateway, leaseMs }: SharedSockets, socketId: string, account: string): Promise<boolean> {
		const live = () => store.sockets.countDocuments({ account, expireAt: { $gt: new Date() } });
		if ((await live()) >= this.perAccount) return false;
		const _id = `${gateway}/${socketId}`;
		await store.sockets.insertOne({ _id, account, gateway, expireAt: new Date(Date.now() + leaseMs) });
		if ((await live()) <= this.perAccount) return true;
		await store.sockets.deleteOne({ _id });
		return false;
	}

	private async renew(): Promise<void> {
		const { shared } = this;
		if (!shared || this.local.size === 0) return;
		const expireAt = new Date(Date.now() + shared.leaseMs);
		// By id, not by gateway: an entry this gateway no longer holds a socket for must lapse.
		const ids = [...this.local.values()].flatMap((sockets) => [...sockets].map((socketId) => `${shared.gateway}/${socketId}`));
		await shared.store.use(() => shared.store.sockets.updateMany({ _id: { $in: ids } }, { $set: { expireAt } }));
	}
}

const RATE_WINDOW_MS = 10_000;

/**
 * Gives a socket a budget of `perWindow` messages per 10 s (`SOCKET_RATE_LIMIT`); beyond it a
 * message is dropped and, if it expects an answer, told why. A noisy client slows only itself.
 */
export function limitMessages(socket: Socket, perWindow: number): void {
	let windowStart = Date.now();
	let count = 0;
	socket.use((packet, next) => {
		const now = Date.now();
		if (now - windowStart >= RATE_WINDOW_MS) {
			windowStart = now;
			count = 0;
		}
		if (++count <= perWindow) return next();
		const reply = packet[packet.length - 1];
		if (typeof reply === "function")
			reply({ name: "RateLimitError", message: "Too many messages: slow down", code: 429, type: "RATE_LIMITED" } satisfies ErrorBody);
	});
}
