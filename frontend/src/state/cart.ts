import { type ApiClient, ApiError, type CartKey } from "../api/client";
import type { Cart, CartLine, CartShipping, PlacedOrder } from "../api/types";
import { type GuestCartKey, parseGuestCartKey, quantityOf } from "../lib/cart";
import { problemMessage } from "../lib/problems";
import { Store } from "./store";

const GUEST_CART_KEY = "agora.cart";

/** The cart asked for is no longer open (checked out, or merged into an account's). */
const isGone = (error: unknown) => error instanceof ApiError && error.body.type === "CART_NOT_FOUND";

export interface CartState {
	/** The open cart; null until the shopper puts something in it (or signs in). */
	cart: Cart | null;
	/** When `cart` arrived (Date.now()): its hold's seconds count from here. */
	receivedAt: number;
	/** The cart is being fetched (at start, after signing in or out). */
	loading: boolean;
	/** Why the cart could not be fetched, for people; null when it was. */
	error: string | null;
}

/** Who the cart is for; admins have none (the API refuses them an order). */
export type CartOwner = "guest" | "customer" | "admin";

/**
 * The shopper's cart, kept by the server: a signed-in customer's one open cart, the same on every
 * device, or a guest's, named by the id and secret this browser keeps in localStorage. Changes
 * run one after another, so quick clicks each start from the cart the previous one left.
 */
export class CartStore extends Store<CartState> {
	readonly #api: ApiClient;
	readonly #storage: Storage;
	#owner: CartOwner = "guest";
	#queue: Promise<unknown> = Promise.resolve();

	constructor(api: ApiClient, storage: Storage) {
		super({ cart: null, receivedAt: 0, loading: true, error: null });
		this.#api = api;
		this.#storage = storage;
	}

	get cart(): Cart | null {
		return this.value.cart;
	}

	/**
	 * Fetches the cart for whoever is now signed in. A customer who signs in with a guest cart in
	 * this browser gets the guest cart's lines moved into the account's cart.
	 */
	load(owner: CartOwner): Promise<void> {
		this.#owner = owner;
		this.set({ cart: null, receivedAt: 0, loading: true, error: null });
		return this.#run(async () => {
			try {
				this.set({ cart: await this.#fetch(owner), receivedAt: Date.now(), loading: false, error: null });
			} catch (error) {
				const fallback = "Your cart could not be loaded. Try again in a moment.";
				this.set({ ...this.value, loading: false, error: error instanceof ApiError ? problemMessage(error.body, fallback) : fallback });
			}
		});
	}

	/** Tries again after a failed load. */
	reload(): Promise<void> {
		return this.load(this.#owner);
	}

	/** Another tab started or finished a guest cart: take its version (the `storage` event fires only in the other tabs). */
	syncFrom(event: { key: string | null }): void {
		if (event.key === GUEST_CART_KEY && this.#owner === "guest") void this.load("guest");
	}

	/** Adds units of a product (a new line, or more of one); answers the cart as it is now. */
	add(productId: string, quantity: number): Promise<Cart> {
		return this.#run(async () => {
			const cart = this.value.cart ?? (await this.#open());
			try {
				return this.#take(await this.#api.carts.setQuantity(this.#key(cart), productId, quantityOf(cart, productId) + quantity));
			} catch (error) {
				// Checked out or merged meanwhile (another tab, another device): the item starts a new cart.
				if (!isGone(error)) throw error;
				const fresh = await this.#open();
				return this.#take(await this.#api.carts.setQuantity(this.#key(fresh), productId, quantityOf(fresh, productId) + quantity));
			}
		});
	}

	setQuantity(productId: string, quantity: number): Promise<Cart> {
		return this.#change((key) => this.#api.carts.setQuantity(key, productId, quantity));
	}

	remove(productId: string): Promise<Cart> {
		return this.setQuantity(productId, 0);
	}

	setShipping(shipping: CartShipping): Promise<Cart> {
		return this.#change((key) => this.#api.carts.setShipping(key, shipping));
	}

	/** Holds the cart's units for the checkout, or extends the hold. */
	hold(): Promise<Cart> {
		return this.#change((key) => this.#api.carts.hold(key));
	}

	/** Reads the cart again (e.g. when its hold should have run out). */
	refresh(): Promise<Cart> {
		return this.#change((key) => this.#api.carts.get(key));
	}

	/**
	 * Places the order, and the server closes the cart. The cart stays on show until the card's
	 * verdict: `closed` once it is paid, `restore` if it was declined.
	 */
	checkout(body: { payment: { cardNumber: string }; email?: string }, idempotencyKey: string): Promise<PlacedOrder> {
		return this.#run(async () => {
			const cart = this.#current();
			const order = await this.#api.carts.checkout(this.#key(cart), body, idempotencyKey);
			this.#storage.removeItem(GUEST_CART_KEY);
			return order;
		});
	}

	/** The checked-out cart is gone: the next item starts a new one. */
	closed(): void {
		this.set({ cart: null, receivedAt: Date.now(), loading: false, error: null });
	}

	/**
	 * Puts the lines of a cart whose order failed (a declined card) into the open cart again, with
	 * where they were to go, so the shopper can pay another way. Answers why lines could not come
	 * back as they were (sold out meanwhile), by product id, for people.
	 */
	restore(lines: readonly CartLine[], shipping: CartShipping): Promise<{ cart: Cart; refused: Record<string, string> }> {
		return this.#run(async () => {
			let cart = this.#owner === "guest" ? await this.#open() : await this.#api.carts.open();
			const refused: Record<string, string> = {};
			for (const line of lines) {
				if (quantityOf(cart, line.productId) === line.quantity) continue;
				try {
					cart = await this.#api.carts.setQuantity(this.#key(cart), line.productId, line.quantity);
				} catch (error) {
					const fallback = `${line.name} could not be put back in your cart.`;
					refused[line.productId] =
						error instanceof ApiError ? problemMessage(error.body, fallback, { [line.productId]: line.name }) : fallback;
				}
			}
			if (cart.items.length > 0) cart = await this.#api.carts.setShipping(this.#key(cart), shipping);
			return { cart: this.#take(cart), refused };
		});
	}

	/** A pushed version of the cart (`cart.updated`): taken unless an answer already brought a newer one. */
	replace(cart: Cart): void {
		const current = this.value.cart;
		if (current?.id !== cart.id || Date.parse(cart.updatedAt) < Date.parse(current.updatedAt)) return;
		this.#take(cart);
	}

	async #fetch(owner: CartOwner): Promise<Cart | null> {
		if (owner === "admin") return null;
		const guest = this.#guestKey();
		if (owner === "customer") {
			// A secret that names no open guest cart (merged already, checked out) merges nothing.
			const cart = await this.#api.carts.open(guest?.secret);
			this.#storage.removeItem(GUEST_CART_KEY);
			return cart;
		}
		if (!guest) return null;
		try {
			return await this.#api.carts.get(guest);
		} catch (error) {
			// Checked out, or merged: the next item starts a new cart.
			if (!isGone(error)) throw error;
			this.#storage.removeItem(GUEST_CART_KEY);
			return null;
		}
	}

	/** The cart to put the first item in: a guest's is kept by its secret from now on. */
	async #open(): Promise<Cart> {
		const { secret, ...cart } = await this.#api.carts.open();
		if (this.#owner === "guest" && secret) this.#storage.setItem(GUEST_CART_KEY, JSON.stringify({ id: cart.id, secret }));
		return cart;
	}

	#guestKey(): GuestCartKey | null {
		return parseGuestCartKey(this.#storage.getItem(GUEST_CART_KEY));
	}

	#key(cart: Cart): CartKey {
		const guest = this.#owner === "guest" ? this.#guestKey() : null;
		return guest?.id === cart.id ? guest : { id: cart.id };
	}

	#current(): Cart {
		const cart = this.value.cart;
		if (!cart) throw new ApiError(404, { name: "NotFound", message: "Your cart is empty.", code: 404 });
		return cart;
	}

	#change(request: (key: CartKey) => Promise<Cart>): Promise<Cart> {
		return this.#run(async () => {
			try {
				return this.#take(await request(this.#key(this.#current())));
			} catch (error) {
				// The cart on show was closed elsewhere: show the one there is now, and let the caller say so.
				if (isGone(error)) this.set({ cart: await this.#fetch(this.#owner), receivedAt: Date.now(), loading: false, error: null });
				throw error;
			}
		});
	}

	#take(cart: Cart): Cart {
		this.set({ cart, receivedAt: Date.now(), loading: false, error: null });
		return cart;
	}

	/** Runs `task` after every change asked for before it, whether those succeeded or not. */
	#run<T>(task: () => Promise<T>): Promise<T> {
		const result = this.#queue.then(task);
		this.#queue = result.catch(() => undefined);
		return result;
	}
}
