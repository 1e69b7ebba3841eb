import type { Agora } from "./agora";
import { adminToken, type Client, client, type Json, newCustomer } from "./http";
import { eventually } from "./wait";

export const GOOD_CARD = "4242424242424242";
export const DECLINED_CARD = "4000000000000002";

export const ADDRESS = { name: "Ann Shopper", line1: "1 Market Street", city: "Springfield", postalCode: "12345", country: "US" };

export function orderBody(items: { productId: string; quantity: number }[], cardNumber = GOOD_CARD) {
	return { items, shippingAddress: ADDRESS, payment: { cardNumber } };
}

let skuCounter = 0;

/** Creates a product through the admin API and returns it. */
export async function createProduct(api: Client, admin: string, fields: Record<string, unknown> = {}): Promise<Json> {
	const res = await api.post(
		"/products",
		{
			name: "Test Kettle",
			sku: `T-${Date.now()}-${skuCounter++}`,
			price: 2500,
			category: "brewing",
			stock: 10,
			lowStockThreshold: 2,
			...fields,
		},
		{ token: admin },
	);
	if (res.status !== 201) throw new Error(`create product failed: ${res.status} ${JSON.stringify(res.body)}`);
	return res.body;
}

export async function stockOf(api: Client, productId: string): Promise<{ available: number; reserved: number }> {
	return (await api.get(`/inventory/${productId}`)).body;
}

/** Waits until the order reaches a status its saga leads to, and returns it. */
export async function orderReaches(api: Client, token: string, id: string, status: string): Promise<Json> {
	return eventually(async () => {
		const res = await api.get(`/orders/${id}`, { token });
		if (res.body.status !== status) throw new Error(`order ${id} is ${res.body.status}, waiting for ${status}`);
		return res.body;
	});
}

/** Units the ledger says are available: every movement's change summed. */
async function ledgerAvailable(api: Client, admin: string, productId: string): Promise<number> {
	const moves = await api.get(`/inventory/${productId}/movements?limit=500`, { token: admin });
	return moves.body.reduce((sum: number, move: { delta: number }) => sum + move.delta, 0);
}

/** The catalogue, inventory, orders and payments rows of the REST contract, with the saga behind them. */
export function commerceSuite(agora: () => Agora): void {
	let api: Client;
	let admin: string;
	let ann: { token: string; id: string };
	let bob: { token: string; id: string };

	beforeAll(async () => {
		api = client(agora().url);
		admin = await adminToken(api);
		ann = await newCustomer(api, "Ann");
		bob = await newCustomer(api, "Bob");
	});

	describe("products", () => {
		test("an admin creates a product with initial stock; anyone reads it with its stock", async () => {
			const product = await createProduct(api, admin, { name: "Cast Iron Teapot", price: 4599, stock: 7, description: "Keeps tea hot" });
			expect(product).toMatchObject({ name: "Cast Iron Teapot", price: 4599, currency: "USD", stock: 7 });
			const res = await api.get(`/products/${product.id}`);
			expect(res.status).toBe(200);
			expect(res.body).toMatchObject({ id: product.id, stock: 7 });
			expect(await stockOf(api, product.id)).toMatchObject({ available: 7, reserved: 0, lowStockThreshold: 2 });
		});

		test("creating needs an admin: no token 401, a customer 403", async () => {
			expect((await api.post("/products", { name: "X", sku: "NOPE-1", price: 1, category: "x" })).status).toBe(401);
			const res = await api.post("/products", { name: "X", sku: "NOPE-1", price: 1, category: "x" }, { token: ann.token });
			expect(res.status).toBe(403);
		});

		test("an invalid product is 422 naming each bad field, and nothing is made", async () => {
			const res = await api.post(
				"/products",
				{ name: "", sku: "bad sku!", price: 12.5, category: "tea", imageUrl: "javascript:alert(1)" },
				{ token: admin },
			);
			expect(res.status).toBe(422);
			const fields = res.body.data.map((e: { field: string }) => e.field).sort();
			expect(fields).toEqual(["imageUrl", "name", "price", "sku"]);
			expect((await api.get("/products?q=bad sku")).body.total).toBe(0);
		});

		test("a duplicate SKU is 409", async () => {
			const first = await createProduct(api, admin);
			const res = await api.post("/products", { name: "Copy", sku: first.sku, price: 100, category: "tea" }, { token: admin });
			expect(res.status).toBe(409);
			expect(res.body.type).toBe("SKU_TAKEN");
		});

		test("list searches name and description, filters by category, sorts and pages", async () => {
			const tag = `zq${Date.now()}`;
			await createProduct(api, admin, { name: `${tag} Cheap`, price: 100, category: "gadgets" });
			await createProduct(api, admin, { name: "Dear one", description: `really ${tag}`, price: 900, category: "gadgets" });
			await createProduct(api, admin, { name: `${tag} Other`, price: 500, category: "tea" });
			const found = await api.get(`/products?q=${tag.toUpperCase()}&sort=-price`);
			expect(found.status).toBe(200);
			expect(found.body.rows.map((p: { price: number }) => p.price)).toEqual([900, 500, 100]);
			const gadgets = await api.get(`/products?q=${tag}&category=gadgets&sort=price&pageSize=1&page=2`);
			expect(gadgets.body).toMatchObject({ total: 2, page: 2, pageSize: 1, totalPages: 2 });
			expect(gadgets.body.rows).toHaveLength(1);
			expect(gadgets.body.rows[0]).toMatchObject({ price: 900 });
			expect(typeof gadgets.body.rows[0].stock).toBe("number");
		});

		test("pageSize over 100 and an unknown sort are 422", async () => {
			const res = await api.get("/products?pageSize=101&sort=random");
			expect(res.status).toBe(422);
			expect(res.body.data.map((e: { field: string }) => e.field).sort()).toEqual(["pageSize", "sort"]);
		});

		test("PATCH changes fields and the cached list shows it at once; stock cannot be patched", async () => {
			const product = await createProduct(api, admin, { name: `Patchable ${Date.now()}` });
			await api.get(`/products?q=${encodeURIComponent(product.name)}`);
			const res = await api.patch(`/products/${product.id}`, { price: 3100, name: `${product.name} v2` }, { token: admin });
			expect(res.status).toBe(200);
			expect(res.body).toMatchObject({ price: 3100, stock: 10 });
			const listed = await api.get(`/products?q=${encodeURIComponent(`${product.name} v2`)}`);
			expect(listed.body.rows[0]).toMatchObject({ id: product.id, price: 3100 });
			const stock = await api.patch(`/products/${product.id}`, { stock: 99 }, { token: admin });
			expect(stock.status).toBe(422);
			expect(stock.body.data[0].field).toBe("stock");
		});

		test("DELETE removes it; unknown ids are 404", async () => {
			const product = await createProduct(api, admin);
			expect((await api.delete(`/products/${product.id}`, { token: admin })).status).toBe(204);
			expect((await api.get(`/products/${product.id}`)).status).toBe(404);
			expect((await api.patch(`/products/${product.id}`, { price: 1 }, { token: admin })).status).toBe(404);
			expect((await api.delete("/products/no-such-id", { token: admin })).status).toBe(404);
		});

		test("a deleted product's stock is gone too: its level and its movements are 404, and it is not on the low-stock list", async () => {
			const product = await createProduct(api, admin, { stock: 1, lowStockThreshold: 3 });
			expect((await api.get(`/inventory/${product.id}/movements`, { token: admin })).status).toBe(200);
			expect((await api.delete(`/products/${product.id}`, { token: admin })).status).toBe(204);
			// Inventory hears of the deletion through product.deleted, a moment later.
			await eventually(async () => expect((await api.get(`/inventory/${product.id}`)).status).toBe(404));
			const stock = await api.get(`/inventory/${product.id}`);
			expect(stock.body).toMatchObject({ type: "PRODUCT_NOT_FOUND", data: { productId: product.id } });
			expect((await api.get(`/inventory/${product.id}/movements`, { token: admin })).status).toBe(404);
			expect((await api.post(`/inventory/${product.id}/adjust`, { delta: 1, reason: "late delivery" }, { token: admin })).status).toBe(404);
			const low = await api.get("/inventory/low-stock", { token: admin });
			expect(low.body.map((level: { productId: string }) => level.productId)).not.toContain(product.id);
		});
	});

	describe("inventory", () => {
		test("an admin adjusts by delta or to a set value, with a reason, into the ledger", async () => {
			const product = await createProduct(api, admin, { stock: 5 });
			const plus = await api.post(`/inventory/${product.id}/adjust`, { delta: 3, reason: "delivery" }, { token: admin });
			expect(plus.status).toBe(200);
			expect(plus.body.available).toBe(8);
			const set = await api.post(`/inventory/${product.id}/adjust`, { set: 2, reason: "stocktake" }, { token: admin });
			expect(set.body.available).toBe(2);
			const moves = await api.get(`/inventory/${product.id}/movements`, { token: admin });
			expect(moves.body.map((m: { reason: string }) => m.reason)).toEqual(["stocktake", "delivery", "new product"]);
			expect(await ledgerAvailable(api, admin, product.id)).toBe(2);
		});

		test("an adjustment below zero is 409 and changes nothing", async () => {
			const product = await createProduct(api, admin, { stock: 2 });
			const res = await api.post(`/inventory/${product.id}/adjust`, { delta: -3, reason: "breakage" }, { token: admin });
			expect(res.status).toBe(409);
			expect((await stockOf(api, product.id)).available).toBe(2);
		});

		test("adjust needs a reason and exactly one of delta/set; customers get 403; unknown products 404", async () => {
			const product = await createProduct(api, admin);
			expect((await api.post(`/inventory/${product.id}/adjust`, { delta: 1 }, { token: admin })).status).toBe(422);
			expect((await api.post(`/inventory/${product.id}/adjust`, { delta: 1, set: 4, reason: "x" }, { token: admin })).status).toBe(422);
			expect((await api.post(`/inventory/${product.id}/adjust`, { delta: 1, reason: "x" }, { token: ann.token })).status).toBe(403);
			expect((await api.post("/inventory/nope/adjust", { delta: 1, reason: "x" }, { token: admin })).status).toBe(404);
			expect((await api.get("/inventory/nope")).status).toBe(404);
		});

		test("low-stock lists products at or under their threshold, for admins only", async () => {
			const product = await createProduct(api, admin, { stock: 1, lowStockThreshold: 3 });
			const res = await api.get("/inventory/low-stock", { token: admin });
			expect(res.status).toBe(200);
			expect(res.body).toEqual(expect.arrayContaining([expect.objectContaining({ productId: product.id, available: 1 })]));
			expect((await api.get("/inventory/low-stock", { token: ann.token })).status).toBe(403);
		});
	});

	describe("orders and the payment saga", () => {
		test("a paid order is confirmed, priced from the catalogue; client prices and owners are ignored", async () => {
			const product = await createProduct(api, admin, { price: 1999, stock: 5 });
			const res = await api.post(
				"/orders",
				{ ...orderBody([{ productId: product.id, quantity: 2, price: 1 } as never]), total: 2, userId: bob.id, status: "delivered" },
				{ token: ann.token },
			);
			expect(res.status).toBe(201);
			expect(res.headers.get("location")).toBe(`/api/orders/${res.body.id}`);
			expect(res.body).toMatchObject({ userId: ann.id, status: "pending", total: 3998, currency: "USD" });
			expect(res.body.items).toEqual([{ productId: product.id, name: product.name, price: 1999, quantity: 2 }]);
			const confirmed = await orderReaches(api, ann.token, res.body.id, "confirmed");
			expect(confirmed.history.map((h: { status: string }) => h.status)).toEqual(["pending", "confirmed"]);
			expect(confirmed.paymentStatus).toBe("paid");
			// Inventory commits the reserved units when it hears of the confirmation, a moment later.
			await eventually(async () => expect(await stockOf(api, product.id)).toMatchObject({ available: 3, reserved: 0 }));
			const payments = await api.get(`/payments?orderId=${res.body.id}`, { token: ann.token });
			expect(payments.body).toEqual([
				expect.objectContaining({ orderId: res.body.id, amount: 3998, status: "succeeded", cardLast4: "4242" }),
			]);
			expect(JSON.stringify(payments.body)).not.toContain(GOOD_CARD);
		});

		test("a declined card fails the order and restores the stock", async () => {
			const product = await createProduct(api, admin, { stock: 4 });
			const res = await api.post("/orders", orderBody([{ productId: product.id, quantity: 3 }], DECLINED_CARD), { token: ann.token });
			expect(res.status).toBe(201);
			const failed = await orderReaches(api, ann.token, res.body.id, "failed");
			expect(failed.paymentStatus).toBe("declined");
			await eventually(async () => expect(await stockOf(api, product.id)).toMatchObject({ available: 4, reserved: 0 }));
		});

		test("cancelling a paid order refunds it and restores the stock", async () => {
			const product = await createProduct(api, admin, { stock: 6 });
			const placed = await api.post("/orders", orderBody([{ productId: product.id, quantity: 2 }]), { token: ann.token });
			await orderReaches(api, ann.token, placed.body.id, "confirmed");
			const cancelled = await api.post(`/orders/${placed.body.id}/cancel`, undefined, { token: ann.token });
			expect(cancelled.status).toBe(200);
			expect(cancelled.body.status).toBe("cancelled");
			await eventually(async () => {
				const payments = await api.get(`/payments?orderId=${placed.body.id}`, { token: admin });
				expect(payments.body[0].status).toBe("refunded");
			});
			await eventually(async () => expect(await stockOf(api, product.id)).toMatchObject({ available: 6, reserved: 0 }));
			const order = await eventually(async () => {
				const res = await api.get(`/orders/${placed.body.id}`, { token: ann.token });
				expect(res.body.paymentStatus).toBe("refunded");
				return res.body;
			});
			expect(order.status).toBe("cancelled");
		});

		test("admins move orders along the state machine; anything else is 409", async () => {
			const product = await createProduct(api, admin);
			const placed = await api.post("/orders", orderBody([{ productId: product.id, quantity: 1 }]), { token: ann.token });
			const id = placed.body.id;
			await orderReaches(api, ann.token, id, "confirmed");
			expect((await api.patch(`/orders/${id}/status`, { status: "shipped" }, { token: admin })).status).toBe(409);
			expect((await api.patch(`/orders/${id}/status`, { status: "processing" }, { token: ann.token })).status).toBe(403);
			expect((await api.patch(`/orders/${id}/status`, { status: "lost" }, { token: admin })).status).toBe(422);
			for (const status of ["processing", "shipped", "delivered"]) {
				const res = await api.patch(`/orders/${id}/status`, { status }, { token: admin });
				expect(res.status).toBe(200);
				expect(res.body.status).toBe(status);
			}
			const delivered = await api.get(`/orders/${id}`, { token: admin });
			expect(delivered.body.history.map((h: { status: string }) => h.status)).toEqual([
				"pending",
				"confirmed",
				"processing",
				"shipped",
				"delivered",
			]);
			expect(delivered.body.history.at(-1).by).toBeTruthy();
			const late = await api.post(`/orders/${id}/cancel`, undefined, { token: admin });
			expect(late.status).toBe(409);
		});

		test("a customer cancels only before processing; an admin until shipped", async () => {
			const product = await createProduct(api, admin);
			const placed = await api.post("/orders", orderBody([{ productId: product.id, quantity: 1 }]), { token: ann.token });
			await orderReaches(api, ann.token, placed.body.id, "confirmed");
			await api.patch(`/orders/${placed.body.id}/status`, { status: "processing" }, { token: admin });
			expect((await api.post(`/orders/${placed.body.id}/cancel`, undefined, { token: ann.token })).status).toBe(409);
			const byAdmin = await api.post(`/orders/${placed.body.id}/cancel`, undefined, { token: admin });
			expect(byAdmin.status).toBe(200);
			expect(byAdmin.body.status).toBe("cancelled");
		});

		test("customers see only their own orders; another's is 404; admins see all", async () => {
			const product = await createProduct(api, admin);
			const mine = await api.post("/orders", orderBody([{ productId: product.id, quantity: 1 }]), { token: bob.token });
			expect((await api.get(`/orders/${mine.body.id}`, { token: ann.token })).status).toBe(404);
			expect((await api.post(`/orders/${mine.body.id}/cancel`, undefined, { token: ann.token })).status).toBe(404);
			const annList = await api.get("/orders?pageSize=100", { token: ann.token });
			expect(annList.body.rows.every((o: { userId: string }) => o.userId === ann.id)).toBe(true);
			const all = await api.get("/orders?pageSize=100", { token: admin });
			expect(all.body.rows.map((o: { id: string }) => o.id)).toContain(mine.body.id);
			expect((await api.get("/orders")).status).toBe(401);
			const failedOnly = await api.get("/orders?status=failed&pageSize=100", { token: admin });
			expect(failedOnly.body.rows.every((o: { status: string }) => o.status === "failed")).toBe(true);
			expect((await api.get("/payments", { token: ann.token })).status).toBe(403);
			expect((await api.get(`/payments?orderId=${mine.body.id}`, { token: ann.token })).body).toEqual([]);
		});

		test("admins cannot place orders (403); bad bodies are 422 by field; unknown cards 422; unknown products 404; nothing reserved", async () => {
			const product = await createProduct(api, admin, { stock: 3 });
			expect((await api.post("/orders", orderBody([{ productId: product.id, quantity: 1 }]), { token: admin })).status).toBe(403);
			const bad = await api.post(
				"/orders",
				{ items: [{ productId: product.id, quantity: 0 }], shippingAddress: { name: "A" }, payment: {} },
				{ token: ann.token },
			);
			expect(bad.status).toBe(422);
			const fields = bad.body.data.map((e: { field: string }) => e.field);
			expect(fields).toEqual(expect.arrayContaining(["items[0].quantity", "shippingAddress.line1", "payment.cardNumber"]));
			const card = await api.post("/orders", orderBody([{ productId: product.id, quantity: 1 }], "5555555555554444"), { token: ann.token });
			expect(card.status).toBe(422);
			expect(card.body.data[0].field).toBe("payment.cardNumber");
			const ghost = await api.post("/orders", orderBody([{ productId: "no-such-product", quantity: 1 }]), { token: ann.token });
			// Well formed, but the catalogue has no such product: an unknown id, not an invalid field.
			expect(ghost.status).toBe(404);
			expect(ghost.body).toMatchObject({ code: 404, type: "PRODUCT_NOT_FOUND", data: { productId: "no-such-product" } });
			expect(await stockOf(api, product.id)).toMatchObject({ available: 3, reserved: 0 });
		});

		test("out of stock is 409 naming the product, and nothing is reserved", async () => {
			const plenty = await createProduct(api, admin, { stock: 50 });
			const scarce = await createProduct(api, admin, { name: "Rare Teacup", stock: 1 });
			const res = await api.post(
				"/orders",
				orderBody([
					{ productId: plenty.id, quantity: 2 },
					{ productId: scarce.id, quantity: 2 },
				]),
				{ token: ann.token },
			);
			expect(res.status).toBe(409);
			expect(res.body).toMatchObject({ type: "OUT_OF_STOCK", data: { productId: scarce.id, name: "Rare Teacup", available: 1 } });
			expect(res.body.message).toContain("Rare Teacup");
			expect(await stockOf(api, plenty.id)).toMatchObject({ available: 50, reserved: 0 });
			expect(
				(await api.get("/orders?pageSize=100", { token: ann.token })).body.rows.some((o: Json) =>
					o.items.some((i: Json) => i.productId === scarce.id),
				),
			).toBe(false);
		});

		test("duplicate lines of one product are summed", async () => {
			const product = await createProduct(api, admin, { stock: 5 });
			const res = await api.post(
				"/orders",
				orderBody([
					{ productId: product.id, quantity: 1 },
					{ productId: product.id, quantity: 2 },
				]),
				{ token: ann.token },
			);
			expect(res.status).toBe(201);
			expect(res.body.items).toEqual([expect.objectContaining({ productId: product.id, quantity: 3 })]);
			expect((await stockOf(api, product.id)).available).toBe(2);
		});
	});

	describe("under concurrency", () => {
		test("50 concurrent orders for 10 units: exactly 10 succeed, the rest 409, stock ends 0 and the ledger agrees", async () => {
			const product = await createProduct(api, admin, { stock: 10 });
			const customers = await Promise.all(Array.from({ length: 5 }, (_, i) => newCustomer(api, `Rush ${i}`)));
			const results = await Promise.all(
				Array.from({ length: 50 }, (_, i) =>
					api.post("/orders", orderBody([{ productId: product.id, quantity: 1 }]), { token: customers[i % 5]?.token }),
				),
			);
			const statuses = results.map((r) => r.status);
			expect(statuses.filter((s) => s === 201)).toHaveLength(10);
			expect(statuses.filter((s) => s === 409)).toHaveLength(40);
			await Promise.all(results.filter((r) => r.status === 201).map((r) => orderReaches(api, admin, r.body.id, "confirmed")));
			await eventually(async () => expect(await stockOf(api, product.id)).toEqual(expect.objectContaining({ available: 0, reserved: 0 })));
			expect(await ledgerAvailable(api, admin, product.id)).toBe(0);
		});

		test("multi-item orders where one item runs out reserve nothing for the orders that fail", async () => {
			const common = await createProduct(api, admin, { stock: 100 });
			const scarce = await createProduct(api, admin, { stock: 5 });
			const results = await Promise.all(
				Array.from({ length: 20 }, () =>
					api.post(
						"/orders",
						orderBody([
							{ productId: common.id, quantity: 1 },
							{ productId: scarce.id, quantity: 1 },
						]),
						{ token: bob.token },
					),
				),
			);
			expect(results.filter((r) => r.status === 201)).toHaveLength(5);
			expect(results.filter((r) => r.status === 409)).toHaveLength(15);
			await eventually(async () => {
				expect(await stockOf(api, common.id)).toMatchObject({ available: 95, reserved: 0 });
				expect(await stockOf(api, scarce.id)).toMatchObject({ available: 0, reserved: 0 });
			});
			expect(await ledgerAvailable(api, admin, common.id)).toBe(95);
		});

		test("the same Idempotency-Key, sequentially and concurrently, makes one order and one reservation", async () => {
			const product = await createProduct(api, admin, { stock: 20 });
			const body = orderBody([{ productId: product.id, quantity: 2 }]);
			const key = `checkout-${Date.now()}`;
			const first = await api.post("/orders", body, { token: ann.token, headers: { "idempotency-key": key } });
			const again = await api.post("/orders", body, { token: ann.token, headers: { "idempotency-key": key } });
			expect(first.status).toBe(201);
			expect(again.body.id).toBe(first.body.id);
			const racing = `race-${Date.now()}`;
			const burst = await Promise.all(
				Array.from({ length: 10 }, () => api.post("/orders", body, { token: ann.token, headers: { "idempotency-key": racing } })),
			);
			expect(new Set(burst.map((r) => r.body.id)).size).toBe(1);
			expect(burst.every((r) => r.status === 201)).toBe(true);
			// Another customer's identical key is their own order.
			const bobs = await api.post("/orders", body, { token: bob.token, headers: { "idempotency-key": racing } });
			expect(bobs.body.id).not.toBe(burst[0]?.body.id);
			// Three orders of two: Ann's first, Ann's racing one, Bob's.
			expect((await stockOf(api, product.id)).available).toBe(14);
			const bad = await api.post("/orders", body, { token: ann.token, headers: { "idempotency-key": "{$gt: ''}" } });
			expect(bad.status).toBe(422);
		});

		test("requests racing with the same Idempotency-Key for an order that is refused are all refused: none is told of an order", async () => {
			const product = await createProduct(api, admin, { stock: 1 });
			const body = orderBody([{ productId: product.id, quantity: 2 }]);
			const key = `refused-${Date.now()}`;
			const burst = await Promise.all(
				Array.from({ length: 10 }, () => api.post("/orders", body, { token: ann.token, headers: { "idempotency-key": key } })),
			);
			expect(burst.map((r) => r.status)).toEqual(Array(10).fill(409));
			expect(await stockOf(api, product.id)).toMatchObject({ available: 1, reserved: 0 });
		});

		test("racing status changes of one order: exactly one wins, the rest are 409, the history has it once", async () => {
			const product = await createProduct(api, admin, { stock: 10 });
			const placed = await api.post("/orders", orderBody([{ productId: product.id, quantity: 2 }]), { token: ann.token });
			await orderReaches(api, admin, placed.body.id, "confirmed");
			const moves = await Promise.all([
				...Array.from({ length: 5 }, () => api.patch(`/orders/${placed.body.id}/status`, { status: "processing" }, { token: admin })),
				...Array.from({ length: 5 }, () => api.post(`/orders/${placed.body.id}/cancel`, undefined, { token: ann.token })),
			]);
			const won = moves.filter((r) => r.status === 200);
			expect(won).toHaveLength(1);
			expect(moves.filter((r) => r.status === 409)).toHaveLength(9);
			const order = (await api.get(`/orders/${placed.body.id}`, { token: admin })).body;
			expect(order.status).toBe(won[0]?.body.status);
			expect(order.history.map((entry: { status: string }) => entry.status)).toEqual(["pending", "confirmed", order.status]);
			// A cancel that won gives the stock back and refunds; a move to processing keeps it sold.
			const expected = order.status === "cancelled" ? { available: 10, reserved: 0 } : { available: 8, reserved: 0 };
			await eventually(async () => expect(await stockOf(api, product.id)).toMatchObject(expected));
		});
	});
}
