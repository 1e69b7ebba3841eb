/**
 * The stored queue behind order emails and webhooks (lib/platform/delivery-queue.ts), on the
 * embedded store: two senders never send one attempt both, a dead sender's claim is taken over,
 * one entity's items wait for its earlier ones, failures back off and end `failed`, and a way out
 * that is down pauses the queue instead of failing every item on it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Logger } from "moleculer";
import {
	CLAIM_MS,
	claimsSpec,
	DeliveryQueue,
	doublingDelay,
	type Outcome,
	QUEUED_FIELDS,
	QUEUED_INDEXES,
	type Queued,
} from "../../lib/platform/delivery-queue";
import { SqliteAdapter } from "../../lib/platform/sqlite-adapter";
import { eventually } from "../support/wait";

interface Item extends Queued {
	label: string;
}

let dir: string;
let items: SqliteAdapter;
let claims: SqliteAdapter;
const queues: DeliveryQueue<Item>[] = [];

const quiet = { info: () => {}, warn: () => {} } as unknown as Logger;

function queue(send: (item: Item) => Promise<Outcome>, maxAttempts: number | null = 3, settleMs = 0): DeliveryQueue<Item> {
	const made = new DeliveryQueue<Item>({
		name: "test",
		items,
		claims,
		logger: quiet,
		read: (doc) => {
			const { _id, ...rest } = doc as Record<string, unknown>;
			return { id: String(_id), ...rest } as Item;
		},
		isDuplicateKey: (err) => (err as { errorType?: string }).errorType === "uniqueViolated",
		send,
		maxAttempts,
		retryDelayMs: doublingDelay(50, 200),
		concurrency: 4,
		settleMs,
	});
	queues.push(made);
	return made;
}

const stored = async (id: string) => (await items.findById(id)) as unknown as Item;

beforeEach(async () => {
	dir = mkdtempSync(path.join(tmpdir(), "agora-queue-"));
	const file = path.join(dir, "agora.sqlite");
	items = new SqliteAdapter(file, { name: "items", fields: { ...QUEUED_FIELDS, label: String }, indexes: QUEUED_INDEXES });
	claims = new SqliteAdapter(file, claimsSpec("items"));
	await items.connect();
	await claims.connect();
});

afterEach(async () => {
	await Promise.all(queues.splice(0).map((made) => made.stop()));
	await items.disconnect();
	await claims.disconnect();
	rmSync(dir, { recursive: true, force: true });
});

test("an item is recorded once by its id, and two senders racing for it send it once", async () => {
	const sent: string[] = [];
	const send = async (item: Item): Promise<Outcome> => {
		sent.push(item.id);
		await new Promise((resolve) => setTimeout(resolve, 50));
		return { delivered: true, statusCode: 200 };
	};
	const first = queue(send);
	const second = queue(send);
	expect(await first.enqueue({ _id: "a", entity: "x", at: new Date(), label: "one" })).toBe(true);
	expect(await second.enqueue({ _id: "a", entity: "x", at: new Date(), label: "again" })).toBe(false);
	for (let n = 0; n < 5; n++) {
		first.kick();
		second.kick();
	}
	await eventually(async () => expect((await stored("a")).status).toBe("delivered"));
	expect(sent).toEqual(["a"]);
	expect(await stored("a")).toMatchObject({ attempts: 1, lastStatusCode: 200, label: "one" });
	expect(await claims.count()).toBe(0);
});

test("a later item of an entity waits while an earlier one is pending; other entities go on", async () => {
	const sent: string[] = [];
	let firstDown = true;
	const made = queue(async (item) => {
		sent.push(item.id);
		return item.id === "early" && firstDown ? { delivered: false, error: "refused", statusCode: 500 } : { delivered: true };
	}, null);
	made.start();
	const t = Date.now();
	await made.enqueue({ _id: "late", entity: "order-1", at: new Date(t + 10), label: "" });
	await made.enqueue({ _id: "early", entity: "order-1", at: new Date(t), label: "" });
	await made.enqueue({ _id: "other", entity: "order-2", at: new Date(t + 5), label: "" });
	await eventually(async () => expect((await stored("other")).status).toBe("delivered"));
	await eventually(async () => expect((await stored("early")).attempts).toBeGreaterThanOrEqual(2));
	expect(sent).not.toContain("late");
	expect(await stored("early")).toMatchObject({ status: "pending", lastStatusCode: 500, lastError: "refused" });
	firstDown = false;
	await eventually(async () => expect((await stored("late")).status).toBe("delivered"));
	expect(sent.filter((id) => id !== "other" && id !== "early")).toEqual(["late"]);
});

test("failures back off and end failed after the last attempt; a retry makes it due again", async () => {
	let answer: Outcome = { delivered: false, error: "down", statusCode: 503 };
	const made = queue(async () => answer, 3);
	made.start();
	await made.enqueue({ _id: "f", entity: "e", at: new Date(), label: "" });
	await eventually(async () => expect((await stored("f")).status).toBe("failed"));
	expect(await stored("f")).toMatchObject({ attempts: 3, lastStatusCode: 503, lastError: "down" });
	answer = { delivered: true, statusCode: 200 };
	await made.retryNow("f");
	await eventually(async () => expect(await stored("f")).toMatchObject({ status: "delivered", attempts: 4 }));
});

test("an attempt refused for good fails the item at once", async () => {
	const made = queue(async () => ({ delivered: false, error: "no such mailbox", statusCode: 550, final: true }), null);
	await made.enqueue({ _id: "r", entity: "e", at: new Date(), label: "" });
	await eventually(async () => expect(await stored("r")).toMatchObject({ status: "failed", attempts: 1 }));
});

test("a way out that is down pauses the queue: the other items are not tried meanwhile", async () => {
	const tried: string[] = [];
	const made = queue(async (item) => {
		tried.push(item.id);
		return { delivered: false, error: "connection refused", wayOutDown: true };
	}, null);
	const t = Date.now();
	await made.enqueue({ _id: "m1", entity: "o1", at: new Date(t), label: "" });
	await made.enqueue({ _id: "m2", entity: "o2", at: new Date(t + 1), label: "" });
	await made.enqueue({ _id: "m3", entity: "o3", at: new Date(t + 2), label: "" });
	await eventually(async () => expect(tried.length).toBeGreaterThan(0));
	await new Promise((resolve) => setTimeout(resolve, 20));
	expect(tried).toEqual(["m1"]);
});

test("a live claim is left alone; one left by a sender that died mid-attempt is taken over once it expires", async () => {
	const made = queue(async () => ({ delivered: true }));
	const item = { status: "pending", entity: "e", at: new Date(), attempts: 0, nextAttemptAt: new Date(), createdAt: new Date(), label: "" };
	await items.insert({ _id: "busy", ...item });
	await items.insert({ _id: "stuck", ...item });
	await claims.insert({ _id: "busy#0", itemId: "busy", until: new Date(Date.now() + CLAIM_MS) });
	await claims.insert({ _id: "stuck#0", itemId: "stuck", until: new Date(Date.now() - 1) });
	made.start();
	// The lost attempt counts as one: the item goes out on the next.
	await eventually(async () => expect(await stored("stuck")).toMatchObject({ status: "delivered", attempts: 2 }));
	expect(await stored("busy")).toMatchObject({ status: "pending", attempts: 0 });
});

test("a new item waits a moment, so an earlier one of its entity that arrives just after it goes first", async () => {
	const sent: string[] = [];
	const made = queue(
		async (item) => {
			sent.push(item.id);
			return { delivered: true };
		},
		3,
		300,
	);
	const t = Date.now();
	await made.enqueue({ _id: "payment", entity: "order-1", at: new Date(t + 5), label: "" });
	await new Promise((resolve) => setTimeout(resolve, 100));
	await made.enqueue({ _id: "order", entity: "order-1", at: new Date(t), label: "" });
	await eventually(async () => expect(sent).toEqual(["order", "payment"]));
});
