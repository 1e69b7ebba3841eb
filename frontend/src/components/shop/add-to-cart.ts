/** Putting a product in the cart from the catalogue or its page, with the toast that tells how it went. */
import { ApiError } from "../../api/client";
import type { Product } from "../../api/types";
import { problemMessage } from "../../lib/problems";
import type { CartStore } from "../../state/cart";
import type { ToastStore } from "../../state/toasts";

export async function addToCart(cart: CartStore, toasts: ToastStore, product: Product, quantity: number): Promise<void> {
	try {
		await cart.add(product.id, quantity);
		toasts.show(quantity === 1 ? `${product.name} is in your cart.` : `${quantity} × ${product.name} added to your cart.`, "success");
	} catch (error) {
		const fallback = `${product.name} could not be added to your cart. Try again.`;
		toasts.show(error instanceof ApiError ? problemMessage(error.body, fallback, { [product.id]: product.name }) : fallback, "error");
	}
}
