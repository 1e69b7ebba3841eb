import type { Service, ServiceSchema, ServiceSettingSchema } from "moleculer";
import {
	DOMAIN_EVENTS,
	type DomainEventType,
	type EventHandler,
	type EventPayloads,
	type OrderSnapshot,
	onEvent,
} from "../lib/contracts/events";
import { ADMINS_ROOM, orderRoom, type Push, userRoom } from "../lib/contracts/realtime";
import { sendPush } from "../lib/platform/pushes";

type Route<E extends DomainEventType> = (data: EventPayloads[E]) => Omit<Push, "event">;

const toOwnerAndAdmins = (order: OrderSnapshot) => ({
	rooms: [order.userId ? userRoom(order.userId) : orderRoom(order.id), ADMINS_ROOM],
	payload: order,
});
const toEveryone = (payload: unknown) => ({ rooms: null, payload });

/** Which domain events reach browsers, and whose. Orders never reach another customer. */
export const ROUTES: { [E in DomainEventType]?: Route<E> } = {
	"order.created": toOwnerAndAdmins,
	"order.updated": toOwnerAndAdmins,
	"order.cancelled": toOwnerAndAdmins,
	"inventory.updated": ({ productId, available }) => ({ rooms: null, payload: { productId, available } }),
	"inventory.low-stock": (payload) => ({ rooms: [ADMINS_ROOM], payload }),
	"product.created": toEveryone,
	"product.updated": toEveryone,
	"product.deleted": toEveryone,
};

/** The channel of one event type, if its event reaches browsers. */
function channel<E extends DomainEventType>(type: E): EventHandler<Service> | null {
	const route = ROUTES[type];
	if (!route) return null;
	return onEvent(type, "realtime", async function pushToBrowsers(data, event) {
		// A redelivered event goes out again: the gateways emit each id once (`PushThrottle`), also
		// when this pod is a new one that handles again what a crashed one had not committed.
		await sendPush(this.broker, { event: type, id: event.id, ...route(data) });
	});
}

/**
 * Turns durable domain events into Socket.IO pushes. Each event is consumed once per cluster
 * (one consumer group) and sent on the pushes channel, which every gateway node reads in full
 * and emits to its own sockets, once per event id (lib/platform/pushes.ts).
 */
const RealtimeService: ServiceSchema<ServiceSettingSchema> = {
	name: "realtime",
	channels: Object.fromEntries(
		DOMAIN_EVENTS.flatMap((type) => {
			const handler = channel(type);
			return handler ? [[type, handler]] : [];
		}),
	),
};

export default RealtimeService;
