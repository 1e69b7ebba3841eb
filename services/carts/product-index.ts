/**
 * Which open account carts hold which product (the `cart-products` collection), so that a price or
 * stock change finds the carts whose owners to tell with one indexed read.
 */
import type { DbAdapter, Entity } from "../../lib/platform/store";

interface Row extends Entity {
	cartId: string;
	productId: string;
	userId: string;
}

export class CartProducts {
	constructor(
		private readonly rows: DbAdapter,
		private readonly toEntity: <T extends Entity>(doc: unknown) => T,
		private readonly isDuplicateKey: (err: unknown) => boolean,
	) {}

	/** The cart's products were `before` and are now `after`: rows for the new ones, none for those it dropped. */
	async follow(cartId: string, userId: string, before: readonly { productId: string }[], after: readonly { productId: string }[]) {
		const was = new Set(before.map((line) => line.productId));
		const is = new Set(after.map((line) => line.productId));
		for (const productId of is) {
			if (was.has(productId)) continue;
			// A row left by an earlier write that stopped halfway is the same row.
			await this.rows.insert({ _id: `${cartId}:${productId}`, cartId, productId, userId }).catch((err: unknown) => {
				if (!this.isDuplicateKey(err)) throw err;
			});
		}
		for (const productId of was) if (!is.has(productId)) await this.rows.removeById(`${cartId}:${productId}`);
	}

	/** The cart is closed: nobody is told of its products any more. */
	async forget(cartId: string) {
		await this.rows.removeMany({ cartId });
	}

	async cartsWith(productId: string): Promise<string[]> {
		const docs = await this.rows.find({ query: { productId } });
		return docs.map((doc) => this.toEntity<Row>(doc).cartId);
	}
}
