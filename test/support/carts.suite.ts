import type { Agora } from "./agora";
import { ADDRESS, createProduct, GOOD_CARD, orderReaches, stockOf } from "./commerce.suite";
import { adminToken, type Client, client, type Json, newCustomer } from "./http";
import { type Listener, listen } from "./sockets";
import { eventually } from "./wait";

/** Short enough that the suite sees a hold expire, long enough that a hold outlives the requests right after it. */
export const CART_ENV = { HOLD_TTL_SECONDS: "8" };

const GERMANY = { ...ADDRESS, country: "DE" };

/** A shopper's calls of one cart, as the web app makes them: a guest sends the cart's secret, a customer the token. */
export interface Shopper {
	cart: Json;
	headers: Record<string, string>;
	token?: string;
	get(): Promise<Json>;
	set(productId: string, quantity: number): Promise<{ status: number; body: Json }>;
	ship(body: object): Promise<{ status: number; body: Json }>;
	hold(): Promise<{ status: number; body: Json }>;
	checkout(body: object, headers?: Record<string, string>): Promise<{ status: number; body: Json }>;
}

function shopper(api: Client, cart: Json, auth: { secret?: string; token?: string }): Shopper {
	const headers: Record<string, string> = auth.secret ? { "Cart-Secret": auth.secret } : {};
	const options = (extra: Record<string, string> = {}) => ({ token: auth.token, headers: { ...headers, ...extra } });
	const path = `/carts/${cart.id}`;
	return {
		cart,
		headers,
		token: auth.token,
		get: async () => (await api.get(path, options())).body,
		set: (productId, quantity) => api.request("PUT", `${path}/items/${productId}`, { ...options(), body: { quantity } }),
		ship: (body) => api.request("PUT", `${path}/shipping`, { ...options(), body }),
		hold: () => api.post(`${path}/hold`, undefined, options()),
		checkout: (body, extra) => api.post(`${path}/checkout`, body, options(extra)),
	};
}

export async function guestShopper(api: Client): Promise<Shopper> {
	const res = await api.post("/carts");
	if (res.status !== 201) throw new Error(`POST /carts failed: ${res.status} ${JSON.stringify(res.body)}`);
	return shopper(api, res.body, { secret: res.body.secret });
}

export async function customerShopper(api: Client, token: string): Promise<Shopper> {
	const res = await api.post("/carts", undefined, { token });
	if (res.status !== 201 && res.status !== 200) throw new Error(`POST /carts failed: ${res.status} ${JSON.stringify(res.body)}`);
	return shopper(api, res.body, { token });
}

/** A guest who has one product in the cart and shipping chosen, ready to hold and check out. */
export async function readyGuest(api: Client, productId: string, quantity = 1, email?: string): Promise<Shopper> {
	const guest = await guestShopper(api);
	const set = await guest.set(productId, quantity);
	if (set.status !== 200) throw new Error(`adding to the cart failed: ${set.status} ${JSON.stringify(set.body)}`);
	const shipped = await guest.ship({ address: GERMANY, method: "standard", ...(email ? { email } : {}) });
	if (shipped.status !== 200) throw new Error(`shipping failed: ${shipped.status} ${JSON.stringify(shipped.body)}`);
	return guest;
}

/** The carts and checkout rows of the REST contract: owners, lines, shipping and tax, holds, guest checkout, the sign-in merge. Start with CART_ENV. */
export function cartsSuite(agora: () => Agora): void {
	let api: Client;
	let admin: string;
	const sockets: Listener[] = [];

	beforeAll(async () => {
		api = client(agora().url);
		admin = await adminToken(api);
	});

	afterEach(() => {
		for (const socket of sockets.splice(0)) socket.close();
	});

	describe("a guest's cart", () => {
		test("is made with a secret, and nobody without that secret finds it", async () => {
			const guest = await guestShopper(api);
			expect(guest.cart).toMatchObject({ items: [], subtotal: 0, shipping: null, tax: null, total: 0, hold: null, currency: "USD" });
			expect(guest.cart.secret).toEqual(expect.any(String));
			expect(await guest.get()).toMatchObject({ id: guest.cart.id, items: [] });
			expect((await guest.get()).secret).toBeUndefined();

			const path = `/carts/${guest.cart.id}`;
			const stranger = await newCustomer(api, "Cart Stranger");
			for (const options of [{}, { headers: { "Cart-Secret": "not-the-secret" } }, { token: stranger.token }]) {
				const res = await api.get(path, options);
				expect(res.status).toBe(404);
				expect(res.body.type).toBe("CART_NOT_FOUND");
			}
			expect((await api.request("PUT", `${path}/items/anything`, { body: { quantity: 1 } })).status).toBe(404);
		});

		test("lines show the product's name, current price and what is available; 0 removes a line", async () => {
			const kettle = await createProduct(api, admin, { name: "Cart Kettle", price: 2500, stock: 7 });
			const guest = await guestShopper(api);
			const res = await guest.set(kettle.id, 2);
			expect(res.status).toBe(200);
			expect(res.body.items).toEqual([{ productId: kettle.id, name: "Cart Kettle", price: 2500, quantity: 2, available: 7 }]);
			expect(res.body).toMatchObject({ subtotal: 5000, total: 5000 });

			await api.patch(`/products/${kettle.id}`, { price: 2700 }, { token: admin });
			expect((await guest.get()).items[0]).toMatchObject({ price: 2700, quantity: 2 });
			expect((await guest.get()).subtotal).toBe(5400);

			expect((await guest.set(kettle.id, 0)).body.items).toEqual([]);
		});

		test("an unknown product is 404, more than is available 409 OUT_OF_STOCK naming it; neither changes the cart", async () => {
			const mug = await createProduct(api, admin, { name: "Cart Mug", stock: 3 });
			const guest = await guestShopper(api);
			await guest.set(mug.id, 1);

			const unknown = await guest.set("no-such-product", 1);
			expect(unknown.status).toBe(404);
			expect(unknown.body.type).toBe("PRODUCT_NOT_FOUND");

			const tooMany = await guest.set(mug.id, 4);
			expect(tooMany.status).toBe(409);
			expect(tooMany.body).toMatchObject({ type: "OUT_OF_STOCK", data: { productId: mug.id, available: 3, field: "quantity" } });
			expect(tooMany.body.message).toContain("Cart Mug");

			const invalid = await guest.set(mug.id, -1);
			expect(invalid.status).toBe(422);
			expect(invalid.body.data[0].field).toBe("quantity");
			expect((await guest.get()).items).toEqual([expect.objectContaining({ productId: mug.id, quantity: 1 })]);
		});
	});

	describe("shipping and tax", () => {
		test("the methods that ship to a country, with their price there", async () => {
			const res = await api.get("/shipping/methods?country=DE");
			expect(res.status).toBe(200);
			expect(res.body).toEqual([
				{ id: "standard", name: "Standard", price: 900, currency: "USD", days: "3-5" },
				{ id: "express", name: "Express", price: 2500, currency: "USD", days: "1-2" },
			]);
			expect((await api.get("/shipping/methods?country=JP")).body).toEqual([]);
			expect((await api.get("/shipping/methods?country=Germany")).status).toBe(422);
		});

		test("tax is the country's rate on items plus shipping, rounded half up to the cent", async () => {
			const sticker = await createProduct(api, admin, { name: "Cart Sticker", price: 75, stock: 10 });
			const guest = await guestShopper(api);
			await guest.set(sticker.id, 2);
			const res = await guest.ship({ address: GERMANY, method: "standard", email: "tax@example.com" });
			expect(res.status).toBe(200);
			// 19 % of (150 + 900) is 199.5 cents: 200.
			expect(res.body).toMatchObject({
				subtotal: 150,
				shipping: { method: "standard", name: "Standard", price: 900 },
				tax: { country: "DE", rate: 1900, amount: 200 },
				total: 1250,
				email: "tax@example.com",
			});
		});

		test("an unknown method, a method that does not ship there, or a country nothing ships to is 422 naming the field", async () => {
			const guest = await guestShopper(api);
			const unknown = await guest.ship({ address: GERMANY, method: "overnight" });
			expect(unknown.status).toBe(422);
			expect(unknown.body.data[0].field).toBe("method");
			const nowhere = await guest.ship({ address: { ...GERMANY, country: "JP" }, method: "standard" });
			expect(nowhere.status).toBe(422);
			expect(nowhere.body.data[0].field).toBe("address.country");
			expect(await guest.get()).toMatchObject({ shipping: null, tax: null });
		});
	});

	describe("holds", () => {
		test("a hold keeps the cart's units from others until it expires; asking again extends it", async () => {
			const teapot = await createProduct(api, admin, { name: "Held Teapot", stock: 5 });
			const guest = await guestShopper(api);
			await guest.set(teapot.id, 2);
			const held = await guest.hold();
			expect(held.status).toBe(200);
			expect(held.body.hold).toEqual({ expiresAt: expect.any(String), seconds: expect.any(Number) });
			expect(held.body.hold.seconds).toBeGreaterThan(0);
			expect(await stockOf(api, teapot.id)).toMatchObject({ available: 3, reserved: 0, held: 2 });
			// The cart's own held units count as available to it.
			expect(held.body.items[0]).toMatchObject({ quantity: 2, available: 5 });

			const again = await guest.hold();
			expect(Date.parse(again.body.hold.expiresAt)).toBeGreaterThan(Date.parse(held.body.hold.expiresAt));
			expect(await stockOf(api, teapot.id)).toMatchObject({ available: 3, held: 2 });

			// A held cart that grows holds the new quantity, or is refused and changes nothing.
			expect((await guest.set(teapot.id, 3)).body.items[0]).toMatchObject({ quantity: 3, available: 5 });
			expect(await stockOf(api, teapot.id)).toMatchObject({ available: 2, held: 3 });
			expect((await guest.set(teapot.id, 6)).status).toBe(409);
			expect(await stockOf(api, teapot.id)).toMatchObject({ available: 2, held: 3 });
		});

		test("a hold that cannot be had is 409 OUT_OF_STOCK naming the product, and holds nothing", async () => {
			const lamp = await createProduct(api, admin, { name: "Last Lamp", stock: 1 });
			const first = await guestShopper(api);
			const second = await guestShopper(api);
			await first.set(lamp.id, 1);
			await second.set(lamp.id, 1);
			expect((await first.hold()).status).toBe(200);
			const refused = await second.hold();
			expect(refused.status).toBe(409);
			expect(refused.body).toMatchObject({ type: "OUT_OF_STOCK", data: { productId: lamp.id, name: "Last Lamp" } });
			expect(refused.body.message).toContain("Last Lamp");
			expect((await second.get()).hold).toBeNull();
			expect(await stockOf(api, lamp.id)).toMatchObject({ available: 0, held: 1 });
		});

		test("an empty cart has nothing to hold: 409 CART_EMPTY", async () => {
			const res = await (await guestShopper(api)).hold();
			expect(res.status).toBe(409);
			expect(res.body.type).toBe("CART_EMPTY");
		});

		test("at expiry the units go back by a ledger line, the cart says hold null, and its signed-in owner is told", async () => {
			const vase = await createProduct(api, admin, { name: "Expiring Vase", stock: 3 });
			const ann = await newCustomer(api, "Hold Ann");
			const socket = await listen(agora().url, ann.token);
			sockets.push(socket);
			const cart = await customerShopper(api, ann.token);
			await cart.set(vase.id, 2);
			const { hold } = (await cart.hold()).body;
			expect(hold).not.toBeNull();

			// The push that says the units are back. Pushes from before the expiry (the stock events of
			// the product's creation and of the hold) show the cart as it was then.
			const told = await eventually(
				async () => {
					const arrivals = socket.arrivals("cart.updated");
					const pushed = socket.received<Json>("cart.updated").filter((_, n) => (arrivals[n] ?? 0) >= Date.parse(hold.expiresAt));
					expect(pushed.length).toBeGreaterThan(0);
					return pushed[pushed.length - 1] as Json;
				},
				{ timeoutMs: 60_000 },
			);
			expect(told).toMatchObject({ id: cart.cart.id, hold: null });
			expect(told.items[0]?.available).toBe(3);
			expect(told.items).toEqual([expect.objectContaining({ productId: vase.id, quantity: 2 })]);
			expect((await cart.get()).hold).toBeNull();
			await eventually(async () => expect(await stockOf(api, vase.id)).toMatchObject({ available: 3, held: 0 }));
			const moves = (await api.get(`/inventory/${vase.id}/movements`, { token: admin })).body;
			expect(moves[0]).toMatchObject({ kind: "unhold", delta: 2, heldDelta: -2, reason: "hold expired" });
		});
	});

	describe("cart.updated", () => {
		test("a signed-in owner is told when a line's price or availability changes; nobody else is", async () => {
			const jar = await createProduct(api, admin, { name: "Live Jar", price: 1000, stock: 9 });
			const [bea, cy] = [await newCustomer(api, "Live Bea"), await newCustomer(api, "Live Cy")];
			const beaSocket = await listen(agora().url, bea.token);
			const cySocket = await listen(agora().url, cy.token);
			sockets.push(beaSocket, cySocket);
			const cart = await customerShopper(api, bea.token);
			await cart.set(jar.id, 1);

			await api.patch(`/products/${jar.id}`, { price: 1200 }, { token: admin });
			const priced = await beaSocket.waitFor<Json>("cart.updated", (pushed) => pushed.items[0]?.price === 1200);
			expect(priced).toMatchObject({ id: cart.cart.id, subtotal: 1200 });

			await api.post(`/inventory/${jar.id}/adjust`, { set: 4, reason: "recount" }, { token: admin });
			await beaSocket.waitFor<Json>("cart.updated", (pushed) => pushed.items[0]?.available === 4);
			expect(cySocket.received("cart.updated")).toEqual([]);
		});
	});

	describe("checkout", () => {
		test("a guest checks out with an email: 201 with an access token that reads that order and nothing else", async () => {
			const pot = await createProduct(api, admin, { name: "Guest Pot", price: 1500, stock: 4 });
			const guest = await readyGuest(api, pot.id, 2);
			await guest.hold();

			const noEmail = await guest.checkout({ payment: { cardNumber: GOOD_CARD } });
			expect(noEmail.status).toBe(422);
			expect(noEmail.body.data[0].field).toBe("email");
			expect(await stockOf(api, pot.id)).toMatchObject({ held: 2, reserved: 0 });

			const res = await guest.checkout(
				{ payment: { cardNumber: GOOD_CARD }, email: "guest@example.com" },
				{ "Idempotency-Key": "guest-1" },
			);
			expect(res.status).toBe(201);
			const order = res.body;
			// 2 x 15.00 + 9.00 shipping, 19 % tax on 39.00 = 7.41
			expect(order).toMatchObject({ userId: null, email: "guest@example.com", subtotal: 3000, total: 4641, status: "pending" });
			expect(order.tax).toEqual({ country: "DE", rate: 1900, amount: 741 });
			expect(order.accessToken).toEqual(expect.any(String));
			// The hold became the order's reservation.
			expect(await stockOf(api, pot.id)).toMatchObject({ available: 2, held: 0 });

			const confirmed = await eventually(async () => {
				const read = await api.get(`/orders/${order.id}`, { headers: { "Order-Token": order.accessToken } });
				expect(read.body.status).toBe("confirmed");
				return read.body;
			});
			expect(confirmed).toMatchObject({ id: order.id, email: "guest@example.com" });

			const other = await readyGuest(api, pot.id, 1, "other@example.com");
			const otherOrder = (await other.checkout({ payment: { cardNumber: GOOD_CARD } })).body;
			for (const token of [otherOrder.accessToken, "garbage"])
				expect((await api.get(`/orders/${order.id}`, { headers: { "Order-Token": token } })).status).toBe(404);

			// The cart is closed; the same checkout again answers the first order.
			expect((await api.get(`/carts/${guest.cart.id}`, { headers: guest.headers })).status).toBe(404);
			const repeated = await guest.checkout({ payment: { cardNumber: GOOD_CARD } }, { "Idempotency-Key": "guest-1" });
			expect(repeated.status).toBe(201);
			expect(repeated.body.id).toBe(order.id);
			expect((await guest.checkout({ payment: { cardNumber: GOOD_CARD } }, { "Idempotency-Key": "guest-2" })).status).toBe(404);
		});

		test("a guest follows the order live with its access token", async () => {
			const cup = await createProduct(api, admin, { name: "Live Cup", stock: 2 });
			const guest = await readyGuest(api, cup.id, 1, "live@example.com");
			const order = (await guest.checkout({ payment: { cardNumber: GOOD_CARD } })).body;
			await eventually(async () => {
				const read = await api.get(`/orders/${order.id}`, { headers: { "Order-Token": order.accessToken } });
				expect(read.body.status).toBe("confirmed");
			});
			const follower = await listen(agora().url, { orderToken: order.accessToken });
			sockets.push(follower);
			await api.request("PATCH", `/orders/${order.id}/status`, { token: admin, body: { status: "processing" } });
			const pushed = await follower.waitFor<Json>("order.updated", (update) => update.id === order.id);
			expect(pushed.status).toBe("processing");
		});

		test("checking out needs shipping first, and an empty cart has nothing to order", async () => {
			const plate = await createProduct(api, admin, { name: "Cart Plate", stock: 2 });
			const guest = await guestShopper(api);
			expect((await guest.checkout({ payment: { cardNumber: GOOD_CARD }, email: "a@example.com" })).body.type).toBe("CART_EMPTY");
			await guest.set(plate.id, 1);
			const unshipped = await guest.checkout({ payment: { cardNumber: GOOD_CARD }, email: "a@example.com" });
			expect(unshipped.status).toBe(422);
			expect(unshipped.body.data[0].field).toBe("shipping");
		});
	});

	describe("a signed-in customer's cart", () => {
		test("is one open cart, the same on every device: 201 the first time, 200 after", async () => {
			const dee = await newCustomer(api, "Cart Dee");
			const [first, second] = await Promise.all([
				api.post("/carts", undefined, { token: dee.token }),
				api.post("/carts", undefined, { token: dee.token }),
			]);
			expect([first.status, second.status].sort()).toEqual([200, 201]);
			expect(first.body.id).toBe(second.body.id);
			expect(first.body.secret).toBeUndefined();
			const again = await api.post("/carts", undefined, { token: dee.token });
			expect(again.status).toBe(200);
			expect(again.body.id).toBe(first.body.id);
		});

		test("signing in moves the guest's lines into it, capped at what is available, and closes the guest cart", async () => {
			const tea = await createProduct(api, admin, { name: "Merge Tea", stock: 6 });
			const whisk = await createProduct(api, admin, { name: "Merge Whisk", stock: 4 });
			const eve = await newCustomer(api, "Merge Eve");
			const account = await customerShopper(api, eve.token);
			await account.set(tea.id, 3);
			const guest = await guestShopper(api);
			await guest.set(tea.id, 5);
			await guest.set(whisk.id, 2);

			const merged = await api.post("/carts", undefined, { token: eve.token, headers: guest.headers });
			expect(merged.status).toBe(200);
			expect(merged.body.id).toBe(account.cart.id);
			const quantities = Object.fromEntries(merged.body.items.map((line: Json) => [line.productId, line.quantity]));
			expect(quantities).toEqual({ [tea.id]: 6, [whisk.id]: 2 });
			expect((await api.get(`/carts/${guest.cart.id}`, { headers: guest.headers })).status).toBe(404);

			// Said again (a second tab signing in), it merges nothing more.
			const again = await api.post("/carts", undefined, { token: eve.token, headers: guest.headers });
			expect(again.status).toBe(200);
			expect(again.body.items).toEqual(merged.body.items);
		});

		test("a first sign-in with a guest cart makes the account's cart from it (201)", async () => {
			const cake = await createProduct(api, admin, { name: "Merge Cake", stock: 3 });
			const fay = await newCustomer(api, "Merge Fay");
			const guest = await guestShopper(api);
			await guest.set(cake.id, 2);
			const res = await api.post("/carts", undefined, { token: fay.token, headers: guest.headers });
			expect(res.status).toBe(201);
			expect(res.body.items).toEqual([expect.objectContaining({ productId: cake.id, quantity: 2 })]);
		});

		test("checks out as the customer, and the next POST /carts is a new, empty cart", async () => {
			const bowl = await createProduct(api, admin, { name: "Own Bowl", stock: 3 });
			const gus = await newCustomer(api, "Cart Gus");
			const cart = await customerShopper(api, gus.token);
			await cart.set(bowl.id, 1);
			await cart.ship({ address: GERMANY, method: "express" });
			const res = await cart.checkout({ payment: { cardNumber: GOOD_CARD } });
			expect(res.status).toBe(201);
			expect(res.body).toMatchObject({ userId: gus.id, shipping: { method: "express", price: 2500 } });
			expect(res.body.accessToken).toBeUndefined();
			await orderReaches(api, gus.token, res.body.id, "confirmed");
			const next = await api.post("/carts", undefined, { token: gus.token });
			expect(next.status).toBe(201);
			expect(next.body).toMatchObject({ items: [] });
			expect(next.body.id).not.toBe(cart.cart.id);
		});
	});

	test("a flash sale: 16 shoppers hold and buy the last 5 units at once; none is oversold, every unit is sold or back", async () => {
		const stock = 5;
		const drop = await createProduct(api, admin, { name: "Flash Sale Drop", stock });
		const shoppers = await Promise.all(Array.from({ length: 16 }, (_, n) => readyGuest(api, drop.id, 1, `flash-${n}@example.com`)));
		const outcomes = await Promise.all(
			shoppers.map(async (shopper) => {
				const hold = await shopper.hold();
				if (hold.status !== 200) return { hold: hold.status, order: null };
				const order = await shopper.checkout({ payment: { cardNumber: GOOD_CARD } });
				return { hold: hold.status, order: order.status === 201 ? order.body : null, refused: order.status };
			}),
		);
		const orders = outcomes.flatMap((outcome) => (outcome.order ? [outcome.order] : []));
		expect(outcomes.filter((outcome) => outcome.hold === 409).length).toBeGreaterThanOrEqual(16 - stock);
		expect(orders.length).toBeGreaterThan(0);
		expect(orders.length).toBeLessThanOrEqual(stock);
		for (const order of orders) await orderReaches(api, admin, order.id, "confirmed");
		await eventually(async () => {
			expect(await stockOf(api, drop.id)).toMatchObject({ available: stock - orders.length, reserved: 0, held: 0 });
		});
	});
}
