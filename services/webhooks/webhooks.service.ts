import { randomBytes } from "node:crypto";
import type { Context, Errors, Service, ServiceSchema, ServiceSettingSchema } from "moleculer";
import { type AnyDomainEvent, DOMAIN_EVENTS, type DomainEvent, type DomainEventType, onEvent } from "../../lib/contracts/events";
import {
	claimsSpec,
	DELIVERY_STATUSES,
	DeliveryQueue,
	type DeliveryStatus,
	doublingDelay,
	type Outcome,
	QUEUED_FIELDS,
	QUEUED_INDEXES,
	type Queued,
	SETTLE_MS,
} from "../../lib/platform/delivery-queue";
import { settings } from "../../lib/platform/settings";
import { invalidFields, shopError } from "../../lib/platform/shop-error";
import type { DbAdapter, Entity } from "../../lib/platform/store";
import { type DbMethods, type DbVars, dbMixin } from "../../mixins/db.mixin";
import { SIGNATURE_HEADER, signature } from "./signature";
import { checkTarget, post, TargetRefused } from "./targets";

/** A receiver of domain events: where they go, which ones, and the secret that signs them. */
interface Endpoint extends Entity {
	url: string;
	events: DomainEventType[];
	secret: string;
	createdAt: Date;
}

/** One event for one endpoint; the body is kept as sent, so every attempt carries (and signs) the same bytes. */
interface Delivery extends Queued {
	webhookId: string;
	eventId: string;
	type: DomainEventType;
	body: string;
}

interface WebhookVars extends DbVars {
	queue: DeliveryQueue<Delivery>;
}

interface WebhookMethods extends DbMethods {
	endpoint(id: string): Promise<Endpoint>;
	deliveries(): DbAdapter;
	deliver(delivery: Delivery): Promise<Outcome>;
}

type WebhookThis = Service & WebhookMethods & WebhookVars;

const DELIVERIES = "webhook-deliveries";
const ID = { type: "string", max: 64 } as const;

/** The entity an event is about, as its Kafka key names it: payments go with their order. */
function entityOf(event: AnyDomainEvent): string {
	switch (event.type) {
		case "order.created":
		case "order.updated":
		case "order.cancelled":
			return `order:${event.data.id}`;
		case "payment.succeeded":
		case "payment.failed":
		case "payment.refunded":
			return `order:${event.data.orderId}`;
		case "inventory.updated":
		case "inventory.low-stock":
			return `product:${event.data.productId}`;
		case "product.created":
		case "product.updated":
		case "product.deleted":
			return `product:${event.data.id}`;
		case "user.registered":
			return `user:${event.data.id}`;
	}
}

const iso = (at: Date | string | null) => (at ? new Date(at).toISOString() : null);

function publicEndpoint({ id, url, events, createdAt }: Endpoint) {
	return { id, url, events, createdAt: iso(createdAt) };
}

function deliveryRow(delivery: Delivery) {
	const { id, eventId, type, status, attempts, lastStatusCode, lastError, nextAttemptAt, deliveredAt } = delivery;
	return {
		id,
		eventId,
		type,
		status,
		attempts,
		lastStatusCode: lastStatusCode ?? null,
		lastError: lastError ?? null,
		nextAttemptAt: status === "pending" ? iso(nextAttemptAt) : null,
		deliveredAt: iso(deliveredAt),
	};
}

function invalidUrl(message: string, type: string): Errors.ValidationError {
	return invalidFields(message, [{ field: "url", message, type }]);
}

/**
 * Queues the event for every endpoint that asked for its type and existed when it happened (a
 * consumer catching up, or a replay, brings older events), once per endpoint however often it arrives.
 */
async function fanOut(this: WebhookThis, _data: unknown, event: DomainEvent): Promise<void> {
	const at = new Date(event.at);
	const endpoints = (await this.broker.call<Endpoint[]>("webhooks.endpoints")).filter((endpoint) => new Date(endpoint.createdAt) <= at);
	const body = JSON.stringify({ id: event.id, type: event.type, at: event.at, data: event.data });
	// onEvent has checked that the envelope's type is its channel's, so its data is that type's.
	const entity = entityOf(event as AnyDomainEvent);
	for (const endpoint of endpoints.filter(({ events }) => events.includes(event.type)))
		await this.queue.enqueue({
			_id: this.newId(),
			webhookId: endpoint.id,
			eventId: event.id,
			type: event.type,
			body,
			entity: `${endpoint.id}/${entity}`,
			at,
		});
}

/**
 * Webhooks: admins register URLs for domain event types, and each such event is POSTed to them,
 * signed (signature.ts), with a delivery log. The channel handlers only record deliveries (unique
 * per endpoint and event id); the queue (lib/platform/delivery-queue.ts) sends them, claiming each
 * attempt so that several webhooks pods never send one twice at once, retrying with doubling waits
 * up to WEBHOOK_MAX_ATTEMPTS, one entity's events to an endpoint in the order they happened.
 */
const WebhooksService: ServiceSchema<ServiceSettingSchema, WebhookMethods, WebhookVars> = {
	name: "webhooks",
	mixins: [
		dbMixin(
			{
				name: "webhooks",
				fields: {
					url: { type: String, required: true },
					events: [String],
					secret: { type: String, required: true },
					createdAt: { type: Date, required: true },
				},
				indexes: [{ fields: { createdAt: 1 } }],
			},
			[
				{
					name: DELIVERIES,
					fields: {
						...QUEUED_FIELDS,
						webhookId: { type: String, required: true },
						eventId: { type: String, required: true },
						type: { type: String, required: true },
						body: { type: String, required: true },
					},
					indexes: [
						...QUEUED_INDEXES,
						{ fields: { webhookId: 1, eventId: 1 }, unique: true },
						{ fields: { webhookId: 1, createdAt: -1 } },
						{ fields: { webhookId: 1, status: 1, createdAt: -1 } },
					],
				},
				claimsSpec(DELIVERIES),
			],
		),
	],

	channels: Object.fromEntries(DOMAIN_EVENTS.map((type) => [type, onEvent(type, "webhooks", fanOut)])),

	actions: {
		create: {
			auth: "admin",
			params: {
				url: {
					type: "string",
					max: 2_000,
					pattern: /^https?:\/\/[^\s/?#]+[^\s]*$/,
					messages: { stringPattern: "Give the receiver's full http:// or https:// URL" },
				},
				events: { type: "array", min: 1, max: DOMAIN_EVENTS.length, items: { type: "enum", values: DOMAIN_EVENTS } },
				$$strict: "remove",
			},
			async handler(ctx: Context<{ url: string; events: DomainEventType[] }, { $statusCode?: number; $location?: string }>) {
				let url: URL;
				try {
					url = new URL(ctx.params.url);
				} catch {
					throw invalidUrl("Give the receiver's full http:// or https:// URL", "url");
				}
				if (url.username || url.password)
					throw invalidUrl("A webhook URL carries no user name or password: receivers tell Agora's calls by their signature", "url");
				try {
					await checkTarget(url, settings().webhookAllowPrivate);
				} catch (err) {
					if (err instanceof TargetRefused) throw invalidUrl(err.message, "privateAddress");
					throw err;
				}
				const endpoint: Omit<Endpoint, "id"> = {
					url: url.href,
					events: [...new Set(ctx.params.events)],
					secret: `whsec_${randomBytes(24).toString("hex")}`,
					createdAt: new Date(),
				};
				const id = this.newId();
				await this.adapter.insert({ _id: id, ...endpoint });
				await this.clearCache();
				ctx.meta.$statusCode = 201;
				ctx.meta.$location = `/api/webhooks/${id}`;
				// The secret is shown this once; the list never shows it again.
				return { ...publicEndpoint({ id, ...endpoint }), secret: endpoint.secret };
			},
		},

		/**
		 * Internal: every endpoint, with its secret, for the fan-out of each event. Cached: every
		 * domain event asks; a change drops it on every node at once (`clearCache`).
		 */
		endpoints: {
			visibility: "public",
			cache: { ttl: 30 },
			async handler() {
				return (await this.adapter.find({ sort: ["createdAt"] })).map((doc) => this.toEntity<Endpoint>(doc));
			},
		},

		list: {
			auth: "admin",
			async handler() {
				const docs = await this.adapter.find({ sort: ["createdAt"] });
				return docs.map((doc) => publicEndpoint(this.toEntity<Endpoint>(doc)));
			},
		},

		remove: {
			auth: "admin",
			params: { id: ID },
			async handler(ctx: Context<{ id: string }, { $statusCode?: number }>) {
				await this.endpoint(ctx.params.id);
				await this.adapter.removeById(ctx.params.id);
				await this.clearCache();
				await this.deliveries().removeMany({ webhookId: ctx.params.id });
				ctx.meta.$statusCode = 204;
			},
		},

		deliveries: {
			auth: "admin",
			params: {
				id: ID,
				status: { type: "enum", values: DELIVERY_STATUSES, optional: true },
				page: { type: "number", integer: true, min: 1, max: 100_000, convert: true, default: 1 },
				pageSize: { type: "number", integer: true, min: 1, max: 100, convert: true, default: 20 },
			},
			async handler(ctx: Context<{ id: string; status?: DeliveryStatus; page: number; pageSize: number }>) {
				const { id, status, page, pageSize } = ctx.params;
				await this.endpoint(id);
				const query = { webhookId: id, ...(status ? { status } : {}) };
				const [docs, total] = await Promise.all([
					this.deliveries().find({ query, sort: ["-createdAt"], limit: pageSize, offset: (page - 1) * pageSize }),
					this.deliveries().count({ query }),
				]);
				return { rows: docs.map((doc) => deliveryRow(this.toEntity<Delivery>(doc))), total };
			},
		},

		retry: {
			auth: "admin",
			params: { id: ID, deliveryId: ID },
			async handler(ctx: Context<{ id: string; deliveryId: string }, { $statusCode?: number }>) {
				const doc = await this.deliveries().findById(ctx.params.deliveryId);
				const delivery = doc ? this.toEntity<Delivery>(doc) : null;
				if (delivery?.webhookId !== ctx.params.id)
					throw shopError("NOT_FOUND", `Webhook ${ctx.params.id} has no delivery ${ctx.params.deliveryId}`);
				if (delivery.status === "delivered")
					throw shopError("ILLEGAL_TRANSITION", "This delivery reached its receiver already: there is nothing to retry", {
						from: "delivered",
						to: "pending",
					});
				await this.queue.retryNow(delivery.id);
				ctx.meta.$statusCode = 202;
				return deliveryRow({ ...delivery, status: "pending", nextAttemptAt: new Date() });
			},
		},
	},

	methods: {
		async endpoint(id) {
			const doc = await this.adapter.findById(id);
			if (!doc) throw shopError("NOT_FOUND", `No webhook ${id}`);
			return this.toEntity<Endpoint>(doc);
		},

		deliveries() {
			return this.collections[DELIVERIES] as DbAdapter;
		},

		async deliver(delivery) {
			const doc = await this.adapter.findById(delivery.webhookId);
			if (!doc) return { delivered: false, error: "The webhook was deleted", final: true };
			const endpoint = this.toEntity<Endpoint>(doc);
			const headers = {
				"user-agent": "Agora-Webhooks/1",
				"Agora-Event": delivery.type,
				"Agora-Delivery": delivery.id,
				[SIGNATURE_HEADER]: signature(endpoint.secret, delivery.body),
			};
			try {
				const { status } = await post(new URL(endpoint.url), delivery.body, headers, settings().webhookAllowPrivate);
				if (status >= 200 && status < 300) return { delivered: true, statusCode: status };
				return { delivered: false, statusCode: status, error: `The receiver answered ${status}` };
			} catch (err) {
				return { delivered: false, error: (err as Error).message };
			}
		},
	},

	created() {
		const { webhookMaxAttempts, webhookRetrySeconds } = settings();
		this.queue = new DeliveryQueue<Delivery>({
			name: "webhooks",
			items: this.deliveries(),
			claims: this.collections[claimsSpec(DELIVERIES).name] as DbAdapter,
			logger: this.logger,
			read: (doc) => this.toEntity<Delivery>(doc),
			isDuplicateKey: (err) => this.isDuplicateKey(err),
			send: (delivery) => this.deliver(delivery),
			maxAttempts: webhookMaxAttempts,
			retryDelayMs: doublingDelay(webhookRetrySeconds * 1000, 6 * 3_600_000),
			concurrency: 4,
			settleMs: SETTLE_MS,
		});
	},

	started() {
		if (settings().backgroundLoops) this.queue.start();
	},

	async stopped() {
		await this.queue.stop();
	},
};

export default WebhooksService;
