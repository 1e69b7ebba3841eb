/**
 * A cart's hold on its units (inventory's holds, by the cart's hold id): taken, extended, and
 * kept in step with the cart's lines.
 */
import type { Context } from "moleculer";
import type { OrderLine } from "../../lib/contracts/orders";
import { call } from "../../lib/platform/actions";
import { isShopError, shopError } from "../../lib/platform/shop-error";
import { liveHold, type StoredCart } from "./model";

/** A live hold follows the cart's new lines; no lines, no hold. Refused (OUT_OF_STOCK): the hold stays as it was. */
export async function followHold(ctx: Context, cart: StoredCart, items: OrderLine[]): Promise<StoredCart["hold"]> {
	const current = liveHold(cart);
	if (!current) return cart.hold;
	if (items.length === 0) {
		await call(ctx, "inventory.releaseHold", { holdId: current.holdId });
		return null;
	}
	return holdLines(ctx, current.holdId, items);
}

/** Holds the cart's lines; OUT_OF_STOCK names the product for people, not only by id. */
export async function holdLines(ctx: Context, holdId: string, items: OrderLine[]): Promise<StoredCart["hold"]> {
	try {
		const hold = await call(ctx, "inventory.hold", { holdId, items });
		return { holdId, expiresAt: new Date(hold.expiresAt) };
	} catch (err) {
		if (!isShopError(err, "OUT_OF_STOCK")) throw err;
		const { productId, available } = (err as { data: { productId: string; available: number } }).data;
		const [entry] = await call(ctx, "products.getMany", { ids: [productId] });
		throw shopError("OUT_OF_STOCK", `Only ${available} of ${entry?.name ?? productId} left: nothing was held`, {
			field: "items",
			productId,
			name: entry?.name ?? null,
			available,
		});
	}
}
