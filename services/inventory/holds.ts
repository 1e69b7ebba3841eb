/**
 * Checkout holds: a cart's units kept from other shoppers until an expiry (`HOLD_TTL_SECONDS`).
 * Held units are ledger lines like any other change (kind `hold` / `unhold`, the same no-oversell
 * rule), tagged with the hold's id; what a hold keeps of a product is the sum of its lines, so
 * every writer plans from the ledger and the ledger stays the truth. The `holds` collection only
 * says until when, for the sweep that gives back expired holds.
 */
import { randomUUID } from "node:crypto";
import mongoose from "mongoose";
import type { Hold } from "../../lib/contracts/actions";
import { mergeLines, type OrderLine } from "../../lib/contracts/orders";
import { shopError } from "../../lib/platform/shop-error";
import type { CollectionSpec, DbAdapter, Entity } from "../../lib/platform/store";
import type { StockLedger } from "./ledger";

export const HOLDS_SPEC: CollectionSpec = {
	name: "holds",
	fields: {
		items: mongoose.Schema.Types.Mixed,
		expiresAt: { type: Date, required: true },
		open: { type: Boolean, required: true },
		updatedAt: { type: Date, required: true },
	},
	indexes: [{ fields: { open: 1, expiresAt: 1 } }],
};

interface HoldDoc extends Entity {
	items: OrderLine[];
	expiresAt: Date;
	open: boolean;
}

/**
 * Makes what the hold keeps of `productId` exactly `target` units: planned from the ledger on
 * every attempt, so two requests for the same target hold it once. Throws OUT_OF_STOCK when
 * more is asked than is available.
 */
function holdExactly(ledger: StockLedger, holdId: string, productId: string, target: number, reason: string) {
	return ledger.apply(productId, async (level) => {
		const kept = await ledger.heldBy(holdId, productId);
		const more = target - kept;
		if (more === 0) return null;
		if (more > level.available)
			throw shopError("OUT_OF_STOCK", "Not enough stock to hold", { productId, requested: target, available: level.available + kept });
		return {
			key: `hold:${holdId}:${productId}:${randomUUID()}`,
			kind: more > 0 ? "hold" : "unhold",
			delta: -more,
			heldDelta: more,
			reservedDelta: 0,
			quantity: Math.abs(more),
			orderId: null,
			holdId,
			reason,
			by: "system",
		};
	});
}

export class Holds {
	constructor(
		private readonly ledger: StockLedger,
		private readonly store: DbAdapter,
		private readonly toEntity: <T extends Entity>(doc: unknown) => T,
	) {}

	/**
	 * Holds exactly `items` for `holdId` until `ttlSeconds` from now: more where the cart grew,
	 * less where it shrank, nothing more of what it dropped. Asking again extends it. If a line
	 * cannot be held, the hold is put back as it was and OUT_OF_STOCK names the product.
	 */
	async hold(holdId: string, items: OrderLine[], ttlSeconds: number): Promise<Hold> {
		const wanted = new Map(mergeLines(items).map(({ productId, quantity }) => [productId, quantity]));
		const products = [...new Set([...(await this.ledger.productsOf(holdId)), ...wanted.keys()])].sort();
		const before = new Map<string, number>();
		try {
			for (const productId of products) {
				before.set(productId, await this.ledger.heldBy(holdId, productId));
				await holdExactly(this.ledger, holdId, productId, wanted.get(productId) ?? 0, "checkout hold");
			}
		} catch (err) {
			for (const [productId, kept] of before) await holdExactly(this.ledger, holdId, productId, kept, "checkout hold not taken");
			throw err;
		}
		const expiresAt = new Date(Date.now() + ttlSeconds * 1000);
		const doc = { items: mergeLines(items), expiresAt, open: true, updatedAt: new Date() };
		try {
			await this.store.insert({ _id: holdId, ...doc });
		} catch {
			await this.store.updateById(holdId, { $set: doc });
		}
		return { holdId, items: doc.items, expiresAt: expiresAt.toISOString() };
	}

	/** Gives back every unit the hold keeps; repeating it changes nothing. */
	async release(holdId: string, reason: string): Promise<void> {
		for (const productId of await this.ledger.productsOf(holdId)) await holdExactly(this.ledger, holdId, productId, 0, reason);
		await this.store.updateMany({ _id: holdId }, { $set: { open: false, updatedAt: new Date() } });
	}

	/** Gives back the holds whose time is up; answers how many. */
	async sweep(now = new Date()): Promise<number> {
		const expired = await this.store.find({ query: { open: true, expiresAt: { $lt: now } }, sort: ["expiresAt"], limit: 100 });
		for (const doc of expired) await this.release(this.toEntity<HoldDoc>(doc).id, "hold expired");
		return expired.length;
	}
}
