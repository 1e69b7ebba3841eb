/**
 * Baseline of the order workload: the writes an order costs (insert the order, append a reserve
 * line to each product's stock ledger and move its projection, insert the payment, charge it,
 * confirm the order, append the commit lines), done in one plain function straight on the store
 * the system uses (the embedded mode's SQLite file through its adapter, or the MongoDB-wire
 * server through mongoose's driver). No broker, no validation, no events: the system's orders/s
 * over this one is what the framework costs. `nedb:<dir>` runs the same writes on NeDB, the
 * embedded store before SQLite, for comparing the two stores.
 *
 * `node --import tsx bench/store-baseline.ts '<StoreBaselinePlan JSON>'`; prints a StoreBaselineResult.
 */
import { randomUUID } from "node:crypto";
import path from "node:path";
import Datastore from "@seald-io/nedb";
import mongoose from "mongoose";
import { SqliteAdapter } from "../lib/platform/sqlite-adapter";
import type { IndexSpec } from "../lib/platform/store";
import { EMBEDDED_STORE } from "../mixins/db.mixin";
import { percentile } from "./harness";

export interface StoreBaselinePlan {
	/** `sqlite:<dir>`, `nedb:<dir>` or a `mongodb://` URI of a database of its own. */
	store: string;
	durationSeconds: number;
	concurrency: number;
	products: number;
}

export interface StoreBaselineResult {
	orders: number;
	ordersPerSecond: number;
	p50Ms: number;
	p99Ms: number;
	peakRssMb: number;
}

type Doc = Record<string, unknown>;

/** The few operations the writes need, on either store. */
interface Store {
	insert(collection: string, doc: Doc): Promise<void>;
	/** The newest ledger line of a product. */
	latest(productId: string): Promise<Doc>;
	update(collection: string, query: Doc, update: Doc): Promise<void>;
	close(): Promise<void>;
}

const COLLECTIONS = ["orders", "payments", "inventory", "stock-movements"];
const UNIQUE_KEYS: Record<string, string[]> = { "stock-movements": ["seqKey", "key"], payments: ["orderId"] };

async function nedbStore(dir: string): Promise<Store> {
	const stores = new Map<string, Datastore>();
	for (const name of COLLECTIONS) {
		const db = new Datastore({ filename: path.join(dir, `${name}.db`) });
		await db.loadDatabaseAsync();
		for (const fieldName of UNIQUE_KEYS[name] ?? []) await db.ensureIndexAsync({ fieldName, unique: true });
		if (name === "stock-movements") await db.ensureIndexAsync({ fieldName: "productId" });
		stores.set(name, db);
	}
	const of = (name: string) => stores.get(name) as Datastore;
	return {
		async insert(collection, doc) {
			await of(collection).insertAsync(doc);
		},
		async latest(productId) {
			const [doc] = await of("stock-movements").findAsync({ productId }).sort({ seq: -1 }).limit(1);
			return doc as Doc;
		},
		async update(collection, query, update) {
			await of(collection).updateAsync(query, update, {});
		},
		async close() {},
	};
}

async function sqliteStore(dir: string): Promise<Store> {
	const stores = new Map<string, SqliteAdapter>();
	for (const name of COLLECTIONS) {
		const indexes: IndexSpec[] = (UNIQUE_KEYS[name] ?? []).map((key) => ({ fields: { [key]: 1 }, unique: true }));
		if (name === "stock-movements") indexes.push({ fields: { productId: 1, seq: -1 } });
		const store = new SqliteAdapter(path.join(dir, EMBEDDED_STORE), { name, fields: {}, indexes });
		await store.connect();
		stores.set(name, store);
	}
	const of = (name: string) => stores.get(name) as SqliteAdapter;
	return {
		async insert(collection, doc) {
			await of(collection).insert(doc);
		},
		async latest(productId) {
			const [doc] = await of("stock-movements").find({ query: { productId }, sort: ["-seq"], limit: 1 });
			return doc as Doc;
		},
		async update(collection, query, update) {
			await of(collection).updateMany(query, update);
		},
		async close() {
			for (const store of stores.values()) await store.disconnect();
		},
	};
}

async function mongoStore(uri: string): Promise<Store> {
	const connection = await mongoose.createConnection(uri, { serverSelectionTimeoutMS: 5_000 }).asPromise();
	for (const [name, keys] of Object.entries(UNIQUE_KEYS))
		for (const key of keys) await connection.collection(name).createIndex({ [key]: 1 }, { unique: true });
	await connection.collection("stock-movements").createIndex({ productId: 1, seq: -1 });
	return {
		async insert(collection, doc) {
			await connection.collection(collection).insertOne(doc as { _id: never });
		},
		async latest(productId) {
			const [doc] = await connection.collection("stock-movements").find({ productId }).sort({ seq: -1 }).limit(1).toArray();
			return doc as Doc;
		},
		async update(collection, query, update) {
			await connection.collection(collection).updateOne(query, update);
		},
		async close() {
			await connection.dropDatabase();
			await connection.close();
		},
	};
}

const isDuplicate = (err: unknown) =>
	typeof err === "object" && err !== null && ((err as Doc).code === 11000 || (err as Doc).errorType === "uniqueViolated");

/** Appends a product's next ledger line (a unique `seqKey` decides races, as in the system) and moves its projection. */
async function appendLine(store: Store, productId: string, orderId: string, kind: string, delta: number, reservedDelta: number) {
	for (;;) {
		const before = await store.latest(productId);
		const seq = (before.seq as number) + 1;
		const line = {
			_id: randomUUID(),
			seqKey: `${productId}#${seq}`,
			key: `${orderId}:${productId}:${kind}`,
			productId,
			seq,
			orderId,
			kind,
			delta,
			reservedDelta,
			available: (before.available as number) + delta,
			reserved: (before.reserved as number) + reservedDelta,
			at: new Date(),
		};
		try {
			await store.insert("stock-movements", line);
		} catch (err) {
			if (isDuplicate(err)) continue;
			throw err;
		}
		await store.update("inventory", { _id: productId }, { $set: { available: line.available, reserved: line.reserved, seq } });
		return;
	}
}

/** One order, placed and paid: the writes the saga makes, in one function. */
async function placeAndPay(store: Store, productIds: string[]): Promise<void> {
	const orderId = randomUUID();
	const lineCount = 1 + Math.floor(Math.random() * 3);
	const picked = [
		...new Set(Array.from({ length: lineCount }, () => productIds[Math.floor(Math.random() * productIds.length)] as string)),
	].sort();
	const now = new Date();
	const history = [{ status: "pending", at: now }];
	await store.insert("orders", {
		_id: orderId,
		items: picked.map((productId) => ({ productId, quantity: 1, price: 1000 })),
		status: "pending",
		paymentStatus: "pending",
		history,
		createdAt: now,
		updatedAt: now,
	});
	for (const productId of picked) await appendLine(store, productId, orderId, "reserve", -1, 1);
	await store.insert("payments", { _id: randomUUID(), orderId, amount: 1000 * picked.length, status: "pending", createdAt: now });
	await store.update("payments", { orderId, status: "pending" }, { $set: { status: "succeeded", updatedAt: new Date() } });
	await store.update(
		"orders",
		{ _id: orderId, status: "pending" },
		{
			$set: {
				status: "confirmed",
				paymentStatus: "paid",
				updatedAt: new Date(),
				history: [...history, { status: "confirmed", at: new Date() }],
			},
		},
	);
	for (const productId of picked) await appendLine(store, productId, orderId, "commit", 0, -1);
}

async function main(): Promise<void> {
	const plan = JSON.parse(process.argv[2] ?? "{}") as StoreBaselinePlan;
	const [kind, dir = ""] = plan.store.split(/:(.*)/s);
	const store = kind === "sqlite" ? await sqliteStore(dir) : kind === "nedb" ? await nedbStore(dir) : await mongoStore(plan.store);
	const productIds = Array.from({ length: plan.products }, () => randomUUID());
	for (const productId of productIds) {
		const at = new Date();
		await store.insert("stock-movements", {
			_id: randomUUID(),
			seqKey: `${productId}#0`,
			key: `init:${productId}`,
			productId,
			seq: 0,
			kind: "init",
			available: 1_000_000,
			reserved: 0,
			at,
		});
		await store.insert("inventory", { _id: productId, available: 1_000_000, reserved: 0, seq: 0, updatedAt: at });
	}
	const latencies: number[] = [];
	const started = performance.now();
	const deadline = started + plan.durationSeconds * 1000;
	await Promise.all(
		Array.from({ length: plan.concurrency }, async () => {
			while (performance.now() < deadline) {
				const t0 = performance.now();
				await placeAndPay(store, productIds);
				latencies.push(performance.now() - t0);
			}
		}),
	);
	const elapsed = (performance.now() - started) / 1000;
	await store.close();
	const result: StoreBaselineResult = {
		orders: latencies.length,
		ordersPerSecond: latencies.length / elapsed,
		p50Ms: percentile(latencies, 50),
		p99Ms: percentile(latencies, 99),
		peakRssMb: process.resourceUsage().maxRSS / 1024,
	};
	process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((err: Error) => {
	process.stderr.write(`store baseline: ${err.stack ?? err.message}\n`);
	process.exit(1);
});
