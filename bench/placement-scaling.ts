/**
 * Workload 8: does an order cost the distributed mode more as orders pile up? Six pods on the
 * MongoDB-wire stand-in; at each level, one client places orders back to back (POST latency, as in
 * workload 2) and the admin loads the newest 20 orders, each measured against the first level.
 *
 * 50k orders cannot be placed through the cluster in a bench run (a few per second), so each level
 * is reached by copying the documents that a few real orders left in every collection (orders,
 * payments, stock ledger, journals, the sales facts), each copy under a new order id. The copies'
 * ledger lines move to products of their own, so the real products' ledgers keep one unbroken
 * sequence; the real products' ledgers grow only with the orders placed for real.
 */
import { randomUUID } from "node:crypto";
import mongoose from "mongoose";
import type { Agora } from "../test/support/agora";
import { percentile, type Row } from "./harness";
import { drainPending, orderBody, type Shop } from "./shop";

const { MongoClient, BSON } = mongoose.mongo;
type Db = mongoose.mongo.Db;
type Document = mongoose.mongo.Document;

export interface PlacementScalingPoint {
	orders: number;
	placementP50Ms: number;
	placementP99Ms: number;
	newestPageP50Ms: number;
	/** Pages the gateway gave up on (504 after the 10 s request timeout), of `pages`. */
	newestPageTimeouts: number;
	pages: number;
	seedSeconds: number;
}

/** Orders placed for real, whose documents are the pattern of every copy. */
const PATTERN_ORDERS = 10;
const BATCH = 1_000;

/** The documents that name one of `orderIds` anywhere, per collection. */
async function documentsOf(db: Db, orderIds: string[]): Promise<Map<string, Document[]>> {
	const found = new Map<string, Document[]>();
	for (const { name } of await db.listCollections({}, { nameOnly: true }).toArray()) {
		const docs = (await db.collection(name).find({}).toArray()).filter((doc) => {
			const text = BSON.EJSON.stringify(doc);
			return orderIds.some((id) => text.includes(id));
		});
		if (docs.length > 0) found.set(name, docs);
	}
	return found;
}

/** `count` copies of the pattern orders' documents, each copy under new order (and ledger product) ids. */
async function copyOrders(db: Db, pattern: Map<string, Document[]>, patternIds: string[], count: number): Promise<void> {
	const copies = Math.ceil(count / patternIds.length);
	for (const [name, docs] of pattern) {
		let batch: Document[] = [];
		for (let copy = 0; copy < copies; copy++) {
			const renamed = new Map(patternIds.map((id) => [id, randomUUID()]));
			for (const doc of docs) {
				let text = BSON.EJSON.stringify(doc, { relaxed: false });
				for (const [from, to] of renamed) text = text.replaceAll(from, to);
				const copied = BSON.EJSON.parse(text, { relaxed: false }) as Document;
				// An _id that named no order (a ledger line, a payment) must still be unique.
				if (BSON.EJSON.stringify(copied._id) === BSON.EJSON.stringify(doc._id))
					copied._id = doc._id instanceof BSON.ObjectId ? new BSON.ObjectId() : randomUUID();
				if (name === "stock-movements") {
					const ghost = `seeded-${randomUUID()}`;
					Object.assign(copied, { productId: ghost, seqKey: `${ghost}#${copied.seq}` });
				}
				batch.push(copied);
				if (batch.length >= BATCH) {
					await db.collection(name).insertMany(batch, { ordered: false });
					batch = [];
				}
			}
		}
		if (batch.length > 0) await db.collection(name).insertMany(batch, { ordered: false });
	}
}

async function timeRequests(seconds: number, request: () => Promise<void>): Promise<number[]> {
	const latencies: number[] = [];
	const started = performance.now();
	while (performance.now() - started < seconds * 1000) {
		const t0 = performance.now();
		await request();
		latencies.push(performance.now() - t0);
	}
	return latencies;
}

export async function placementWithData(
	agora: Agora,
	shop: Shop,
	settings: { levels: number[]; seconds: number },
): Promise<{ rows: Row[]; points: PlacementScalingPoint[] }> {
	const uri = agora.env.MONGO_URI;
	if (!uri) throw new Error("workload 8 needs the distributed mode's MONGO_URI");
	const client = await MongoClient.connect(uri);
	const points: PlacementScalingPoint[] = [];
	try {
		const db = client.db();
		const [customer] = shop.customers;
		if (!customer) throw new Error("the shop has no customers");
		const place = async () => {
			const res = await shop.api.post("/orders", orderBody(shop), { token: customer.token });
			if (res.status !== 201) throw new Error(`order not placed: ${res.status} ${JSON.stringify(res.body)}`);
			return res.body.id as string;
		};
		const patternIds: string[] = [];
		for (let i = 0; i < PATTERN_ORDERS; i++) patternIds.push(await place());
		await drainPending(shop);
		const pattern = await documentsOf(db, patternIds);

		let orders = await db.collection("orders").countDocuments();
		for (const level of settings.levels) {
			const seedStarted = performance.now();
			if (level > orders) await copyOrders(db, pattern, patternIds, level - orders);
			const seedSeconds = (performance.now() - seedStarted) / 1000;
			orders = await db.collection("orders").countDocuments();
			process.stderr.write(`bench: ${orders} orders stored (${seedSeconds.toFixed(0)} s of copying)\n`);
			const placements = await timeRequests(settings.seconds, async () => {
				await place();
			});
			await drainPending(shop);
			let newestPageTimeouts = 0;
			const pages = await timeRequests(settings.seconds, async () => {
				const res = await shop.api.get("/orders?pageSize=20", { token: shop.admin });
				if (res.status === 504) newestPageTimeouts++;
				else if (res.status !== 200) throw new Error(`GET /orders answered ${res.status}`);
			});
			points.push({
				orders,
				placementP50Ms: percentile(placements, 50),
				placementP99Ms: percentile(placements, 99),
				newestPageP50Ms: percentile(pages, 50),
				newestPageTimeouts,
				pages: pages.length,
				seedSeconds,
			});
		}
	} finally {
		await client.close();
	}
	const [first] = points;
	const row = (subject: string, p50Ms: number, firstP50Ms: number, rest: Partial<Row> = {}): Row => ({
		workload: "8 placement with data",
		mode: "distributed",
		subject,
		throughput: null,
		unit: "",
		p50Ms,
		p99Ms: null,
		peakRssMb: null,
		baseline: `the same at ${first?.orders} orders: p50 ${firstP50Ms.toFixed(1)} ms`,
		ratio: firstP50Ms / p50Ms,
		...rest,
	});
	const rows = points.flatMap((point) => [
		row(`POST /api/orders, 1 client, ${point.orders} orders stored`, point.placementP50Ms, first?.placementP50Ms ?? Number.NaN, {
			p99Ms: point.placementP99Ms,
			note: `${point.seedSeconds.toFixed(0)} s to copy documents up to this level`,
		}),
		row(`GET /api/orders newest 20 (admin), ${point.orders} orders stored`, point.newestPageP50Ms, first?.newestPageP50Ms ?? Number.NaN, {
			...(point.newestPageTimeouts > 0
				? { note: `${point.newestPageTimeouts} of ${point.pages} answered 504 (the 10 s request timeout)` }
				: {}),
		}),
	]);
	return { rows, points };
}
