import type { Service, ServiceSchema, ServiceSettingSchema } from "moleculer";
import {
	DOMAIN_EVENTS,
	type DomainEventType,
	type EventHandler,
	type EventPayloads,
	type OrderSnapshot,
	onEvent,
} from "../lib/contracts/events";
import { ADMINS_ROOM, orderRoom, PUSH_EVENT, type Push, userRoom } from "../lib/contracts/realtime";

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
		await this.broker.broadcast(PUSH_EVENT, { event: type, id: event.id, ...route(data) } satisfies Push);
	});
}

/**
 * Turns durable domain events into Socket.IO pushes. Each event is consumed once per cluster
 * (one consumer group) and fanned out as a Moleculer broadcast that every gateway node emits
 * to its own sockets, once per event id.
 */
const RealtimeService: ServiceSchema<ServiceSettingSchema> = {
	name: "realtime",
	// A broadcast reaches only the nodes this one already knows: consuming before any gateway is
	// discovered (Kafka discovery takes seconds) would push the backlog to nobody.
	dependencies: ["api"],
	channels: Object.fromEntries(
		DOMAIN_EVENTS.flatMap((type) => {
			const handler = channel(type);
			return handler ? [[type, handler]] : [];
		}),
	),
};

export default RealtimeService;
