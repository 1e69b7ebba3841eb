import type { Order, Timestamp } from "./orders";

export type { Timestamp };

/**
 * The durable domain events (docs/events.md): each name with the payload it carries. Publishers
 * (`publishEvent`, `domainEvent`) and consumers (`onEvent`) take their types from here, so a
 * payload is declared once and no consumer casts or re-declares it. The web app reads its pushed
 * shapes from here too, so this file imports nothing that needs Node or Moleculer.
 */

/** An order as `order.created`, `order.updated` and `order.cancelled` carry it: the whole order. */
export type OrderSnapshot = Order;

/** A payment as `payment.*` carry it (the simulated provider's script stays inside payments). */
export interface PaymentSnapshot {
	id: string;
	orderId: string;
	userId: string;
	amount: number;
	currency: string;
	status: "pending" | "succeeded" | "failed" | "voided" | "refunded";
	failureReason: string | null;
}

/** A product as `product.created` and `product.updated` carry it, without its stock. */
export interface ProductSnapshot {
	id: string;
	name: string;
	sku: string;
	price: number;
	currency: string;
	category: string;
	description: string;
	imageUrl: string | null;
}

/** A new account as `user.registered` carries it, never with a password hash. */
export interface AccountSnapshot {
	id: string;
	email: string;
	name: string;
	role: string;
	createdAt: Timestamp;
}

export interface EventPayloads {
	"order.created": OrderSnapshot;
	"order.updated": OrderSnapshot;
	"order.cancelled": OrderSnapshot;
	"payment.succeeded": PaymentSnapshot;
	"payment.failed": PaymentSnapshot;
	"payment.refunded": PaymentSnapshot;
	"inventory.updated": { productId: string; available: number; reserved: number; held: number; lowStockThreshold: number };
	"inventory.low-stock": { productId: string; name: string; available: number; threshold: number };
	"product.created": ProductSnapshot;
	"product.updated": ProductSnapshot;
	"product.deleted": { id: string };
	"user.registered": AccountSnapshot;
}

export type DomainEventType = keyof EventPayloads;

/** Every event name, in the order docs/events.md lists them; each is a channel (a Kafka topic when distributed). */
export const DOMAIN_EVENTS = [
	"order.created",
	"order.updated",
	"order.cancelled",
	"payment.succeeded",
	"payment.failed",
	"payment.refunded",
	"inventory.updated",
	"inventory.low-stock",
	"product.created",
	"product.updated",
	"product.deleted",
	"user.registered",
] as const satisfies readonly DomainEventType[];

/** The envelope on every topic. `id` lets a consumer recognise a redelivery. */
export interface DomainEvent<E extends DomainEventType = DomainEventType> {
	id: string;
	type: E;
	at: string;
	data: EventPayloads[E];
}

/** Any one event, narrowed by its `type`: `if (event.type === "order.created") event.data.items...`. */
export type AnyDomainEvent = { [E in DomainEventType]: DomainEvent<E> }[DomainEventType];

/** The channel handler `onEvent` makes: a `ChannelHandlerSchema` of `types/moleculer.d.ts`, by its shape. */
export interface EventHandler<TThis> {
	group: string;
	handler(this: TThis, ctx: { params: unknown }): Promise<void> | void;
}

/**
 * The channel handler of one event for `group`: `handle` gets the event's payload, typed by its name,
 * and the envelope. The channel of an event carries only that event, which is why the message is
 * taken as one here, and only here; one of another type is refused (retried, then dead-lettered).
 */
export function onEvent<E extends DomainEventType, TThis>(
	type: E,
	group: string,
	handle: (this: TThis, data: EventPayloads[E], event: DomainEvent<E>) => Promise<void> | void,
): EventHandler<TThis> {
	return {
		group,
		handler(this: TThis, ctx) {
			const event = ctx.params as DomainEvent<E>;
			if (event.type !== type) throw new Error(`The ${type} channel carried a ${String(event.type)} event`);
			return handle.call(this, event.data, event);
		},
	};
}
