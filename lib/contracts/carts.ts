/**
 * A server-side cart as the API answers it and `cart.updated` pushes it (docs/api.md), shared by
 * the carts service and the web app. Money in minor units, as everywhere.
 */
import type { ShippingCharge, TaxCharge } from "./orders";

export interface CartLine {
	productId: string;
	name: string;
	/** The catalogue's price now: a cart is priced when it is read, an order when it is placed. */
	price: number;
	quantity: number;
	/** Units this cart could have: those on sale plus those its own hold keeps. */
	available: number;
}

/** The cart's units are held for its checkout until `expiresAt`; `seconds` is what is left of it when answered. */
export interface CartHold {
	expiresAt: string;
	seconds: number;
}

export interface Cart {
	id: string;
	items: CartLine[];
	subtotal: number;
	shipping: ShippingCharge | null;
	tax: TaxCharge | null;
	total: number;
	currency: string;
	email?: string;
	hold: CartHold | null;
	updatedAt: string;
}

/** A guest's new cart carries, this once, the secret its later calls name it by (`Cart-Secret`). */
export type NewGuestCart = Cart & { secret: string };

/** The Socket.IO push a signed-in owner gets when a hold of the cart expires or a line's price or availability changes. */
export const CART_UPDATED = "cart.updated";

/** The request header that names a guest's cart. */
export const CART_SECRET_HEADER = "Cart-Secret";
