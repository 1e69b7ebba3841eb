/**
 * The stock ledger's race, in one process (test/support/in-process.ts). Writers on different
 * nodes are played by writes the test puts into the ledger between a writer's plan and its insert,
 * or by ledgers of their own on the same store, each with its own queue of writers, as another node's.
 * The embedded commerce suite oversells nothing over HTTP; here each losing step is forced.
 */
import { randomUUID } from "node:crypto";
import type { DbAdapter } from "../../lib/platform/store";
import { type LedgerHost, StockLedger } from "../../services/inventory/ledger";
import { ADMIN, beforeWrite, type Shop, startShop, stopPoint } from "../support/in-process";

interface Inventory {
	collections: Record<string, DbAdapter>;
	ledgerHost: LedgerHost;
}

interface LedgerLine {
	seq: number;
	kind: string;
	orderId: string | null;
	available: number;
	reserved: number;
}

const STOCK = 10;

let shop: Shop;
let ledger: DbAdapter;
let inventory: Inventory;

beforeAll(async () => {
	shop = await startShop(["products", "inventory"]);
	inventory = shop.service<Inventory>("inventory");
	const movements = inventory.collections["stock-movements"];
	if (!movements) throw new Error("inventory has no stock ledger");
	ledger = movements;
});

afterAll(() => shop?.stop());

/** The product's ledger, oldest line first. */
async function ledgerOf(productId: string): Promise<LedgerLine[]> {
	const lines = await shop.broker.call<LedgerLine[], object>("inventory.movements", { productId, limit: 500 }, ADMIN);
	return lines.reverse();
}

/** The line another node appends as line 1 of a product that started with `STOCK` units. */
function otherNodesLine(productId: string, fields: { key: string; orderId: string | null; delta: number; reservedDelta: number }) {
	const seq = 1;
	return {
		available: STOCK + fields.delta,
		reserved: fields.reservedDelta,
		_id: randomUUID(),
		seqKey: `${productId}#${seq}`,
		productId,
		seq,
		kind: fields.reservedDelta > 0 ? "reserve" : "adjust",
		quantity: Math.abs(fields.delta),
		reason: "written by another node",
		by: "system",
		at: new Date(),
		...fields,
	};
}

const reserving = (orderId: string, productId: string) => (doc: Record<string, unknown>) => doc.key === `${orderId}:${productId}:reserve`;

describe("two writers planning the same next ledger line", () => {
	it("a reservation that loses the line to another node's stock change is planned again from the new level: both changes count", async () => {
		const productId = await shop.newProduct(STOCK);
		const orderId = `lost-line-${randomUUID()}`;
		// Between the reservation's plan (from 10 available) and its insert, another node's stocktake takes line 1.
		beforeWrite(ledger, "insert", reserving(orderId, productId), () =>
			ledger
				.insert(otherNodesLine(productId, { key: `adjust:${randomUUID()}`, orderId: null, delta: -6, reservedDelta: 0 }))
				.then(() => undefined),
		);

		await shop.broker.call("inventory.reserve", { orderId, items: [{ productId, quantity: 3 }] });

		expect(await shop.stockOf(productId)).toMatchObject({ available: 1, reserved: 3 });
		expect((await ledgerOf(productId)).map(({ seq, kind, available, reserved }) => ({ seq, kind, available, reserved }))).toEqual([
			{ seq: 0, kind: "init", available: 10, reserved: 0 },
			{ seq: 1, kind: "adjust", available: 4, reserved: 0 },
			{ seq: 2, kind: "reserve", available: 1, reserved: 3 },
		]);
	});

	it("a reservation that no longer fits once the other node's change is in is refused, and takes nothing (no oversell)", async () => {
		const productId = await shop.newProduct(STOCK);
		const orderId = `lost-line-${randomUUID()}`;
		beforeWrite(ledger, "insert", reserving(orderId, productId), () =>
			ledger
				.insert(otherNodesLine(productId, { key: `other-order:${productId}:reserve`, orderId: "other-order", delta: -8, reservedDelta: 8 }))
				.then(() => undefined),
		);

		const reserve = shop.broker.call("inventory.reserve", { orderId, items: [{ productId, quantity: 3 }] });

		await expect(reserve).rejects.toMatchObject({ code: 409, type: "OUT_OF_STOCK", data: { available: 2 } });
		expect(await shop.stockOf(productId)).toMatchObject({ available: 2, reserved: 8 });
		expect((await ledgerOf(productId)).map((line) => line.kind)).toEqual(["init", "reserve"]);
	});

	it("the same reservation written first by another node (a redelivered call) is not taken twice", async () => {
		const productId = await shop.newProduct(STOCK);
		const orderId = `twice-${randomUUID()}`;
		beforeWrite(ledger, "insert", reserving(orderId, productId), () =>
			ledger
				.insert(otherNodesLine(productId, { key: `${orderId}:${productId}:reserve`, orderId, delta: -3, reservedDelta: 3 }))
				.then(() => undefined),
		);

		await shop.broker.call("inventory.reserve", { orderId, items: [{ productId, quantity: 3 }] });

		expect(await shop.stockOf(productId)).toMatchObject({ available: 7, reserved: 3 });
		expect((await ledgerOf(productId)).filter((line) => line.orderId === orderId)).toHaveLength(1);
	});

	it("twenty nodes reserving one unit each of ten at once: exactly ten get one, none oversold, and the ledger has no gap", async () => {
		const productId = await shop.newProduct(STOCK);
		const writers = Array.from({ length: 20 }, (_, writer) =>
			new StockLedger(inventory.ledgerHost)
				.apply(productId, (current) => {
					if (current.available < 1) throw new Error("out of stock");
					const orderId = `crowd-${writer}`;
					const line = { kind: "reserve", delta: -1, reservedDelta: 1, quantity: 1, reason: "order placed", by: "system" } as const;
					return { ...line, key: `${orderId}:${productId}:reserve`, orderId };
				})
				.then(
					() => true,
					() => false,
				),
		);

		const taken = (await Promise.all(writers)).filter(Boolean);

		expect(taken).toHaveLength(10);
		expect(await shop.stockOf(productId)).toMatchObject({ available: 0, reserved: 10 });
		const lines = await ledgerOf(productId);
		expect(lines.map((line) => line.seq)).toEqual(Array.from({ length: 11 }, (_, seq) => seq));
		// Every line conserves the product's units: what is for sale plus what orders hold.
		for (const line of lines) expect(line.available + line.reserved).toBe(10);
	});
});

describe("two shops in one process", () => {
	it("a stock write held in one shop does not hold up the other shop's writes of a product with the same id", async () => {
		const other = await startShop(["products", "inventory"]);
		try {
			const otherLedger = other.service<Inventory>("inventory").collections["stock-movements"];
			if (!otherLedger) throw new Error("inventory has no stock ledger");
			// Two stores may know a product by the same id (one restored from the other, say).
			const productId = `twin-${randomUUID()}`;
			for (const broker of [shop.broker, other.broker])
				await broker.call("inventory.init", { productId, available: STOCK, lowStockThreshold: 0 });
			const adjusting = (doc: Record<string, unknown>) => doc.productId === productId && doc.kind === "adjust";

			// This shop's stocktake stops at its write; it goes on only once the other shop's has been written.
			const held = stopPoint();
			beforeWrite(ledger, "insert", adjusting, held.step);
			const otherWritten = beforeWrite(otherLedger, "insert", adjusting, async () => held.go());
			const stocktake = shop.broker.call("inventory.adjust", { productId, delta: -1, reason: "stocktake" }, ADMIN);
			await held.reached;

			const delivery = await other.broker.call("inventory.adjust", { productId, delta: -2, reason: "breakage" }, ADMIN);
			await otherWritten;

			expect(delivery).toMatchObject({ available: STOCK - 2 });
			expect(await stocktake).toMatchObject({ available: STOCK - 1 });
			expect(await shop.stockOf(productId)).toMatchObject({ available: STOCK - 1 });
			expect(await other.stockOf(productId)).toMatchObject({ available: STOCK - 2 });
		} finally {
			await other.stop();
		}
	});
});
