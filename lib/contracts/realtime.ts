/** Socket.IO rooms, shared by the gateway (which joins sockets) and the realtime service (which targets them). */
export const ADMINS_ROOM = "admins";

export function userRoom(userId: string): string {
	return `user:${userId}`;
}

/** A guest's socket follows their one order here (Socket.IO `auth: {orderToken}`). */
export function orderRoom(orderId: string): string {
	return `order:${orderId}`;
}

/**
 * What the realtime service (and carts and insights) send to every gateway node: each one emits it
 * to its own sockets in `rooms` (everyone when null), so a client on any gateway gets it exactly once.
 */
export interface Push {
	event: string;
	/**
	 * The domain event it tells of, if it tells of one. Kafka delivers at least once, and a realtime
	 * pod that replaces a crashed one handles again what its predecessor had not committed: a
	 * gateway emits each id once.
	 */
	id?: string;
	rooms: string[] | null;
	payload: unknown;
}

/** How many pushed event ids a gateway remembers: far more than a crashed realtime pod can leave uncommitted. */
const EMITTED_LIMIT = 10_000;

/** The durable channel (Kafka topic `<TOPIC_PREFIX>.pushes`) that carries a Push to all gateways. */
export const PUSH_CHANNEL = "pushes";

/** The sales figures changed; admins' dashboards fetch what they show again. */
export const STATS_EVENT = "stats.updated";

/** How often admins' dashboards are told the sales figures changed, at most. */
export const STATS_PUSH_INTERVAL_MS = 1_000;

/** Pushes a gateway sends its sockets at most once per interval (ms): the latest one wins. */
const THROTTLED: Readonly<Record<string, number>> = { [STATS_EVENT]: STATS_PUSH_INTERVAL_MS };

/**
 * Runs `run` at once, then at most once per interval: the calls within an interval fold into one
 * run when it ends, so the last call is always followed by a run.
 */
export class Throttle {
	private window: NodeJS.Timeout | null = null;
	private wanted = false;

	constructor(
		private readonly intervalMs: number,
		private readonly run: () => void,
	) {}

	call(): void {
		if (this.window) {
			this.wanted = true;
			return;
		}
		this.run();
		this.window = setTimeout(() => {
			this.window = null;
			if (!this.wanted) return;
			this.wanted = false;
			this.call();
		}, this.intervalMs);
		this.window.unref();
	}

	stop(): void {
		if (this.window) clearTimeout(this.window);
		this.window = null;
		this.wanted = false;
	}
}

/**
 * Holds back throttled pushes on one gateway: the first goes out at once, the ones that follow
 * within the interval are replaced by the newest, which goes out when the interval ends. So a
 * flood of orders reaches a browser as one push a second, and the last figures always arrive.
 * A push of an event already emitted (same `id`) is dropped: each change reaches a socket once.
 */
export class PushThrottle {
	private readonly latest = new Map<string, Push>();
	private readonly throttles = new Map<string, Throttle>();
	/** Ids of the pushes emitted, oldest first. */
	private readonly emitted = new Set<string>();

	constructor(private readonly emit: (push: Push) => void) {}

	push(push: Push): void {
		if (push.id !== undefined) {
			if (this.emitted.has(push.id)) return;
			this.emitted.add(push.id);
			if (this.emitted.size > EMITTED_LIMIT) this.emitted.delete(this.emitted.values().next().value as string);
		}
		const interval = THROTTLED[push.event];
		if (interval === undefined) {
			this.emit(push);
			return;
		}
		this.latest.set(push.event, push);
		let throttle = this.throttles.get(push.event);
		if (!throttle) {
			throttle = new Throttle(interval, () => {
				const next = this.latest.get(push.event);
				this.latest.delete(push.event);
				if (next) this.emit(next);
			});
			this.throttles.set(push.event, throttle);
		}
		throttle.call();
	}

	stop(): void {
		for (const throttle of this.throttles.values()) throttle.stop();
		this.latest.clear();
		this.emitted.clear();
	}
}
