import type { Context, ServiceSchema, ServiceSettingSchema } from "moleculer";
import type { StockLevel } from "../../lib/contracts/actions";
import { CART_UPDATED, type Cart, type NewGuestCart } from "../../lib/contracts/carts";
import { ADDRESS, methodsFor, SHIPPING_METHOD, shippingRules } from "../../lib/contracts/checkout";
import { onEvent } from "../../lib/contracts/events";
import type { Order, ShippingAddress } from "../../lib/contracts/orders";
import { userRoom } from "../../lib/contracts/realtime";
import { paymentProvider } from "../../lib/payments/payment-provider";
import { call } from "../../lib/platform/actions";
import { sendPush } from "../../lib/platform/pushes";
import { settings } from "../../lib/platform/settings";
import { invalidFields, isShopError, shopError } from "../../lib/platform/shop-error";
import type { AuthUser } from "../../lib/platform/tokens";
import { type DbMethods, type DbVars, dbMixin } from "../../mixins/db.mixin";
import { followHold, holdLines } from "./holds";
import {
	blankCart,
	CART_PRODUCTS_SPEC,
	CARTS_SPEC,
	type CartContext,
	cartNotFound,
	cartView,
	checkoutOf,
	closedKey,
	type Fresh,
	hashSecret,
	heldByCart,
	isOpen,
	liveHold,
	mergedItems,
	newSecret,
	type ShopTerms,
	type StoredCart,
	secretMatches,
	withQuantity,
} from "./model";
import { CartProducts } from "./product-index";

interface CartMethods extends DbMethods {
	terms(): ShopTerms;
	findCart(ctx: CartContext<{ id: string }>, closedToo?: boolean): Promise<StoredCart>;
	storedCart(filter: object): Promise<StoredCart | null>;
	view(cart: StoredCart, fresh?: Fresh): Promise<Cart>;
	levelsOf(productIds: string[]): Promise<Record<string, Pick<StockLevel, "available">>>;
	save(before: StoredCart, change: Partial<StoredCart>): Promise<StoredCart>;
	accountCart(user: AuthUser): Promise<{ cart: StoredCart; created: boolean }>;
	mergeGuestCart(ctx: CartContext<object>, into: StoredCart, secret: string): Promise<StoredCart>;
	tellOwners(productId: string, fresh: Fresh): Promise<void>;
}

interface CartVars extends DbVars {
	index: CartProducts;
}

const CART_ID = { type: "string", min: 1, max: 64 } as const;
const PRODUCT_ID = { type: "string", min: 1, max: 64 } as const;
const COUNTRY = { type: "string", pattern: /^[A-Za-z]{2}$/ } as const;
const EMAIL = { type: "email", max: 254 } as const;

/**
 * Server-side carts: a signed-in customer's one open cart, or a guest's named by its secret; its
 * lines priced and counted against stock when shown (./model.ts), its checkout's hold on the
 * units (inventory.hold) and its checkout (orders.checkout). Nobody but the owner finds a cart.
 */
const CartsService: ServiceSchema<ServiceSettingSchema, CartMethods, CartVars> = {
	name: "carts",
	dependencies: ["products", "inventory", "orders"],
	mixins: [dbMixin(CARTS_SPEC, [CART_PRODUCTS_SPEC])],

	actions: {
		/**
		 * A guest's new cart with its secret (201), or the account's one open cart (201 when made now,
		 * 200 after). Signing in with a guest's `Cart-Secret` moves the guest's lines into it.
		 */
		open: {
			auth: "public",
			async handler(ctx: CartContext<object>): Promise<Cart | NewGuestCart> {
				const { user, cartSecret } = ctx.meta;
				if (!user) {
					const { secret, hash } = newSecret();
					const { id, ...doc } = blankCart(this.newId(), { secretHash: hash });
					await this.adapter.insert({ _id: id, ...doc });
					ctx.meta.$statusCode = 201;
					ctx.meta.$location = `/api/carts/${id}`;
					return { ...(await this.view({ id, ...doc })), secret };
				}
				const { cart, created } = await this.accountCart(user);
				const merged = cartSecret ? await this.mergeGuestCart(ctx, cart, cartSecret) : cart;
				ctx.meta.$statusCode = created ? 201 : 200;
				if (created) ctx.meta.$location = `/api/carts/${cart.id}`;
				return this.view(merged);
			},
		},

		get: {
			auth: "public",
			params: { id: CART_ID },
			async handler(ctx: CartContext) {
				return this.view(await this.findCart(ctx));
			},
		},

		setItem: {
			auth: "public",
			params: { id: CART_ID, productId: PRODUCT_ID, quantity: { type: "number", integer: true, min: 0, max: 1_000 } },
			async handler(ctx: CartContext<{ id: string; productId: string; quantity: number }>) {
				const { productId, quantity } = ctx.params;
				const cart = await this.findCart(ctx);
				const [entry] = await call(ctx, "products.getMany", { ids: [productId] });
				if (!entry) throw shopError("PRODUCT_NOT_FOUND", "Product not found", { productId });
				const available = ((await this.levelsOf([productId]))[productId]?.available ?? 0) + heldByCart(cart, productId);
				if (quantity > available)
					throw shopError("OUT_OF_STOCK", `Only ${available} of ${entry.name} available`, {
						field: "quantity",
						productId,
						requested: quantity,
						available,
					});
				const items = withQuantity(cart.items, productId, quantity);
				// A held cart stays held for exactly what it holds: the new quantities are held anew (and
				// their time starts again), so checkout never finds the hold and the cart apart.
				const hold = await followHold(ctx, cart, items);
				return this.view(await this.save(cart, { items, hold }));
			},
		},

		setShipping: {
			auth: "public",
			params: {
				id: CART_ID,
				address: ADDRESS,
				method: SHIPPING_METHOD,
				email: { ...EMAIL, optional: true },
			},
			async handler(ctx: CartContext<{ id: string; address: ShippingAddress; method: string; email?: string }>) {
				const { address, method, email } = ctx.params;
				const cart = await this.findCart(ctx);
				// The country is one the shop ships to (the parameter says so); this method may not be.
				const options = methodsFor(this.terms().methods, address.country);
				if (!options.some((option) => option.id === method))
					throw invalidFields("This shipping method does not ship there", [
						{
							field: "method",
							message: `'${method}' does not ship to ${address.country}; choose one of ${options.map((option) => option.id).join(", ")}`,
							type: "shipsTo",
							expected: options.map((option) => option.id),
						},
					]);
				return this.view(await this.save(cart, { address, method, email: email ?? cart.email }));
			},
		},

		hold: {
			auth: "public",
			params: { id: CART_ID },
			async handler(ctx: CartContext) {
				const cart = await this.findCart(ctx);
				if (cart.items.length === 0) throw shopError("CART_EMPTY", "The cart is empty: there is nothing to hold", { id: cart.id });
				// An expired hold is not extended: the sweep may be giving it back right now. Its
				// leftovers go back at once and a new hold starts.
				const current = liveHold(cart);
				if (cart.hold && !current) await call(ctx, "inventory.releaseHold", { holdId: cart.hold.holdId });
				const hold = await holdLines(ctx, current?.holdId ?? this.newId(), cart.items);
				return this.view(await this.save(cart, { hold }));
			},
		},

		checkout: {
			auth: "public",
			params: {
				id: CART_ID,
				payment: { type: "object", strict: "remove", props: { cardNumber: paymentProvider.cardNumberRule } },
				email: { ...EMAIL, optional: true },
			},
			async handler(ctx: CartContext<{ id: string; payment: { cardNumber: string }; email?: string }>) {
				const cart = await this.findCart(ctx, true);
				const key = ctx.meta.idempotencyKey ?? null;
				const { repeated, buyer, email, address, method } = checkoutOf(cart, key, ctx.params.email);
				const order: Order & { accessToken?: string } = await call(ctx, "orders.checkout", {
					items: cart.items,
					shippingAddress: address,
					shippingMethod: method,
					payment: ctx.params.payment,
					buyer,
					...(cart.hold ? { holdId: cart.hold.holdId } : {}),
					// One order per cart even without a key: a double click places it once.
					idempotencyKey: `cart:${cart.id}:${key ?? ""}`,
				});
				if (!repeated) await this.save(cart, { openKey: closedKey(cart.id), orderId: order.id, checkoutKey: key, hold: null, email });
				ctx.meta.$statusCode = 201;
				ctx.meta.$location = `/api/orders/${order.id}`;
				return order;
			},
		},

		shippingMethods: {
			auth: "public",
			params: { country: COUNTRY },
			handler(ctx: Context<{ country: string }>) {
				return methodsFor(this.terms().methods, ctx.params.country);
			},
		},

		/** Operators: the open carts (newest change first), with their holds. */
		list: {
			visibility: "public",
			params: { limit: { type: "number", integer: true, min: 1, max: 500, convert: true, default: 50 } },
			async handler(ctx: Context<{ limit: number }>) {
				const docs = await this.adapter.find({
					query: { openKey: { $regex: /^(user|guest):/ } },
					sort: ["-updatedAt"],
					limit: ctx.params.limit,
				});
				return Promise.all(
					docs.map(async (doc) => {
						const cart = this.toEntity<StoredCart>(doc);
						return { ...(await this.view(cart)), userId: cart.userId, holdId: liveHold(cart)?.holdId ?? null };
					}),
				);
			},
		},
	},

	channels: {
		"inventory.updated": onEvent("inventory.updated", "carts", async function tellOfStock(level) {
			await this.tellOwners(level.productId, { levels: { [level.productId]: level } });
		}),
		"product.updated": onEvent("product.updated", "carts", async function tellOfPrice(product) {
			await this.tellOwners(product.id, { entries: [product] });
		}),
	},

	methods: {
		terms() {
			const { shippingMethods, taxRates } = settings();
			return { methods: shippingMethods, taxRates, currency: shippingMethods[0]?.currency ?? "USD" };
		},

		async storedCart(filter) {
			const doc = await this.adapter.findOne(filter);
			return doc ? this.toEntity<StoredCart>(doc) : null;
		},

		/** The cart, if the caller owns it: its account's token, or a guest cart's secret. Anyone else: not found. */
		async findCart(ctx, closedToo = false) {
			const cart = await this.storedCart({ _id: ctx.params.id });
			const { user, cartSecret } = ctx.meta;
			const owns = cart && (cart.userId ? cart.userId === user?.id : secretMatches(cart, cartSecret));
			if (!cart || !owns || (!closedToo && !isOpen(cart))) throw cartNotFound(ctx.params.id);
			return cart;
		},

		async levelsOf(productIds) {
			return productIds.length > 0 ? call(this.broker, "inventory.availability", { productIds }) : {};
		},

		async view(cart: StoredCart, fresh: Fresh = {}) {
			const ids = cart.items.map((line) => line.productId);
			const [entries, levels] = await Promise.all([
				ids.length > 0 ? call(this.broker, "products.getMany", { ids }) : Promise.resolve([]),
				this.levelsOf(ids),
			]);
			const known = new Map([...entries, ...(fresh.entries ?? [])].map((entry) => [entry.id, entry]));
			return cartView(cart, known, { ...levels, ...fresh.levels }, this.terms());
		},

		async save(before, change) {
			const updated = { ...before, ...change, updatedAt: new Date() };
			const { id, ...doc } = updated;
			await this.adapter.updateById(id, { $set: doc });
			if (updated.userId) {
				if (isOpen(updated)) await this.index.follow(id, updated.userId, before.items, updated.items);
				else await this.index.forget(id);
			}
			return updated;
		},

		/** The account's open cart; of two devices opening it at once, the unique open key lets one make it. */
		async accountCart(user) {
			const fresh = blankCart(this.newId(), { userId: user.id });
			const found = await this.storedCart({ openKey: fresh.openKey });
			if (found) return { cart: found, created: false };
			const { id, ...doc } = fresh;
			try {
				await this.adapter.insert({ _id: id, ...doc });
				return { cart: fresh, created: true };
			} catch (err) {
				if (!this.isDuplicateKey(err)) throw err;
				const winner = await this.storedCart({ openKey: fresh.openKey });
				if (!winner) throw err;
				return { cart: winner, created: false };
			}
		},

		/**
		 * Moves an open guest cart's lines into the account's cart: quantities added, each capped at
		 * what is available to the account's cart; the guest cart is closed and its hold let go. A
		 * secret that names no open guest cart (already merged, checked out) merges nothing.
		 */
		async mergeGuestCart(ctx, into, secret) {
			const guest = await this.storedCart({ secretHash: hashSecret(secret) });
			if (!guest || !isOpen(guest)) return into;
			// Closing it first claims it: of two sign-ins racing with one secret, one merges.
			const claimed = await this.adapter.updateMany(
				{ _id: guest.id, openKey: guest.openKey },
				{ $set: { openKey: closedKey(guest.id), hold: null, updatedAt: new Date() } },
			);
			if (claimed === 0) return into;
			if (guest.hold) await call(ctx, "inventory.releaseHold", { holdId: guest.hold.holdId });
			const levels = await this.levelsOf(guest.items.map((line) => line.productId));
			const items = mergedItems(into, guest.items, levels);
			// The guest's lines are never lost to a race for the last units: if the account's live hold
			// cannot take them, it is let go, and the next hold asks for everything again.
			const hold = await followHold(ctx, into, items).catch(async (err: unknown) => {
				if (!isShopError(err, "OUT_OF_STOCK") || !into.hold) throw err;
				await call(ctx, "inventory.releaseHold", { holdId: into.hold.holdId });
				return null;
			});
			const shipping = into.address ? {} : { address: guest.address, method: guest.method };
			return this.save(into, { items, hold, email: into.email ?? guest.email, ...shipping });
		},

		/** Pushes `cart.updated` to the signed-in owner of each open cart with this product. */
		async tellOwners(productId, fresh) {
			for (const cartId of await this.index.cartsWith(productId)) {
				const cart = await this.storedCart({ _id: cartId });
				if (!cart?.userId || !isOpen(cart)) continue;
				const payload = await this.view(cart, fresh);
				await sendPush(this.broker, { event: CART_UPDATED, rooms: [userRoom(cart.userId)], payload });
			}
		},
	},

	/** The shop's shipping settings name the methods and countries, so a wrong one is a 422 by field and the OpenAPI document lists them. */
	merged(schema) {
		const action = schema.actions?.setShipping;
		if (typeof action !== "object" || !action.params) return;
		const { shippingAddress, shippingMethod } = shippingRules(settings().shippingMethods);
		Object.assign(action.params, { address: shippingAddress, method: shippingMethod });
	},

	created() {
		this.index = new CartProducts(
			this.collection(CART_PRODUCTS_SPEC.name),
			(doc) => this.toEntity(doc),
			(err) => this.isDuplicateKey(err),
		);
	},
};

export default CartsService;
