import type { Service, ServiceSchema, ServiceSettingSchema } from "moleculer";
import mongoose from "mongoose";
import { type DomainEvent, type DomainEventType, onEvent } from "../../lib/contracts/events";
import type { Order, OrderStatus } from "../../lib/contracts/orders";
import {
	claimsSpec,
	DeliveryQueue,
	doublingDelay,
	type Outcome,
	QUEUED_FIELDS,
	QUEUED_INDEXES,
	type Queued,
	SETTLE_MS,
} from "../../lib/platform/delivery-queue";
import { settings } from "../../lib/platform/settings";
import type { DbAdapter } from "../../lib/platform/store";
import { type DbMethods, type DbVars, dbMixin } from "../../mixins/db.mixin";
import { composeMail, MAIL_KINDS, type MailKind, type Recipient } from "./mail";
import { fileOut, type MailOut, smtpOut } from "./mail-out";

/** One email to send: one per order and kind, its id `<order id>:<kind>`. */
interface Message extends Queued {
	orderId: string;
	kind: MailKind;
	/** The order as the event that asked for this email carried it. */
	order: Order;
}

interface NotificationVars extends DbVars {
	queue: DeliveryQueue<Message>;
	/** Null in the distributed mode without SMTP_URL: no email is sent. */
	out: MailOut | null;
}

interface NotificationMethods extends DbMethods {
	record(order: Order, kind: MailKind, event: DomainEvent<DomainEventType>): Promise<void>;
	deliver(message: Message): Promise<Outcome>;
	recipient(order: Order): Promise<Recipient | null>;
}

type NotificationThis = Service & NotificationMethods & NotificationVars;

/** The statuses that `order.updated` brings an email for. */
const KIND_OF_STATUS: Partial<Record<OrderStatus, MailKind>> = {
	confirmed: "order.confirmed",
	shipped: "order.shipped",
	failed: "order.failed",
};

const MESSAGES = "notifications";

/**
 * Order emails, from the durable order events. A handler only records the email to send, under
 * a unique id per order and kind, so a redelivered event adds nothing and a mail server that is
 * down never fails (and dead-letters) a handler; the queue (lib/platform/delivery-queue.ts) sends
 * it, retrying with growing waits, one order's emails in the order their events happened.
 */
const NotificationsService: ServiceSchema<ServiceSettingSchema, NotificationMethods, NotificationVars> = {
	name: "notifications",
	mixins: [
		dbMixin(
			{
				name: MESSAGES,
				fields: {
					...QUEUED_FIELDS,
					orderId: { type: String, required: true },
					kind: { type: String, required: true, enum: MAIL_KINDS },
					order: mongoose.Schema.Types.Mixed,
				},
				indexes: QUEUED_INDEXES,
			},
			[claimsSpec(MESSAGES)],
		),
	],

	channels: {
		"order.created": onEvent("order.created", "notifications", function (this: NotificationThis, order, event) {
			return this.record(order, "order.received", event);
		}),
		"order.updated": onEvent("order.updated", "notifications", async function (this: NotificationThis, order, event) {
			const kind = KIND_OF_STATUS[order.status];
			if (kind) await this.record(order, kind, event);
		}),
		"order.cancelled": onEvent("order.cancelled", "notifications", function (this: NotificationThis, order, event) {
			return this.record(order, "order.cancelled", event);
		}),
	},

	methods: {
		async record(order, kind, event) {
			if (!this.out) return;
			await this.queue.enqueue({ _id: `${order.id}:${kind}`, entity: order.id, at: new Date(event.at), orderId: order.id, kind, order });
		},

		async recipient(order) {
			if (order.email) return { email: order.email, name: order.shippingAddress.name };
			if (!order.userId) return null;
			return this.broker.call<Recipient | null, { id: string }>("users.contact", { id: order.userId });
		},

		async deliver(message) {
			let to: Recipient | null;
			try {
				to = await this.recipient(message.order);
			} catch (err) {
				return { delivered: false, error: `The account's address could not be read: ${(err as Error).message}` };
			}
			if (!to) return { delivered: false, error: "The order has no address to write to: its account no longer exists", final: true };
			const { mailFrom: from, publicUrl } = settings();
			const mail = composeMail(message.kind, message.order, to, { from, publicUrl });
			return (this.out as MailOut).send(mail, `${message.orderId}-${message.kind}`);
		},
	},

	created() {
		const { smtp, mode, dataDir } = settings();
		this.out = smtp ? smtpOut(smtp) : mode === "embedded" ? fileOut(dataDir, this.logger) : null;
		this.queue = new DeliveryQueue<Message>({
			name: "notifications",
			items: this.adapter,
			claims: this.collections[claimsSpec(MESSAGES).name] as DbAdapter,
			logger: this.logger,
			read: (doc) => this.toEntity<Message>(doc),
			isDuplicateKey: (err) => this.isDuplicateKey(err),
			send: (message) => this.deliver(message),
			// Mail waits out an outage however long: the server, once back, takes what queued up.
			maxAttempts: null,
			retryDelayMs: doublingDelay(2_000, 60_000),
			concurrency: 1,
			settleMs: SETTLE_MS,
		});
	},

	started() {
		if (!this.out) this.logger.warn("SMTP_URL is not set: no order emails are sent.");
		else this.logger.info(`Order emails go to ${this.out.target}.`);
		if (settings().backgroundLoops) this.queue.start();
	},

	async stopped() {
		await this.queue.stop();
	},
};

export default NotificationsService;
