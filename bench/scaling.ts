/**
 * Workload 5: list and search latency as the data grows (orders and products), embedded mode.
 * Orders cannot be made fast enough through the API for 100k of them, so the data is written
 * straight into the store of a stopped node (the SQLite file `npm start` keeps in DATA_DIR, whose
 * tables and indexes its first start made), in the shape the services store; each level adds to
 * the previous one and restarts the node. Each start is timed: start to ready with that much data.
 * Catalogue queries use a distinct cache key per request: each one is a real query, not a cache hit.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { SqliteAdapter } from "../lib/platform/sqlite-adapter";
import { EMBEDDED_STORE } from "../mixins/db.mixin";
import { adminToken, client, newCustomer } from "../test/support/http";
import { measured, type PlannedRequest, type Row, runLoad, startSystem, systemPids } from "./harness";

export interface ScalingLevel {
	orders: number;
	products: number;
}

export interface ScalingPoint extends ScalingLevel {
	query: string;
	/** Fewer than asked when the time limit cut the point short. */
	requests: number;
	p50Ms: number;
	p99Ms: number;
	peakRssMb: number;
}

const CATEGORIES = 10;
const STATUSES = ["confirmed", "processing", "shipped", "delivered", "cancelled", "failed"];
const DAY_MS = 86_400_000;

/** Adds documents to a collection's table, in one transaction; its indexes are the ones the system made. */
async function appendDocs(dataDir: string, collection: string, docs: Record<string, unknown>[]): Promise<void> {
	const store = new SqliteAdapter(path.join(dataDir, EMBEDDED_STORE), { name: collection, fields: {} });
	await store.connect();
	try {
		store.importDocuments(docs);
	} finally {
		await store.disconnect();
	}
}

/** Catalogue entries numbered from..to, each with its stock record and first ledger line. */
async function seedProducts(dataDir: string, from: number, to: number): Promise<{ id: string; price: number }[]> {
	const now = new Date();
	const made = Array.from({ length: to - from }, (_, i) => ({ id: randomUUID(), n: from + i, price: 100 + ((from + i) % 997) }));
	await appendDocs(
		dataDir,
		"products",
		made.map(({ id, n, price }) => ({
			_id: id,
			name: `Seeded product ${String(n).padStart(6, "0")}`,
			sku: `SEED-${n}`,
			price,
			currency: "USD",
			category: `category-${n % CATEGORIES}`,
			description: `Product number ${n}, written by the scaling benchmark`,
			imageUrl: null,
			createdAt: new Date(now.getTime() - n * 1000),
			updatedAt: now,
		})),
	);
	await appendDocs(
		dataDir,
		"inventory",
		made.map(({ id }) => ({ _id: id, available: 1_000, reserved: 0, seq: 0, lowStockThreshold: 5, updatedAt: now })),
	);
	await appendDocs(
		dataDir,
		"stock-movements",
		made.map(({ id }) => ({
			_id: randomUUID(),
			seqKey: `${id}#0`,
			key: `init:${id}`,
			productId: id,
			seq: 0,
			orderId: null,
			kind: "init",
			delta: 1_000,
			reservedDelta: 0,
			available: 1_000,
			reserved: 0,
			quantity: 1_000,
			reason: "new product",
			by: "system",
			at: now,
		})),
	);
	return made;
}

/** Past orders: one in a hundred belongs to `customerId`, the rest to other customers. */
async function seedOrders(dataDir: string, count: number, customerId: string, products: { id: string; price: number }[]): Promise<void> {
	const now = Date.now();
	const batch = 10_000;
	for (let done = 0; done < count; done += batch) {
		const docs = Array.from({ length: Math.min(batch, count - done) }, (_, i) => {
			const product = products[(done + i) % products.length] as { id: string; price: number };
			const createdAt = new Date(now - Math.floor(Math.random() * 365 * DAY_MS));
			const status = STATUSES[(done + i) % STATUSES.length] as string;
			return {
				_id: randomUUID(),
				userId: (done + i) % 100 === 0 ? customerId : randomUUID(),
				items: [{ productId: product.id, name: "Seeded product", price: product.price, quantity: 1 }],
				total: product.price,
				currency: "USD",
				status,
				paymentStatus: status === "failed" ? "declined" : "paid",
				history: [
					{ status: "pending", at: createdAt, by: "seed" },
					{ status, at: createdAt, by: "seed" },
				],
				shippingAddress: { name: "Seeded", line1: "1 Data Road", city: "Scale", postalCode: "10000", country: "NL" },
				cardLast4: "4242",
				createdAt,
				updatedAt: createdAt,
			};
		});
		await appendDocs(dataDir, "orders", docs);
	}
}

interface Query {
	name: string;
	pool: (size: number, level: ScalingLevel) => PlannedRequest[];
}

/** Each point sends `queries` requests one after another, or stops after `seconds` if they are that slow. */
export async function scalingWithData(
	levels: ScalingLevel[],
	limits: { queries: number; seconds: number },
): Promise<{ rows: Row[]; points: ScalingPoint[] }> {
	const dataDir = mkdtempSync(path.join(tmpdir(), "agora-bench-scaling-"));
	try {
		// A first start makes the admin, the JWT secret and a customer whose orders are seeded below.
		const first = await startSystem("embedded", { env: { DATA_DIR: dataDir } });
		let admin: string;
		let customer: { token: string; id: string };
		try {
			admin = await adminToken(client(first.url));
			customer = await newCustomer(client(first.url), "Scaling Customer");
		} finally {
			await first.stop();
		}
		const as = (token: string) => ({ authorization: `Bearer ${token}` });
		const queries: Query[] = [
			{
				name: "GET /api/orders (admin, newest 20)",
				pool: () => [{ method: "GET", path: "/api/orders?page=1&pageSize=20", headers: as(admin) }],
			},
			{
				name: "GET /api/orders?status=shipped (admin)",
				pool: () =>
					[1, 2, 3, 4, 5].map((page) => ({
						method: "GET",
						path: `/api/orders?status=shipped&page=${page}&pageSize=20`,
						headers: as(admin),
					})),
			},
			{
				name: "GET /api/orders (customer, own)",
				pool: () => [{ method: "GET", path: "/api/orders?page=1&pageSize=20", headers: as(customer.token) }],
			},
			{
				name: "GET /api/products?q= (search)",
				pool: (size, level) =>
					Array.from({ length: size }, (_, i) => ({
						method: "GET",
						path: `/api/products?q=${String(Math.floor((i * level.products) / size)).padStart(6, "0")}`,
					})),
			},
			{
				name: "GET /api/products?category=&sort=price",
				pool: (size) =>
					Array.from({ length: size }, (_, i) => ({
						method: "GET",
						path: `/api/products?category=category-3&sort=${i % 2 ? "price" : "-price"}&pageSize=${20 + Math.floor(i / 2)}`,
					})),
			},
		];

		const points: ScalingPoint[] = [];
		const starts: (ScalingLevel & { ms: number })[] = [];
		const seeded = { orders: 0, products: [] as { id: string; price: number }[] };
		for (const level of levels) {
			seeded.products.push(...(await seedProducts(dataDir, seeded.products.length, level.products)));
			await seedOrders(dataDir, level.orders - seeded.orders, customer.id, seeded.products);
			seeded.orders = level.orders;
			const starting = performance.now();
			const agora = await startSystem("embedded", { env: { DATA_DIR: dataDir } });
			starts.push({ ...level, ms: performance.now() - starting });
			try {
				for (const query of queries) {
					const pool = query.pool(limits.queries, level);
					const { result, peakRssMb } = await measured(systemPids(agora), () =>
						runLoad({ url: agora.url, connections: 1, durationSeconds: limits.seconds, maxRequests: limits.queries, pool }),
					);
					if (result.ok !== result.requests) throw new Error(`${query.name}: ${result.requests - result.ok} requests failed`);
					points.push({ ...level, query: query.name, requests: result.requests, p50Ms: result.p50Ms, p99Ms: result.p99Ms, peakRssMb });
				}
			} finally {
				await agora.stop();
			}
		}
		const rows = points.map((point): Row => {
			const smallest = points.find((other) => other.query === point.query) as ScalingPoint;
			return {
				workload: "5 scaling with data",
				mode: "embedded",
				subject: `${point.query} @ ${point.orders / 1000}k orders, ${point.products / 1000}k products`,
				throughput: null,
				unit: "",
				p50Ms: point.p50Ms,
				p99Ms: point.p99Ms,
				peakRssMb: point.peakRssMb,
				baseline: `same query @ ${smallest.orders / 1000}k orders, ${smallest.products / 1000}k products: p50 ${smallest.p50Ms} ms`,
				// autocannon's latencies have a resolution of 1 ms: below it, both count as 1 ms.
				ratio: Math.max(smallest.p50Ms, 1) / Math.max(point.p50Ms, 1),
				note: `${point.requests} requests; ratio = p50 at the smallest size / p50 here (1 = flat)`,
			};
		});
		const [firstStart] = starts;
		for (const start of starts)
			rows.push({
				workload: "5 scaling with data",
				mode: "embedded",
				subject: `start to ready @ ${start.orders / 1000}k orders, ${start.products / 1000}k products`,
				throughput: null,
				unit: "",
				p50Ms: start.ms,
				p99Ms: start.ms,
				peakRssMb: null,
				baseline: `start @ ${(firstStart?.orders ?? 0) / 1000}k orders: ${Math.round(firstStart?.ms ?? 0)} ms`,
				ratio: (firstStart?.ms ?? 0) / start.ms,
				note: "one start: process spawn to /api/ready answering 200",
			});
		return { rows, points };
	} finally {
		rmSync(dataDir, { recursive: true, force: true });
	}
}
