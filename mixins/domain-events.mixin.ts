import { randomUUID } from "node:crypto";
import { Errors, type ServiceSchema } from "moleculer";
import { currentContext, eventOrigin } from "../lib/request-context";
import { defineMixin } from "../lib/schema";
import type { ChannelBroker } from "../types/moleculer";

/** The durable domain events of DESIGN.md; each is a channel (a Kafka topic when distributed). */
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
] as const;

export type DomainEventType = (typeof DOMAIN_EVENTS)[number];

/** The payload on every topic. `id` lets a consumer recognise a redelivery. */
export interface DomainEvent<T = unknown> {
	id: string;
	type: DomainEventType;
	at: string;
	data: T;
}

export interface DomainEventMethods {
	publishEvent<T>(type: DomainEventType, data: T, key?: string): Promise<DomainEvent<T>>;
}

/**
 * Publishes domain events on the durable channels. `key` keeps one entity's events in order
 * (one Kafka partition per key), so consumers see an order's changes in the order they happened.
 * The event carries the request id of the action or message being handled (as message headers),
 * so the consumer's calls, events and log lines keep it.
 */
export const domainEventsMixin: Partial<ServiceSchema> = defineMixin<object, DomainEventMethods>({
	methods: {
		async publishEvent<T>(type: DomainEventType, data: T, key?: string): Promise<DomainEvent<T>> {
			const event: DomainEvent<T> = { id: randomUUID(), type, at: new Date().toISOString(), data };
			const ctx = currentContext();
			try {
				await (this.broker as ChannelBroker).sendToChannel(type, event, {
					...(key ? { key } : {}),
					...(ctx ? { ctx: eventOrigin(ctx, this) } : {}),
				});
			} catch (err) {
				// The broker is unreachable: a temporary outage for the caller (503), not an internal error.
				this.logger.error(`Could not publish ${type}:`, (err as Error).message);
				throw new Errors.MoleculerRetryableError("Events cannot be published right now; try again shortly", 503, "EVENTS_UNAVAILABLE", {
					type,
				});
			}
			return event;
		},
	},
});
