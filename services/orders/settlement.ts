/**
 * How an order moves after its placement: by its payment's verdict (durable `payment.*` events),
 * by an admin or its customer (status changes, cancels), and by the safety nets (./recovery.ts).
 * Every move is one journalled decision named "order X leaves status S" (`changeOnce`), so of two
 * racing moves exactly one wins and the loser is told, and the move and its event are one write.
 */

import { type HistoryEntry, type Order, type OrderStatus, type PaymentStatus, paymentVerdict } from "../../lib/contracts/orders";
import { isShopError, shopError } from "../../lib/platform/shop-error";
import type { OutgoingEvent } from "../../mixins/domain-events.mixin";

export interface SettlementHost {
	findOrder(id: string): Promise<Order>;
	changeOnce(decision: string, filter: object, update: object, events?: OutgoingEvent[]): Promise<boolean>;
	domainEvent(type: "order.updated" | "order.cancelled", data: Order, key: string): OutgoingEvent;
}

/** Whether `err` says another move of the order won the race. */
export const lostTheRace = (err: unknown) => isShopError(err, "ORDER_CHANGED");

/**
 * Moves an order on from the status the caller saw and announces it (`order.cancelled` or
 * `order.updated`). An order that ends before its payment was taken says so: its money is voided
 * (payments lets the authorization go on the same event). If another move won the race, this one
 * is refused (409 ORDER_CHANGED) instead of silently overwriting it.
 */
export async function transition(
	host: SettlementHost,
	order: Order,
	to: OrderStatus,
	by: string,
	note?: string,
	paymentStatus: PaymentStatus = (to === "cancelled" || to === "failed") && order.paymentStatus === "pending"
		? "voided"
		: order.paymentStatus,
): Promise<Order> {
	const at = new Date();
	const entry: HistoryEntry = note ? { status: to, at, by, note } : { status: to, at, by };
	const update = { status: to, paymentStatus, history: [...order.history, entry], updatedAt: at };
	const changed = { ...order, ...update };
	const announcement = host.domainEvent(to === "cancelled" ? "order.cancelled" : "order.updated", changed, order.id);
	if (!(await host.changeOnce(`${order.id}:status:${order.status}`, { _id: order.id, status: order.status }, update, [announcement]))) {
		const now = await host.findOrder(order.id);
		throw shopError("ORDER_CHANGED", `The order changed meanwhile: it is ${now.status} now`, { from: now.status, to });
	}
	return changed;
}

/** Records where the money stands, once per change of it, and announces it. */
async function recordPayment(host: SettlementHost, order: Order, to: PaymentStatus): Promise<void> {
	const update = { paymentStatus: to, updatedAt: new Date() };
	await host.changeOnce(`${order.id}:paymentStatus:${order.paymentStatus}`, { _id: order.id, paymentStatus: order.paymentStatus }, update, [
		host.domainEvent("order.updated", { ...order, ...update }, order.id),
	]);
}

/**
 * The charge's verdict. An order still waiting for it is confirmed or failed, with its payment
 * status, in one decision. One that ended meanwhile (cancelled, or failed by the reaper) only
 * records the money: a charge taken for it is refunded by payments, which reports it next.
 */
export async function settleCharge(host: SettlementHost, orderId: string, outcome: "succeeded" | "failed", reason?: string): Promise<void> {
	const verdict = paymentVerdict(outcome);
	let order = await host.findOrder(orderId);
	if (order.status === "pending" && order.paymentStatus === "pending") {
		try {
			await transition(
				host,
				order,
				verdict.status,
				"payments",
				outcome === "succeeded" ? "payment received" : (reason ?? "payment failed"),
				verdict.paymentStatus,
			);
			return;
		} catch (err) {
			if (!lostTheRace(err)) throw err;
			order = await host.findOrder(orderId);
		}
	}
	// Taken while the order ended: it is paid until the refund comes. A decline changes nothing of a voided payment.
	if (outcome === "succeeded" && (order.paymentStatus === "pending" || order.paymentStatus === "voided"))
		await recordPayment(host, order, "paid");
	if (outcome === "failed" && order.paymentStatus === "pending") await recordPayment(host, order, "declined");
}

/** What a charge took went back (a cancel after payment, or a charge that lost to a cancel). */
export async function settleRefund(host: SettlementHost, orderId: string): Promise<void> {
	const order = await host.findOrder(orderId);
	if (order.paymentStatus !== "refunded") await recordPayment(host, order, "refunded");
}
