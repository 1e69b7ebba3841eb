import type { Context, ServiceSchema, ServiceSettingSchema } from "moleculer";
import { onEvent } from "../lib/contracts/events";
import { paymentProvider } from "../lib/payments/payment-provider";
import { shopError } from "../lib/platform/shop-error";
import type { Entity } from "../lib/platform/store";
import type { AuthUser } from "../lib/platform/tokens";
import { type DbMethods, type DbVars, dbMixin } from "../mixins/db.mixin";
import { type DomainEventMethods, domainEventsMixin } from "../mixins/domain-events.mixin";

/**
 * A payment: created when an order is placed ("pending"), then charged by the saga. One per
 * order, so every step (charge, void, refund) is a change of its status that can happen once.
 */
export interface Payment extends Entity {
	orderId: string;
	/** The customer's account; null for a guest's order. */
	userId: string | null;
	amount: number;
	currency: string;
	status: "pending" | "succeeded" | "failed" | "voided" | "refunded";
	cardLast4: string;
	/**
	 * The provider's authorization of the card (`paymentProvider.authorize`), handed back to it to
	 * charge, void or refund. Named for the simulated provider, whose authorization is the verdict
	 * its charge will give; stored payments carry it under this name.
	 */
	outcome: string;
	failureReason: string | null;
	createdAt: Date;
	updatedAt: Date;
}

/** The events that announce a payment's move. */
type PaymentEventType = "payment.succeeded" | "payment.failed" | "payment.refunded";

interface PaymentMethods extends DbMethods, DomainEventMethods {
	paymentFor(orderId: string): Promise<Payment | null>;
	voidedInAdvance(orderId: string): Promise<Payment | null>;
	transition(payment: Payment, to: Payment["status"], extra?: Partial<Payment>, announce?: PaymentEventType): Promise<Payment | null>;
	charge(orderId: string): Promise<void>;
	cancel(orderId: string): Promise<void>;
}

/** A payment as clients and events see it: the provider's authorization stays inside. */
function publicPayment({ outcome: _authorization, ...payment }: Payment): Omit<Payment, "outcome"> {
	return payment;
}

const ORDER_ID = { type: "string", min: 1, max: 64 } as const;

const PaymentsService: ServiceSchema<ServiceSettingSchema, PaymentMethods, DbVars> = {
	name: "payments",
	mixins: [
		dbMixin({
			name: "payments",
			fields: {
				orderId: { type: String, required: true },
				userId: { type: String, default: null },
				amount: { type: Number, required: true },
				currency: { type: String, required: true },
				status: { type: String, required: true },
				cardLast4: { type: String, required: true },
				outcome: { type: String, required: true },
				failureReason: { type: String, default: null },
				createdAt: { type: Date, required: true },
				updatedAt: { type: Date, required: true },
			},
			indexes: [{ fields: { orderId: 1 }, unique: true }, { fields: { userId: 1 } }, { fields: { createdAt: -1 } }],
		}),
		domainEventsMixin,
	],

	actions: {
		/** Internal: registers the card for an order about to be placed. Repeating it returns the same payment. */
		prepare: {
			visibility: "public",
			params: {
				orderId: ORDER_ID,
				userId: { type: "string", min: 1, max: 64, nullable: true },
				amount: { type: "number", integer: true, min: 0 },
				currency: { type: "string", length: 3 },
				cardNumber: paymentProvider.cardNumberRule,
			},
			async handler(ctx: Context<{ orderId: string; userId: string | null; amount: number; currency: string; cardNumber: string }>) {
				const { orderId, userId, amount, currency, cardNumber } = ctx.params;
				const outcome = await paymentProvider.authorize({ orderId, amount, currency }, cardNumber);
				const now = new Date();
				const payment: Payment = {
					id: this.newId(),
					orderId,
					userId,
					amount,
					currency,
					status: "pending",
					cardLast4: cardNumber.slice(-4),
					outcome,
					failureReason: null,
					createdAt: now,
					updatedAt: now,
				};
				const { id: _id, ...fields } = payment;
				try {
					await this.adapter.insert({ _id, ...fields });
					return publicPayment(payment);
				} catch (err) {
					if (!this.isDuplicateKey(err)) throw err;
				}
				// Prepared before: a repeated call, or the order was undone first (its void left a voided
				// payment behind), and this late authorization must not stay open.
				const existing = (await this.paymentFor(orderId)) as Payment;
				if (existing.status === "voided") await paymentProvider.void(payment, outcome);
				return publicPayment(existing);
			},
		},

		/** Operators: void or refund an order's payment. Repeating it changes nothing. */
		refund: {
			visibility: "public",
			params: { orderId: ORDER_ID },
			async handler(ctx: Context<{ orderId: string }>) {
				await this.cancel(ctx.params.orderId);
				const payment = await this.paymentFor(ctx.params.orderId);
				return payment && publicPayment(payment);
			},
		},

		list: {
			auth: "user",
			params: {
				orderId: { type: "string", max: 64, optional: true },
				page: { type: "number", integer: true, min: 1, max: 100_000, convert: true, default: 1 },
				pageSize: { type: "number", integer: true, min: 1, max: 100, convert: true, default: 50 },
			},
			async handler(ctx: Context<{ orderId?: string; page: number; pageSize: number }, { user: AuthUser }>) {
				const { orderId, page, pageSize } = ctx.params;
				const { user } = ctx.meta;
				if (user.role !== "admin" && !orderId) throw shopError("ORDER_ID_REQUIRED", "Customers list payments of one order: add ?orderId=");
				const query: Record<string, string> = {};
				if (orderId) query.orderId = orderId;
				// Another customer's order looks exactly like an order without payments.
				if (user.role !== "admin") query.userId = user.id;
				const docs = await this.adapter.find({ query, sort: ["-createdAt"], limit: pageSize, offset: (page - 1) * pageSize });
				return docs.map((doc) => publicPayment(this.toEntity<Payment>(doc)));
			},
		},
	},

	channels: {
		"order.created": onEvent("order.created", "payments", async function chargeNewOrder(order) {
			await this.charge(order.id);
		}),
		"order.cancelled": onEvent("order.cancelled", "payments", async function voidOrRefundCancelledOrder(order) {
			await this.cancel(order.id);
		}),
		"order.updated": onEvent("order.updated", "payments", async function voidFailedOrder(order) {
			// An order failed without a decline (e.g. the reaper timed it out): never charge it later.
			if (order.status === "failed") await this.cancel(order.id);
		}),
	},

	methods: {
		/**
		 * A voided payment for an order undone before its payment was prepared (the prepare call
		 * still on its way): the prepare then finds it and lets its authorization go.
		 */
		async voidedInAdvance(orderId: string) {
			const now = new Date();
			try {
				await this.adapter.insert({
					_id: this.newId(),
					orderId,
					userId: null,
					amount: 0,
					currency: "USD",
					status: "voided",
					cardLast4: "",
					outcome: "",
					failureReason: "the order was undone before its payment was prepared",
					createdAt: now,
					updatedAt: now,
				});
				return null;
			} catch (err) {
				if (!this.isDuplicateKey(err)) throw err;
				return this.paymentFor(orderId);
			}
		},

		async paymentFor(orderId: string) {
			const doc = await this.adapter.findOne({ orderId });
			return doc ? this.toEntity<Payment>(doc) : null;
		},

		/**
		 * Moves a payment on from the status the caller saw, and journals `announce` with the change;
		 * null if someone else moved it first.
		 */
		async transition(payment, to, extra = {}, announce) {
			const { orderId, status: from } = payment;
			const update = { ...extra, status: to, updatedAt: new Date() };
			const moved = { ...payment, ...update };
			const events = announce ? [this.domainEvent(announce, publicPayment(moved), orderId)] : [];
			return (await this.changeOnce(`${orderId}:${from}`, { orderId, status: from }, update, events)) ? moved : null;
		},

		/**
		 * Asks the provider; a redelivered event finds the payment no longer pending. If the order
		 * was cancelled while the provider answered (its void won), money it took goes back at once.
		 */
		async charge(orderId: string) {
			const payment = await this.paymentFor(orderId);
			if (payment?.status !== "pending") return;
			const verdict = await paymentProvider.charge(payment, payment.outcome);
			const settled = verdict.approved
				? await this.transition(payment, "succeeded", {}, "payment.succeeded")
				: await this.transition(payment, "failed", { failureReason: verdict.reason }, "payment.failed");
			// The money trail: one line per verdict, tagged with the request id of the order's placement.
			if (settled) {
				this.logger.info(`Payment of order ${orderId} ${verdict.approved ? "succeeded" : "was declined"}`);
				return;
			}
			const now = await this.paymentFor(orderId);
			if (verdict.approved && now?.status === "voided") {
				await paymentProvider.refund(now, now.outcome);
				await this.transition(now, "refunded", {}, "payment.refunded");
				this.logger.info(`Payment of order ${orderId} was taken while the order was cancelled: refunded`);
			}
		},

		/** A cancelled, failed or undone order: a pending payment is voided, a captured one refunded, once. */
		async cancel(orderId: string) {
			let payment = (await this.paymentFor(orderId)) ?? (await this.voidedInAdvance(orderId));
			if (payment?.status === "pending") {
				await paymentProvider.void(payment, payment.outcome);
				if (await this.transition(payment, "voided")) return;
				// The charge won the race: refund what it captured.
				payment = await this.paymentFor(orderId);
			}
			if (payment?.status === "succeeded") {
				await paymentProvider.refund(payment, payment.outcome);
				await this.transition(payment, "refunded", {}, "payment.refunded");
			}
		},
	},
};

export default PaymentsService;
