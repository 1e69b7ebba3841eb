import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { DuplicateKeyError, SqliteAdapter, UnsupportedQueryError } from "../../lib/platform/sqlite-adapter";

/** The embedded store answers the MongoDB-style queries the services make, as MongoDB would, and refuses the rest. */

let dir: string;
let orders: SqliteAdapter;

const day = (n: number) => new Date(Date.UTC(2026, 0, n));

beforeEach(async () => {
	dir = mkdtempSync(path.join(tmpdir(), "agora-sqlite-"));
	orders = new SqliteAdapter(path.join(dir, "agora.sqlite"), {
		name: "orders",
		fields: { status: String, idempotencyKey: String, createdAt: { type: Date, required: true } },
		indexes: [{ fields: { idempotencyKey: 1 }, unique: true, sparse: true }, { fields: { status: 1, createdAt: -1 } }],
	});
	await orders.connect();
	for (const [n, status, idempotencyKey] of [
		[1, "pending", "k1"],
		[2, "confirmed", undefined],
		[3, "shipped", undefined],
		[4, "pending", "k4"],
	] as const)
		await orders.insert({
			_id: `o${n}`,
			status,
			createdAt: day(n),
			history: [{ status, at: day(n) }],
			...(idempotencyKey ? { idempotencyKey } : {}),
		});
});

afterEach(async () => {
	await orders.disconnect();
	rmSync(dir, { recursive: true, force: true });
});

const ids = (docs: Record<string, unknown>[]) => docs.map((doc) => doc._id);

test("dates, nested ones included, come back as Dates and compare as dates", async () => {
	const doc = await orders.findById("o2");
	expect(doc?.createdAt).toEqual(day(2));
	expect(doc?.history).toEqual([{ status: "confirmed", at: day(2) }]);
	expect(ids(await orders.find({ query: { createdAt: { $lt: day(3) } }, sort: ["createdAt"] }))).toEqual(["o1", "o2"]);
	expect(ids(await orders.find({ query: { status: "pending" }, sort: ["-createdAt"] }))).toEqual(["o4", "o1"]);
});

test("$in, $nin, $ne, $or, limit and offset select as MongoDB does; a missing field counts as null", async () => {
	expect(ids(await orders.find({ query: { _id: { $in: ["o3", "o1", "nope"] } }, sort: ["_id"] }))).toEqual(["o1", "o3"]);
	expect(ids(await orders.find({ query: { status: { $nin: ["pending"] } }, sort: ["_id"] }))).toEqual(["o2", "o3"]);
	expect(ids(await orders.find({ query: { idempotencyKey: { $ne: "k1" } }, sort: ["_id"] }))).toEqual(["o2", "o3", "o4"]);
	expect(ids(await orders.find({ query: { idempotencyKey: null }, sort: ["_id"] }))).toEqual(["o2", "o3"]);
	expect(ids(await orders.find({ query: { $or: [{ status: "shipped" }, { idempotencyKey: "k4" }] }, sort: ["_id"] }))).toEqual([
		"o3",
		"o4",
	]);
	expect(ids(await orders.find({ query: {}, sort: ["-createdAt"], limit: 2, offset: 1 }))).toEqual(["o3", "o2"]);
	expect(await orders.count({ query: { status: "pending" } })).toBe(2);
});

test("a conditional update changes only what still matches, and says how many", async () => {
	expect(await orders.updateMany({ _id: "o1", status: "pending" }, { $set: { status: "confirmed", updatedAt: day(9) } })).toBe(1);
	expect(await orders.updateMany({ _id: "o1", status: "pending" }, { $set: { status: "failed" } })).toBe(0);
	expect(await orders.findById("o1")).toMatchObject({ status: "confirmed", updatedAt: day(9) });
	expect(await orders.updateById("o2", { $set: { status: "processing" } })).toMatchObject({ _id: "o2", status: "processing" });
	expect(await orders.updateById("none", { $set: { status: "processing" } })).toBeNull();
});

test("unique indexes refuse a duplicate key as a DuplicateKeyError; sparse ones only among documents that have the field", async () => {
	await expect(orders.insert({ _id: "o5", status: "pending", createdAt: day(5), idempotencyKey: "k1" })).rejects.toBeInstanceOf(
		DuplicateKeyError,
	);
	await expect(orders.insert({ _id: "o1", status: "pending", createdAt: day(5) })).rejects.toMatchObject({ errorType: "uniqueViolated" });
	await orders.insert({ _id: "o6", status: "pending", createdAt: day(6) });
	expect(await orders.count()).toBe(5);
});

test("anything outside the supported subset is refused with a clear error, not answered wrongly", async () => {
	await expect(orders.find({ query: { status: { $exists: true } } })).rejects.toThrow(
		new UnsupportedQueryError('query operator $exists (on "status") is not supported'),
	);
	await expect(orders.find({ query: { $where: "1" } })).rejects.toThrow(UnsupportedQueryError);
	await expect(orders.find({ query: { history: { status: "pending" } } })).rejects.toThrow(/exact sub-document/);
	await expect(orders.find({ query: { createdAt: { $lt: "2026-01-02" } } })).rejects.toThrow(/holds dates/);
	await expect(orders.updateMany({ _id: "o1" }, { $push: { history: {} } })).rejects.toThrow(/\$set/);
	await expect(orders.updateMany({ _id: "o1" }, { $set: { "history.0.status": "x" } })).rejects.toThrow(/top-level/);
	expect(await orders.findById("o1")).toMatchObject({ status: "pending" });
});
