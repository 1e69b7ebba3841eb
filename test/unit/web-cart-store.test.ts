import { ApiClient } from "../../frontend/src/api/client";
import type { Cart } from "../../frontend/src/api/types";
import { CartStore } from "../../frontend/src/state/cart";

/** localStorage as the store uses it. */
class MemoryStorage {
	readonly items = new Map<string, string>();
	getItem(key: string): string | null {
		return this.items.get(key) ?? null;
	}
	setItem(key: string, value: string): void {
		this.items.set(key, value);
	}
	removeItem(key: string): void {
		this.items.delete(key);
	}
}

interface Sent {
	method: string;
	path: string;
	headers: Record<string, string>;
	body: unknown;
}

const cart = (id: string, items: { productId: string; quantity: number }[], updatedAt = "2026-12-07T12:00:00.000Z"): Cart => ({
	id,
	items: items.map((line) => ({ ...line, name: line.productId, price: 100, available: 10 })),
	subtotal: 0,
	shipping: null,
	tax: null,
	total: 0,
	currency: "USD",
	hold: null,
	updatedAt,
});

/** A carts API of a few rules, recording what the store sends. */
function fakeShop() {
	const sent: Sent[] = [];
	const carts = new Map<string, Cart>();
	let next = 1;
	const answer = (status: number, body: unknown) => new Response(JSON.stringify(body), { status });
	const fetch = async (url: string, init: RequestInit) => {
		const headers = init.headers as Record<string, string>;
		const request = { method: init.method ?? "GET", path: url, headers, body: init.body ? JSON.parse(String(init.body)) : undefined };
		sent.push(request);
		if (request.method === "POST" && url === "/api/carts") {
			const id = headers.authorization ? "account" : `guest-${next++}`;
			const open = carts.get(id) ?? cart(id, []);
			const guest = headers["cart-secret"] ? carts.get(headers["cart-secret"].replace("secret-", "")) : undefined;
			if (guest) open.items.push(...guest.items);
			carts.set(id, open);
			return answer(201, headers.authorization ? open : { ...open, secret: `secret-${id}` });
		}
		const item = /^\/api\/carts\/([^/]+)\/items\/([^/]+)$/.exec(url);
		const found = carts.get(/^\/api\/carts\/([^/]+)/.exec(url)?.[1] ?? "");
		if (!found) return answer(404, { name: "NotFound", message: "Cart not found", code: 404, type: "CART_NOT_FOUND" });
		if (item) {
			const quantity = (request.body as { quantity: number }).quantity;
			found.items = [
				...found.items.filter((line) => line.productId !== item[2]),
				...cart("x", [{ productId: item[2] ?? "", quantity }]).items,
			];
		}
		return answer(200, found);
	};
	return { sent, carts, fetch };
}

let shop: ReturnType<typeof fakeShop>;
let token: string | null;
let storage: MemoryStorage;
let store: CartStore;

beforeEach(() => {
	shop = fakeShop();
	globalThis.fetch = shop.fetch as typeof globalThis.fetch;
	token = null;
	storage = new MemoryStorage();
	store = new CartStore(new ApiClient({ token: () => token }), storage as unknown as Storage);
});

describe("the web app's cart store", () => {
	it("opens a guest cart with the first item and names it by its secret from then on; quick adds each count", async () => {
		await store.load("guest");
		expect(store.cart).toBeNull();
		expect(shop.sent).toEqual([]);
		await Promise.all([store.add("tea", 1), store.add("tea", 1), store.add("mug", 2)]);
		expect(store.cart?.items.map((line) => [line.productId, line.quantity])).toEqual([
			["tea", 2],
			["mug", 2],
		]);
		expect(JSON.parse(storage.getItem("agora.cart") ?? "")).toEqual({ id: "guest-1", secret: "secret-guest-1" });
		expect(shop.sent.filter((request) => request.method === "POST")).toHaveLength(1);
		expect(shop.sent.at(-1)?.headers["cart-secret"]).toBe("secret-guest-1");
	});

	it("moves a guest cart into the account's on sign-in, and forgets the guest cart", async () => {
		await store.add("tea", 1);
		token = "customer-token";
		await store.load("customer");
		const merge = shop.sent.at(-1);
		expect(merge).toMatchObject({ method: "POST", path: "/api/carts" });
		expect(merge?.headers).toMatchObject({ authorization: "Bearer customer-token", "cart-secret": "secret-guest-1" });
		expect(store.cart?.id).toBe("account");
		expect(store.cart?.items.map((line) => line.productId)).toEqual(["tea"]);
		expect(storage.getItem("agora.cart")).toBeNull();
	});

	it("starts afresh when the saved guest cart is gone, and puts an item in a new cart when the one on show was closed", async () => {
		storage.setItem("agora.cart", JSON.stringify({ id: "checked-out", secret: "s" }));
		await store.load("guest");
		expect(store.value).toMatchObject({ cart: null, loading: false, error: null });
		expect(storage.getItem("agora.cart")).toBeNull();

		await store.add("tea", 1);
		shop.carts.clear();
		await store.add("mug", 1);
		expect(store.cart?.id).toBe("guest-2");
		expect(store.cart?.items.map((line) => line.productId)).toEqual(["mug"]);
	});

	it("takes a pushed cart only when it is the one on show and not older than what it has", async () => {
		token = "customer-token";
		await store.load("customer");
		store.replace(cart("someone-else", [{ productId: "tea", quantity: 1 }]));
		store.replace(cart("account", [{ productId: "tea", quantity: 1 }], "2026-12-07T11:00:00.000Z"));
		expect(store.cart?.items).toEqual([]);
		store.replace(cart("account", [{ productId: "tea", quantity: 3 }], "2026-12-07T12:00:01.000Z"));
		expect(store.cart?.items.map((line) => line.quantity)).toEqual([3]);
	});

	it("has no cart for an admin", async () => {
		token = "admin-token";
		await store.load("admin");
		expect(store.value).toMatchObject({ cart: null, loading: false });
		expect(shop.sent).toEqual([]);
	});
});
