/**
 * The MongoDB-wire database of the distributed tier must answer a lookup by an indexed field from
 * that index, as MongoDB does: otherwise every idempotency key, ledger and journal lookup scans its
 * collection and the figures of `npm run bench` measure the scan. FerretDB's SQLite backend ignores
 * secondary indexes; on PostgreSQL its pushed-down filter needs the GIN twins that
 * scripts/infra/postgres/ferretdb-gin-indexes.sql adds. The server's own `explain` says which.
 */
import { randomBytes } from "node:crypto";
import mongoose from "mongoose";

const MONGO_URI = process.env.MONGO_URI ?? "mongodb://127.0.0.1:27017/agora";

/** The scan nodes of an explain answer: PostgreSQL's "Node Type" (FerretDB) or MongoDB's "stage". */
function scanNodes(explained: unknown): string[] {
	const found: string[] = [];
	const walk = (node: unknown): void => {
		if (Array.isArray(node)) node.forEach(walk);
		else if (node && typeof node === "object") {
			for (const [key, value] of Object.entries(node)) {
				if ((key === "Node Type" || key === "stage") && typeof value === "string") found.push(value);
				walk(value);
			}
		}
	};
	walk(explained);
	return found;
}

describe("the distributed tier's database", () => {
	const client = new mongoose.mongo.MongoClient(MONGO_URI);
	const db = client.db(`agora_indexes_${randomBytes(4).toString("hex")}`);

	afterAll(async () => {
		await db.dropDatabase().catch(() => undefined);
		await client.close();
	});

	test.each([
		["a unique key", { unique: true }, "k", (i: number) => `key-${i}`],
		["a non-unique field", {}, "owner", (i: number) => `owner-${i % 200}`],
	])("looks up by %s from its index, not by scanning the collection", async (_name, options, field, value) => {
		const collection = db.collection(`probe_${field}`);
		await collection.createIndex({ [field]: 1 }, options);
		await collection.insertMany(Array.from({ length: 5_000 }, (_, i) => ({ [field]: value(i), n: i })));

		const found = await collection.findOne({ [field]: value(4_321) });
		expect(found?.[field]).toBe(value(4_321));

		const explained = await db.command({ explain: { find: collection.collectionName, filter: { [field]: value(4_321) } } });
		const scans = scanNodes(explained);
		expect(scans.some((scan) => /Index Scan|IXSCAN/.test(scan))).toBe(true);
		expect(scans).not.toContain("Seq Scan");
		expect(scans).not.toContain("COLLSCAN");
	});
});
