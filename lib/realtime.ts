/** Socket.IO rooms, shared by the gateway (which joins sockets) and the realtime service (which targets them). */
export const ADMINS_ROOM = "admins";

export function userRoom(userId: string): string {
	return `user:${userId}`;
}

/**
 * What the realtime service broadcasts to every gateway node: each one emits it to its own
 * sockets in `rooms` (everyone when null), so a client on any gateway gets it exactly once.
 */
export interface Push {
	event: string;
	rooms: string[] | null;
	payload: unknown;
}

/** The Moleculer event that carries a Push to all gateways. */
export const PUSH_EVENT = "realtime.push";

/** The sales figures changed; admins' dashboards fetch what they show again. */
export const STATS_EVENT = "stats.updated";

/** Pushes a gateway sends its sockets at most once per interval (ms): the latest one wins. */
const THROTTLED: Readonly<Record<string, number>> = { [STATS_EVENT]: 1_000 };

/**
 * Holds back throttled pushes on one gateway: the first goes out at once, the ones that follow
 * within the interval are replaced by the newest, which goes out when the interval ends. So a
 * flood of orders reaches a browser as one push a second, and the last figures always arrive.
 */
export class PushThrottle {
	private readonly waiting = new Map<string, Push>();
	private readonly windows = new Map<string, NodeJS.Timeout>();

	constructor(private readonly emit: (push: Push) => void) {}

	push(push: Push): void {
		const interval = THROTTLED[push.event];
		if (interval !== undefined && this.windows.has(push.event)) {
			this.waiting.set(push.event, push);
			return;
		}
		this.emit(push);
		if (interval !== undefined) this.open(push.event, interval);
	}

	stop(): void {
		for (const window of this.windows.values()) clearTimeout(window);
		this.windows.clear();
		this.waiting.clear();
	}

	private open(event: string, interval: number): void {
		const window = setTimeout(() => {
			this.windows.delete(event);
			const next = this.waiting.get(event);
			if (!next) return;
			this.waiting.delete(event);
			this.emit(next);
			this.open(event, interval);
		}, interval);
		window.unref();
		this.windows.set(event, window);
	}
}
