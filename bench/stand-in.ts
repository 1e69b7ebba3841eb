/**
 * Workload 7: does the distributed mode's database stand-in use its indexes? A collection with
 * the index shapes Agora declares (a unique key, a sort field) on the MongoDB-wire server of
 * MONGO_URI, filled step by step to 50,000 documents; at each size, lookups by the unique key and
 * the newest-20 page, each as fast as one client can, against the same lookups at the first size.
 * The server's own `explain` tells whether the lookup is an index scan (FerretDB on PostgreSQL:
 * the GIN twin of scripts/infra/postgres/ferretdb-gin-indexes.sql).
 */
import { randomBytes } from "node:crypto";
import mongoose from "mongoose";
import type { Row } from "./harness";

// The driver mongoose ships (the app's own), not a second copy.
const { MongoClient } = mongoose.mongo;
type Collection = mongoose.mongo.Collection;
type Document = mongoose.mongo.Document;

export interface StandInSettings {
	sizes: number[];
	/** How long each lookup is repeated at each size. */
	seconds: number;
}

export interface StandInPoint {
	documents: number;
	keyLookupsPerSecond: number;
	keyLookupP50Ms: number;
	newestPagePerSecond: number;
	newestPageP50Ms: number;
	/** The database's plan for the key lookup, in short (e.g. "Bitmap Index Scan on ..._gin"). */
	keyLookupPlan: string;
}

interface Timed {
	perSecond: number;
	p50Ms: number;
}

/** Runs `query` back to back for `seconds`: one client's rate and median. */
async function repeat(seconds: number, query: (i: number) => Promise<unknown>): Promise<Timed> {
	const latencies: number[] = [];
	const started = performance.now();
	for (let i = 0; performance.now() - started < seconds * 1000; i++) {
		const t0 = performance.now();
		await query(i);
		latencies.push(performance.now() - t0);
	}
	const elapsed = (performance.now() - started) / 1000;
	latencies.sort((a, b) => a - b);
	return { perSecond: latencies.length / elapsed, p50Ms: latencies[Math.floor(latencies.length / 2)] ?? Number.NaN };
}

/** The plan nodes of an explain answer that name a scan, e.g. "Bitmap Index Scan on x_gin". */
function scans(explained: Document): string {
	const found = new Set<string>();
	const walk = (node: unknown): void => {
		if (Array.isArray(node)) node.forEach(walk);
		else if (node && typeof node === "object") {
			const record = node as Record<string, unknown>;
			const type = record["Node Type"];
			if (typeof type === "string" && type.includes("Scan"))
				found.add(`${type}${typeof record["Index Name"] === "string" ? ` on ${record["Index Name"]}` : ""}`);
			Object.values(record).forEach(walk);
		}
	};
	walk(explained);
	return found.size > 0 ? [...found].join(", ") : JSON.stringify(explained).slice(0, 200);
}

const keyOf = (i: number) => `key-${i}`;

async function fill(collection: Collection, from: number, to: number): Promise<void> {
	const batch = 1_000;
	for (let start = from; start < to; start += batch) {
		const docs = Array.from({ length: Math.min(batch, to - start) }, (_, n) => {
			const i = start + n;
			return {
				_id: `doc-${i}` as unknown as Document["_id"],
				k: keyOf(i),
				status: i % 5 === 0 ? "pending" : "confirmed",
				createdAt: new Date(Date.UTC(2026, 0, 1) + i * 1000),
			};
		});
		await collection.insertMany(docs, { ordered: false });
	}
}

export async function standInScaling(mongoUri: string, settings: StandInSettings): Promise<{ rows: Row[]; points: StandInPoint[] }> {
	const database = `agora_standin_${randomBytes(4).toString("hex")}`;
	const client = await MongoClient.connect(mongoUri);
	const db = client.db(database);
	try {
		const collection = db.collection("probe");
		await collection.createIndex({ k: 1 }, { unique: true });
		await collection.createIndex({ createdAt: -1 });
		const points: StandInPoint[] = [];
		let filled = 0;
		for (const size of settings.sizes) {
			await fill(collection, filled, size);
			filled = size;
			const keys = await repeat(settings.seconds, (i) => collection.findOne({ k: keyOf((i * 7919) % size) }));
			const newest = await repeat(settings.seconds, () => collection.find({}).sort({ createdAt: -1 }).limit(20).toArray());
			const explained = await db.command({ explain: { find: "probe", filter: { k: keyOf(size - 1) } } });
			points.push({
				documents: size,
				keyLookupsPerSecond: keys.perSecond,
				keyLookupP50Ms: keys.p50Ms,
				newestPagePerSecond: newest.perSecond,
				newestPageP50Ms: newest.p50Ms,
				keyLookupPlan: scans(explained),
			});
		}
		const first = points[0] as StandInPoint;
		const rows: Row[] = points.flatMap((point) => [
			{
				workload: "7 stand-in",
				mode: "distributed" as const,
				subject: `findOne({k}) by a unique key, ${point.documents} docs`,
				throughput: point.keyLookupsPerSecond,
				unit: "lookups/s",
				p50Ms: point.keyLookupP50Ms,
				p99Ms: null,
				peakRssMb: null,
				baseline: `same at ${first.documents} docs: ${first.keyLookupsPerSecond.toFixed(0)}/s`,
				ratio: point.keyLookupsPerSecond / first.keyLookupsPerSecond,
				note: `plan: ${point.keyLookupPlan}`,
			},
			{
				workload: "7 stand-in",
				mode: "distributed" as const,
				subject: `newest 20 (sort createdAt, limit 20), ${point.documents} docs`,
				throughput: point.newestPagePerSecond,
				unit: "pages/s",
				p50Ms: point.newestPageP50Ms,
				p99Ms: null,
				peakRssMb: null,
				baseline: `same at ${first.documents} docs: ${first.newestPagePerSecond.toFixed(1)}/s`,
				ratio: point.newestPagePerSecond / first.newestPagePerSecond,
				note: "FerretDB 1.24 sorts in its own memory: no index serves a sort",
			},
		]);
		return { rows, points };
	} finally {
		await db.dropDatabase().catch(() => undefined);
		await client.close();
	}
}
