/**
 * Placement recovery on the real products, inventory, payments and orders services in one broker
 * (test/support/in-process.ts). Which node placed an order is the cluster test's part
 * (test/distributed/cluster.test.ts, an orders pod SIGKILLed); here the placement outlives the
 * time limit while its node still runs.
 */
import type { ActionSchema, Context, Middleware } from "moleculer";
import type { DbAdapter } from "../../lib/platform/store";
import { type LedgerHost, StockLedger } from "../../services/inventory/ledger";
import { type RecoveryHost, recoverPlacements } from "../../services/orders/recovery";
import { orderBody } from "../support/commerce.suite";
import { ADMIN, CUSTOMER, gate, type Shop, startShop } from "../support/in-process";
import { eventually } from "../support/wait";

/** Past the orders service's limit for one placement (60 s). */
const LATER = 61_000;

interface Recovering {
	host(): RecoveryHost;
}

/** Holds `payments.prepare` calls while closed: a placement stops half-way, its stock reserved. */
const prepareGate = gate();
const gateMiddleware: Middleware = {
	localAction(next: (ctx: Context) => Promise<unknown>, action: ActionSchema) {
		if (action.name !== "payments.prepare") return next;
		return async (ctx: Context) => {
			await prepareGate.wait;
			return next(ctx);
		};
	},
};

let shop: Shop;
let orders: Recovering;

beforeAll(async () => {
	shop = await startShop(["products", "inventory", "payments", "orders"], [gateMiddleware]);
	orders = shop.service<Recovering>("orders");
});

afterAll(async () => {
	prepareGate.open();
	await shop?.stop();
});

describe("placements that do not finish", () => {
	it("a placement over the time limit is undone: order failed with a note, stock released, payment voided, its client told to retry", async () => {
		const { broker, stockOf, orderOf } = shop;
		const productId = await shop.newProduct(5);
		prepareGate.close();
		const placing = broker.call("orders.place", orderBody([{ productId, quantity: 2 }]), CUSTOMER).then(
			() => null,
			(err: { code: number; type: string }) => err,
		);
		await eventually(async () => expect(await stockOf(productId)).toMatchObject({ available: 3, reserved: 2 }));

		expect(await recoverPlacements(orders.host(), Date.now() + LATER)).toBe(1);
		const [order] = await broker.call<{ rows: { id: string }[] }, object>("orders.list", {}, CUSTOMER).then((page) => page.rows);
		if (!order) throw new Error("the order was not stored");
		const failed = await orderOf(order.id);
		expect(failed.status).toBe("failed");
		expect(failed.history.at(-1)).toMatchObject({ by: "recovery", note: expect.stringMatching(/did not finish within 60 s/) });
		await eventually(async () => expect(await stockOf(productId)).toMatchObject({ available: 5, reserved: 0 }));

		// Its node was still at it: it prepares the payment, finds the placement undone, and gives it all back.
		prepareGate.open();
		expect(await placing).toMatchObject({ code: 503, type: "PLACEMENT_UNDONE" });
		const payments = await broker.call<{ status: string }[], object>("payments.list", { orderId: order.id }, ADMIN);
		expect(payments.map((payment) => payment.status)).toEqual(["voided"]);
		expect(await stockOf(productId)).toMatchObject({ available: 5, reserved: 0 });
		expect((await orderOf(order.id)).status).toBe("failed");
		// Undone once: a later run finds nothing.
		expect(await recoverPlacements(orders.host(), Date.now() + LATER)).toBe(0);
	});

	it("a reservation that reaches inventory after its order was released (its node died with the call on its way) takes nothing", async () => {
		const { broker, stockOf } = shop;
		const productId = await shop.newProduct(5);
		const orderId = `cut-off-${Date.now()}`;
		// What recovery's failed order makes inventory do, before the dead node's reserve call arrives.
		await broker.call("inventory.release", { orderId, items: [{ productId, quantity: 2 }], reason: "placing it was cut off" });
		const late = broker.call("inventory.reserve", { orderId, items: [{ productId, quantity: 2 }] });
		await expect(late).rejects.toMatchObject({ code: 503, type: "ORDER_RELEASED" });
		expect(await stockOf(productId)).toMatchObject({ available: 5, reserved: 0 });
	});

	it("a placement that answered is never touched, however old", async () => {
		const { broker, orderOf } = shop;
		const productId = await shop.newProduct(5);
		const placed = await broker.call<{ id: string; status: string }, object>(
			"orders.place",
			orderBody([{ productId, quantity: 1 }]),
			CUSTOMER,
		);
		expect(placed.status).toBe("pending");
		expect(await recoverPlacements(orders.host(), Date.now() + LATER)).toBe(0);
		await eventually(async () => expect((await orderOf(placed.id)).status).toBe("confirmed"));
	});
});

describe("a placement refused because its product's stock is too busy", () => {
	interface Inventory {
		collections: Record<string, DbAdapter>;
		ledgerHost: LedgerHost;
	}

	/**
	 * Another node changing the product's stock each time before this node's reservation is
	 * written: every line the reservation plans is taken first, until the ledger gives up (STOCK_BUSY).
	 */
	function contend(productId: string): () => void {
		const inventory = shop.service<Inventory>("inventory");
		const lines = inventory.collections["stock-movements"];
		if (!lines) throw new Error("inventory has no stock ledger");
		const otherNode = new StockLedger(inventory.ledgerHost);
		const insert = lines.insert.bind(lines);
		let rivals = 0;
		lines.insert = async (doc: object) => {
			const line = doc as { productId?: string; kind?: string };
			if (line.productId === productId && line.kind === "reserve")
				await otherNode.apply(productId, () => ({
					key: `recount:${productId}:${rivals++}`,
					kind: "adjust",
					delta: 0,
					reservedDelta: 0,
					quantity: 0,
					orderId: null,
					reason: "recount on another node",
					by: "system",
				}));
			return insert(doc);
		};
		return () => {
			lines.insert = insert;
		};
	}

	it("is undone at once: nothing is left being placed, and a retry with the same Idempotency-Key is placed right away", async () => {
		const { broker, stockOf, orderOf } = shop;
		const productId = await shop.newProduct(5);
		const request = { meta: { ...CUSTOMER.meta, idempotencyKey: `busy-${productId}` } };
		const body = orderBody([{ productId, quantity: 2 }]);
		const ordersOfProduct = async () =>
			(
				await broker.call<{ rows: { id: string; items: { productId: string }[] }[] }, object>("orders.list", { pageSize: 100 }, CUSTOMER)
			).rows.filter((order) => order.items.some((line) => line.productId === productId));

		const calm = contend(productId);
		// The ledger waits a random moment before each new attempt; none here, so that its 200 attempts
		// end well within the request timeout however busy the machine is.
		const noBackoff = jest.spyOn(Math, "random").mockReturnValue(0);
		const refused = await broker.call("orders.place", body, request).then(
			() => null,
			(err: { code: number; type: string }) => err,
		);
		noBackoff.mockRestore();
		calm();
		expect(refused).toMatchObject({ code: 503, type: "STOCK_BUSY" });
		expect(await ordersOfProduct()).toEqual([]);
		expect(await stockOf(productId)).toMatchObject({ available: 5, reserved: 0 });

		// The shopper's client repeats the request at once, as a 503 invites it to.
		const placed = await broker.call<{ id: string; status: string }, object>("orders.place", body, request);
		expect(placed.status).toBe("pending");
		expect((await ordersOfProduct()).map((order) => order.id)).toEqual([placed.id]);
		await eventually(async () => expect((await orderOf(placed.id)).status).toBe("confirmed"));
		await eventually(async () => expect(await stockOf(productId)).toMatchObject({ available: 3, reserved: 0 }));
		// Nothing was left for recovery to undo a minute later.
		expect(await recoverPlacements(orders.host(), Date.now() + LATER)).toBe(0);
		expect((await orderOf(placed.id)).status).toBe("confirmed");
	});
});
