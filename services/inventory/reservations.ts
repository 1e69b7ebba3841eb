/**
 * What the saga does to stock: an order's reservation (every line or none), its commit once paid,
 * and its release when it fails or is cancelled. Each step is one ledger line per product under a
 * key that names it, so a step repeated by a redelivered event writes nothing the second time.
 */
import type { OrderLine } from "../../lib/contracts/orders";
import { mergeLines } from "../../lib/contracts/orders";
import { shopError } from "../../lib/platform/shop-error";
import type { Applied, StockLedger } from "./ledger";

const reserveKey = (orderId: string, productId: string) => `${orderId}:${productId}:reserve`;
const settleKey = (orderId: string, productId: string) => `${orderId}:${productId}:settle`;

function outOfStock(productId: string, requested: number, available: number) {
	return shopError("OUT_OF_STOCK", "Not enough stock", { productId, requested, available });
}

/**
 * Reserves every line of an order, or none: lines taken before a shortfall are given back. With a
 * hold (the cart's checkout), its units of each product move to the order first; only what the
 * hold lacks is taken from what is available. A line whose key an earlier release forbade (the
 * order was undone while this call was on its way) makes the whole reservation go back.
 */
export async function reserveOrder(ledger: StockLedger, orderId: string, items: OrderLine[], holdId?: string): Promise<OrderLine[]> {
	const taken: { productId: string; quantity: number; fromHold: number }[] = [];
	try {
		for (const { productId, quantity } of mergeLines(items)) {
			let fromHold = 0;
			const applied = await ledger.apply(productId, async (level) => {
				fromHold = holdId ? Math.min(quantity, await ledger.heldBy(holdId, productId)) : 0;
				const fromStock = quantity - fromHold;
				if (level.available < fromStock) throw outOfStock(productId, quantity, level.available + fromHold);
				return {
					key: reserveKey(orderId, productId),
					kind: "reserve",
					delta: -fromStock,
					heldDelta: -fromHold,
					holdId: holdId ?? null,
					reservedDelta: quantity,
					quantity,
					orderId,
					reason: "order placed",
					by: "system",
				};
			});
			if (!applied) {
				// Written before: by an earlier try of this same call, or forbidden by a release.
				const existing = await ledger.step(reserveKey(orderId, productId));
				if (existing?.kind === "void")
					throw shopError("ORDER_RELEASED", "The order was released while its stock was being reserved", { orderId });
				continue;
			}
			taken.push({ productId, quantity, fromHold });
		}
	} catch (err) {
		// Give back what this call took; the settle key makes a later release of the order a no-op.
		for (const { productId, quantity } of taken)
			await ledger.apply(productId, () => ({
				key: settleKey(orderId, productId),
				kind: "release",
				delta: quantity,
				reservedDelta: -quantity,
				quantity,
				orderId,
				reason: "order not placed",
				by: "system",
			}));
		throw err;
	}
	return taken.map(({ productId, quantity }) => ({ productId, quantity }));
}

/** The order is paid: each reserved line is sold. */
export async function commitOrder(ledger: StockLedger, orderId: string, items: OrderLine[]): Promise<void> {
	for (const { productId, quantity } of mergeLines(items))
		await ledger.apply(productId, () => ({
			key: settleKey(orderId, productId),
			kind: "commit",
			delta: 0,
			reservedDelta: -quantity,
			quantity,
			orderId,
			reason: "order paid",
			by: "system",
		}));
}

/**
 * The order failed or was cancelled: each line goes back on sale, once. A line never reserved is
 * forbidden instead (its reservation may still be on its way); a line already sold (a paid order
 * cancelled) is restocked.
 */
export async function releaseOrder(ledger: StockLedger, orderId: string, items: OrderLine[], reason: string): Promise<Applied[]> {
	const applied: Applied[] = [];
	for (const { productId } of mergeLines(items)) {
		let reservation = await ledger.step(reserveKey(orderId, productId));
		if (!reservation) {
			if (await ledger.forbid(reserveKey(orderId, productId), productId, orderId, reason)) continue;
			reservation = await ledger.step(reserveKey(orderId, productId));
		}
		if (!reservation || reservation.kind === "void") continue;
		const { quantity } = reservation;
		const line = { quantity, orderId, reason, by: "system" };
		const released = await ledger.apply(productId, () => ({
			...line,
			key: settleKey(orderId, productId),
			kind: "release",
			delta: quantity,
			reservedDelta: -quantity,
		}));
		if (released) {
			applied.push(released);
			continue;
		}
		if ((await ledger.step(settleKey(orderId, productId)))?.kind === "commit")
			applied.push(
				await ledger.apply(productId, () => ({
					...line,
					key: `${orderId}:${productId}:restock`,
					kind: "restock",
					delta: quantity,
					reservedDelta: 0,
				})),
			);
	}
	return applied;
}
