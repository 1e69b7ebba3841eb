import type { Product } from "../api/types";
import { addToCart, type CartLine, parseCart, refreshLine, removeLine, setQuantity } from "../lib/cart";
import { Store } from "./store";

const CART_KEY = "agora.cart";

/** The shopper's cart, kept in localStorage and in step across the tabs of one browser. */
export class CartStore extends Store<readonly CartLine[]> {
	readonly #storage: Storage;

	constructor(storage: Storage) {
		super(parseCart(storage.getItem(CART_KEY)));
		this.#storage = storage;
	}

	get lines(): readonly CartLine[] {
		return this.value;
	}

	/** Another tab changed the cart: take its version (the `storage` event fires only in the other tabs). */
	syncFrom(event: StorageEvent): void {
		if (event.key === CART_KEY) super.set(parseCart(event.newValue));
	}

	add(product: Product, quantity = 1): void {
		this.set(addToCart(this.value, product, quantity));
	}

	setQuantity(productId: string, quantity: number): void {
		this.set(setQuantity(this.value, productId, quantity));
	}

	remove(productId: string): void {
		this.set(removeLine(this.value, productId));
	}

	refresh(product: Product): void {
		if (this.value.some((line) => line.productId === product.id)) this.set(refreshLine(this.value, product));
	}

	clear(): void {
		this.set([]);
	}

	protected override set(lines: readonly CartLine[]): void {
		super.set(lines);
		this.#storage.setItem(CART_KEY, JSON.stringify(lines));
	}
}
