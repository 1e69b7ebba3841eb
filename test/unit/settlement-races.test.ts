/**
 * The races of an order's settlement, in one process (test/support/in-process.ts): one decision
 * claimed twice (`changeOnce`), the outbox relay taking over a dead writer's events, a redelivered
 * settlement, and a cancel meeting a charge. Each race's order is forced: the payment's charge is
 * held at its channel, and a writer is stopped between its decision and its write.
 */
import type { Middleware } from "moleculer";
import type { DomainEvent, PaymentSnapshot } from "../../lib/contracts/events";
import type { Order } from "../../lib/contracts/orders";
import type { DbAdapter } from "../../lib/platform/store";
import type { DomainEventMethods } from "../../mixins/domain-events.mixin";
import type { RecoveryHost } from "../../services/orders/recovery";
import { transition } from "../../services/orders/settlement";
import { orderBody } from "../support/commerce.suite";
import { ADMIN, beforeWrite, CUSTOMER, gate, type Shop, startShop, stopPoint } from "../support/in-process";
import { eventually } from "../support/wait";

interface Journalled {
	adapter: DbAdapter;
	collections: Record<string, DbAdapter>;
	domainEvent: DomainEventMethods["domainEvent"];
	relay(): Promise<void>;
	/** The channels middleware's way to hand a service one message, as a redelivery would. */
	emitLocalChannelHandler(channel: string, ctx: { params: DomainEvent }): Promise<void>;
}

interface Orders extends Journalled {
	host(): RecoveryHost;
}

interface LedgerLine {
	kind: string;
	orderId: string | null;
}

/** Holds the payments service's `order.created` messages while closed: the order waits, its payment pending. */
const chargeGate = gate();
type ChannelHandler = (msg: unknown, raw: unknown) => Promise<void>;
const holdCharges: Middleware & { localChannel(next: ChannelHandler, chan: { name: string; group: string }): ChannelHandler } = {
	localChannel(next, chan) {
		if (chan.group !== "payments" || !chan.name.endsWith("order.created")) return next;
		return async (msg, raw) => {
			await chargeGate.wait;
			return next(msg, raw);
		};
	},
};

let shop: Shop;
let orders: Orders;
let payments: Journalled;
let inventory: Journalled;

beforeAll(async () => {
	shop = await startShop(["products", "inventory", "payments", "orders"], [holdCharges]);
	orders = shop.service<Orders>("orders");
	payments = shop.service<Journalled>("payments");
	inventory = shop.service<Journalled>("inventory");
});

afterEach(() => chargeGate.open());

afterAll(() => shop?.stop());

/** An order of `quantity` of a new product with 5 in stock. */
async function placeOrder(quantity = 2): Promise<{ order: Order; productId: string }> {
	const productId = await shop.newProduct(5);
	const order = await shop.broker.call<Order, object>("orders.place", orderBody([{ productId, quantity }]), CUSTOMER);
	return { order, productId };
}

const paymentOf = async (orderId: string) => {
	const [payment] = await shop.broker.call<PaymentSnapshot[], object>("payments.list", { orderId }, ADMIN);
	if (!payment) throw new Error(`order ${orderId} has no payment`);
	return payment;
};

const orderLines = async (productId: string, orderId: string) =>
	(await shop.broker.call<LedgerLine[], object>("inventory.movements", { productId }, ADMIN))
		.filter((line) => line.orderId === orderId)
		.map((line) => line.kind)
		.reverse();

const announced = (orderId: string) => shop.sent.filter((event) => "id" in event.data && event.data.id === orderId);

function journalOf(service: Journalled): DbAdapter {
	const journal = Object.entries(service.collections).find(([name]) => name.endsWith("-journal"))?.[1];
	if (!journal) throw new Error("the service keeps no journal");
	return journal;
}

describe("one decision claimed twice (changeOnce)", () => {
	it("a cancel and the reaper deciding the same pending order: the first wins, the order shows its change once, and only it is announced", async () => {
		chargeGate.close();
		const { order, productId } = await placeOrder();
		// The customer's cancel has claimed the decision "order leaves pending" and stops before applying it.
		const cancelWrite = stopPoint();
		beforeWrite(orders.adapter, "updateMany", (query) => query._id === order.id && query.status === "pending", cancelWrite.step);
		const cancelling = shop.broker.call<Order, object>("orders.cancel", { id: order.id }, CUSTOMER);
		await cancelWrite.reached;

		// The reaper saw the order pending too; it loses, and finishes the winner's change for it.
		await expect(transition(orders.host(), order, "failed", "reaper", "no payment")).rejects.toMatchObject({
			type: "ORDER_CHANGED",
			data: { from: "cancelled" },
		});
		expect((await shop.orderOf(order.id)).status).toBe("cancelled");

		cancelWrite.go();
		expect(await cancelling).toMatchObject({ status: "cancelled" });
		const cancelled = await shop.orderOf(order.id);
		expect(cancelled.history.map((entry) => `${entry.status} by ${entry.by}`)).toEqual([
			"pending by customer-1",
			"cancelled by customer-1",
		]);
		await eventually(async () => expect(await shop.stockOf(productId)).toMatchObject({ available: 5, reserved: 0 }));
		expect(announced(order.id).map((event) => event.type)).toEqual(["order.created", "order.cancelled"]);
		expect(await orderLines(productId, order.id)).toEqual(["reserve", "release"]);
	});
});

describe("the outbox relay", () => {
	it("a payment verdict whose writer died after journalling it is applied and sent by the relay once it is old enough, once across two nodes", async () => {
		chargeGate.close();
		const { order, productId } = await placeOrder();
		const payment = await paymentOf(order.id);
		// What a charge writes first, had its process died right after: the verdict and its event, neither applied nor sent.
		const verdict = payments.domainEvent("payment.succeeded", { ...payment, status: "succeeded" }, order.id);
		const journal = journalOf(payments);
		await journal.insert({
			_id: `${order.id}:pending`,
			filter: { orderId: order.id, status: "pending" },
			update: { status: "succeeded" },
			events: [verdict],
			pending: true,
			claimedUntil: new Date(0),
			createdAt: new Date(),
		});

		// Younger than the relay's threshold (5 s): its writer may still be sending it.
		await payments.relay();
		expect(shop.sent.filter((event) => event.id === verdict.event.id)).toHaveLength(0);
		expect((await paymentOf(order.id)).status).toBe("pending");

		await journal.updateMany({ _id: `${order.id}:pending` }, { $set: { createdAt: new Date(Date.now() - 6_000) } });
		// Two nodes' relays find it at once; the claim lets one send it. A later run finds nothing to send.
		await Promise.all([payments.relay(), payments.relay()]);
		await payments.relay();

		expect(shop.sent.filter((event) => event.id === verdict.event.id)).toHaveLength(1);
		expect((await paymentOf(order.id)).status).toBe("succeeded");
		await eventually(async () => expect(await shop.orderOf(order.id)).toMatchObject({ status: "confirmed", paymentStatus: "paid" }));
		await eventually(async () => expect(await shop.stockOf(productId)).toMatchObject({ available: 3, reserved: 0 }));
	});
});

describe("a redelivered settlement", () => {
	it("the same payment.succeeded and order.updated delivered twice confirm the order once and sell each product's units once", async () => {
		const first = await shop.newProduct(5);
		const second = await shop.newProduct(5);
		const order = await shop.broker.call<Order, object>(
			"orders.place",
			orderBody([
				{ productId: first, quantity: 2 },
				{ productId: second, quantity: 1 },
			]),
			CUSTOMER,
		);
		await eventually(async () => expect(await shop.stockOf(second)).toMatchObject({ available: 4, reserved: 0 }));
		const [paid] = shop.sentOf("payment.succeeded", (event) => event.data.orderId === order.id);
		const [confirmed] = shop.sentOf("order.updated", (event) => event.data.id === order.id && event.data.status === "confirmed");
		if (!paid || !confirmed) throw new Error("the order was not settled");

		await orders.emitLocalChannelHandler("payment.succeeded", { params: paid });
		await inventory.emitLocalChannelHandler("order.updated", { params: confirmed });

		const settled = await shop.orderOf(order.id);
		expect(settled).toMatchObject({ status: "confirmed", paymentStatus: "paid" });
		expect(settled.history.map((entry) => entry.status)).toEqual(["pending", "confirmed"]);
		expect(await orderLines(first, order.id)).toEqual(["reserve", "commit"]);
		expect(await orderLines(second, order.id)).toEqual(["reserve", "commit"]);
		expect(await shop.stockOf(first)).toMatchObject({ available: 3, reserved: 0 });
		expect(await shop.stockOf(second)).toMatchObject({ available: 4, reserved: 0 });
	});
});

describe("an order cancelled before its payment is charged", () => {
	it("shows its payment voided, not pending: the charge that comes later takes nothing, and the stock goes back", async () => {
		chargeGate.close();
		const { order, productId } = await placeOrder();
		expect(order.paymentStatus).toBe("pending");

		const cancelled = await shop.broker.call<Order, object>("orders.cancel", { id: order.id }, CUSTOMER);
		expect(cancelled).toMatchObject({ status: "cancelled", paymentStatus: "voided" });
		await eventually(async () => expect((await paymentOf(order.id)).status).toBe("voided"));
		// Its order.created reaches payments only now (and once more, as a redelivery would hand it,
		// awaited here): the voided payment is not charged.
		chargeGate.open();
		const [created] = shop.sentOf("order.created", (event) => event.data.id === order.id);
		if (!created) throw new Error("the order was not announced");
		await payments.emitLocalChannelHandler("order.created", { params: created });
		await eventually(async () => expect(await shop.stockOf(productId)).toMatchObject({ available: 5, reserved: 0 }));

		expect(await shop.orderOf(order.id)).toMatchObject({ status: "cancelled", paymentStatus: "voided" });
		expect((await paymentOf(order.id)).status).toBe("voided");
		expect(shop.sentOf("payment.succeeded", (event) => event.data.orderId === order.id)).toHaveLength(0);
		expect(announced(order.id).map((event) => event.type)).toEqual(["order.created", "order.cancelled"]);
	});
});

describe("an order cancelled while its payment is charged", () => {
	/** Stops the payment's first journalled move of `orderId` to `status`, before it is written. */
	const stopPaymentMove = (orderId: string, status: PaymentSnapshot["status"]) => {
		const stop = stopPoint();
		const moves = (doc: Record<string, unknown>) =>
			(doc.filter as { orderId?: string } | undefined)?.orderId === orderId &&
			(doc.update as { status?: string } | undefined)?.status === status;
		return { ...stop, written: beforeWrite(journalOf(payments), "insert", moves, stop.step) };
	};

	it("the cancel voids the payment first: the charge the provider approved meanwhile is refunded at once, the order stays cancelled, stock released once", async () => {
		chargeGate.close();
		const { order, productId } = await placeOrder();
		const charge = stopPaymentMove(order.id, "succeeded");
		chargeGate.open();
		await charge.reached;

		await shop.broker.call("orders.cancel", { id: order.id }, CUSTOMER);
		await eventually(async () => expect((await paymentOf(order.id)).status).toBe("voided"));
		charge.go();
		// Its verdict's record is refused (the void holds the decision): the approval is never announced,
		// and what the provider took goes back.
		await charge.written;

		await eventually(async () => expect(await shop.stockOf(productId)).toMatchObject({ available: 5, reserved: 0 }));
		await eventually(async () => expect((await paymentOf(order.id)).status).toBe("refunded"));
		await eventually(async () => expect(await shop.orderOf(order.id)).toMatchObject({ status: "cancelled", paymentStatus: "refunded" }));
		expect(shop.sentOf("payment.succeeded", (event) => event.data.orderId === order.id)).toHaveLength(0);
		expect(shop.sentOf("payment.refunded", (event) => event.data.orderId === order.id)).toHaveLength(1);
		expect(await orderLines(productId, order.id)).toEqual(["reserve", "release"]);
	});

	it("the charge captures first: the cancel refunds it once, the order stays cancelled, stock released once", async () => {
		chargeGate.close();
		const { order, productId } = await placeOrder();
		const voiding = stopPaymentMove(order.id, "voided");
		await shop.broker.call("orders.cancel", { id: order.id }, CUSTOMER);
		await voiding.reached;

		chargeGate.open();
		await eventually(async () => expect((await paymentOf(order.id)).status).toBe("succeeded"));
		voiding.go();

		await eventually(async () => expect((await paymentOf(order.id)).status).toBe("refunded"));
		await eventually(async () => expect(await shop.orderOf(order.id)).toMatchObject({ status: "cancelled", paymentStatus: "refunded" }));
		await eventually(async () => expect(await shop.stockOf(productId)).toMatchObject({ available: 5, reserved: 0 }));
		expect(shop.sentOf("payment.refunded", (event) => event.data.orderId === order.id)).toHaveLength(1);
		expect(await orderLines(productId, order.id)).toEqual(["reserve", "release"]);
	});
});
