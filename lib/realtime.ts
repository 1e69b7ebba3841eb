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
