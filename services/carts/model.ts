/**
 * What a cart stores and how it is shown. A cart stores only what the shopper chose (lines,
 * address, method, email) and its hold; names, prices, availability and totals are read when it
 * is shown, so a cart always says what the order would cost now.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Context } from "moleculer";
import mongoose from "mongoose";
import type { CatalogueEntry, StockLevel } from "../../lib/contracts/actions";
import type { Cart } from "../../lib/contracts/carts";
import { type ShippingMethod, type TaxRates, type Totals, totalsFor } from "../../lib/contracts/checkout";
import type { OrderLine, ShippingAddress } from "../../lib/contracts/orders";
import type { GatewayMeta } from "../../lib/platform/request-context";
import { invalidFields, shopError } from "../../lib/platform/shop-error";
import type { CollectionSpec } from "../../lib/platform/store";

export type CartContext<P = { id: string }> = Context<P, GatewayMeta>;

/** What a view is built from beyond the cart: fresher figures an event brought override what is read. */
export interface Fresh {
	entries?: CatalogueEntry[];
	levels?: Record<string, Pick<StockLevel, "available">>;
}

export const CARTS_SPEC: CollectionSpec = {
	name: "carts",
	fields: {
		userId: { type: String, default: null },
		secretHash: { type: String, default: null },
		// "user:<id>" while an account's cart is open, "guest:<cart id>" for a guest's, "closed:<cart id>"
		// once checked out or merged: the unique index keeps an account to one open cart even when two
		// devices open it at once, with no update that a FerretDB race could let through twice.
		openKey: { type: String, required: true },
		items: mongoose.Schema.Types.Mixed,
		address: mongoose.Schema.Types.Mixed,
		method: { type: String, default: null },
		email: { type: String, default: null },
		hold: mongoose.Schema.Types.Mixed,
		orderId: { type: String, default: null },
		checkoutKey: { type: String, default: null },
		createdAt: { type: Date, required: true },
		updatedAt: { type: Date, required: true },
	},
	indexes: [{ fields: { openKey: 1 }, unique: true }, { fields: { secretHash: 1 } }],
};

/**
 * Which open account carts hold which product: a price or stock change of a product finds the
 * carts to tell without reading every cart. Guests get no pushes, so their carts are not in it.
 */
export const CART_PRODUCTS_SPEC: CollectionSpec = {
	name: "cart-products",
	fields: {
		cartId: { type: String, required: true },
		productId: { type: String, required: true },
		userId: { type: String, required: true },
	},
	indexes: [{ fields: { productId: 1 } }, { fields: { cartId: 1 } }],
};

export interface CartHoldRecord {
	holdId: string;
	expiresAt: Date | string;
}

export interface StoredCart {
	id: string;
	userId: string | null;
	secretHash: string | null;
	openKey: string;
	items: OrderLine[];
	address: ShippingAddress | null;
	method: string | null;
	email: string | null;
	hold: CartHoldRecord | null;
	orderId: string | null;
	checkoutKey: string | null;
	createdAt: Date | string;
	updatedAt: Date | string;
}

/** A new, empty cart: an account's (`userId`) or a guest's (`secretHash`). */
export function blankCart(id: string, owner: { userId: string } | { secretHash: string }, now = new Date()): StoredCart {
	const userId = "userId" in owner ? owner.userId : null;
	return {
		id,
		userId,
		secretHash: "secretHash" in owner ? owner.secretHash : null,
		openKey: openKeyOf({ id, userId }),
		items: [],
		address: null,
		method: null,
		email: null,
		hold: null,
		orderId: null,
		checkoutKey: null,
		createdAt: now,
		updatedAt: now,
	};
}

export const openKeyOf = (cart: { id: string; userId: string | null }) => (cart.userId ? `user:${cart.userId}` : `guest:${cart.id}`);
export const closedKey = (cartId: string) => `closed:${cartId}`;
export const cartNotFound = (id: string) => shopError("CART_NOT_FOUND", "Cart not found", { id });
export const isOpen = (cart: StoredCart) => !cart.openKey.startsWith("closed:");

/** A guest's secret: 192 random bits, shown once; only its hash is stored. */
export function newSecret(): { secret: string; hash: string } {
	const secret = randomBytes(24).toString("base64url");
	return { secret, hash: hashSecret(secret) };
}

export function hashSecret(secret: string): string {
	return createHash("sha256").update(secret).digest("hex");
}

export function secretMatches(cart: StoredCart, secret: string | undefined): boolean {
	if (!cart.secretHash || !secret) return false;
	return timingSafeEqual(Buffer.from(cart.secretHash, "hex"), Buffer.from(hashSecret(secret), "hex"));
}

/** The hold while it lasts; an expired one is as good as gone (the inventory sweep gives its units back). */
export function liveHold(cart: StoredCart, now = Date.now()): CartHoldRecord | null {
	return cart.hold && new Date(cart.hold.expiresAt).getTime() > now ? cart.hold : null;
}

/** What the cart's live hold keeps of a product: its own units count as available to it. */
export function heldByCart(cart: StoredCart, productId: string, now = Date.now()): number {
	return liveHold(cart, now) ? (cart.items.find((line) => line.productId === productId)?.quantity ?? 0) : 0;
}

/** Sets one line: 0 removes it, a new product goes last. */
export function withQuantity(items: readonly OrderLine[], productId: string, quantity: number): OrderLine[] {
	const rest = items.filter((line) => line.productId !== productId);
	if (quantity === 0) return rest;
	const index = items.findIndex((line) => line.productId === productId);
	const line = { productId, quantity };
	return index === -1 ? [...rest, line] : [...rest.slice(0, index), line, ...rest.slice(index)];
}

export interface ShopTerms {
	methods: readonly ShippingMethod[];
	taxRates: TaxRates;
	/** The currency of an empty cart: the shop's first shipping method's. */
	currency: string;
}

/** The cart as shown: lines of products still sold, priced now, with what is available and the totals. */
export function cartView(
	cart: StoredCart,
	entries: ReadonlyMap<string, CatalogueEntry>,
	levels: Readonly<Record<string, Pick<StockLevel, "available">>>,
	terms: ShopTerms,
	now = Date.now(),
): Cart {
	const items = cart.items.flatMap(({ productId, quantity }) => {
		const entry = entries.get(productId);
		if (!entry) return [];
		const available = (levels[productId]?.available ?? 0) + heldByCart(cart, productId, now);
		return [{ productId, name: entry.name, price: entry.price, quantity, available }];
	});
	const method = terms.methods.find((candidate) => candidate.id === cart.method) ?? null;
	const priced = cart.address && method ? totalsFor(items, method, cart.address.country, terms.taxRates) : null;
	// Until a method is chosen (or when the shop stopped shipping there by it), only the items count.
	const subtotal = items.reduce((sum, line) => sum + line.price * line.quantity, 0);
	const totals: Totals = priced ?? { subtotal, shipping: null, tax: null, total: subtotal };
	const hold = liveHold(cart, now);
	const currency = entries.get(items[0]?.productId ?? "")?.currency ?? terms.currency;
	return {
		id: cart.id,
		items,
		...totals,
		currency,
		...(cart.email ? { email: cart.email } : {}),
		hold: hold
			? {
					expiresAt: new Date(hold.expiresAt).toISOString(),
					seconds: Math.max(0, Math.ceil((new Date(hold.expiresAt).getTime() - now) / 1000)),
				}
			: null,
		updatedAt: new Date(cart.updatedAt).toISOString(),
	};
}

/**
 * What a checkout of `cart` places, or why it cannot: the cart must be open (or closed by this
 * same checkout, sent again after a lost answer: it answers the first order, which orders finds by
 * the same key), hold lines, and say where and how it ships; a guest must give an email. A repeat
 * is placed by the same buyer as the first, or orders would not find its key.
 */
export function checkoutOf(cart: StoredCart, key: string | null, email: string | undefined) {
	const repeated = !isOpen(cart) && cart.orderId !== null && cart.checkoutKey === key;
	if (!isOpen(cart) && !repeated) throw cartNotFound(cart.id);
	if (cart.items.length === 0) throw shopError("CART_EMPTY", "The cart is empty: there is nothing to order", { id: cart.id });
	if (!cart.address || !cart.method)
		throw invalidFields("Say where and how the order ships first", [
			{ field: "shipping", message: "Set the address and shipping method (PUT /carts/:id/shipping)", type: "required" },
		]);
	const buyerEmail = repeated ? cart.email : (email ?? cart.email);
	const buyer = cart.userId ? { userId: cart.userId } : buyerEmail ? { email: buyerEmail } : null;
	if (!buyer)
		throw invalidFields("A guest checkout needs an email address", [
			{ field: "email", message: "The 'email' field is required to check out as a guest", type: "required" },
		]);
	return { repeated, buyer, email: buyerEmail, address: cart.address, method: cart.method };
}

/** The account cart's lines with a guest's added: each quantity capped at what is available to the account's cart, never below what it had. */
export function mergedItems(
	into: StoredCart,
	guestItems: readonly OrderLine[],
	levels: Record<string, Pick<StockLevel, "available">>,
): OrderLine[] {
	let items: OrderLine[] = into.items;
	for (const { productId, quantity } of guestItems) {
		const mine = items.find((line) => line.productId === productId)?.quantity ?? 0;
		const available = (levels[productId]?.available ?? 0) + heldByCart(into, productId);
		items = withQuantity(items, productId, Math.max(mine, Math.min(mine + quantity, available)));
	}
	return items;
}
