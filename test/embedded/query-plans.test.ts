import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ServiceBroker } from "moleculer";
import { serviceFile } from "../../lib/platform/service-files";
import { useSettings } from "../../lib/platform/settings";
import { SqliteAdapter } from "../../lib/platform/sqlite-adapter";
import type { FindFilters } from "../../lib/platform/store";
import brokerOptions from "../../moleculer.config";
import { ADDRESS } from "../support/commerce.suite";
import { embeddedSettings } from "../support/in-process";

/**
 * Every list the app serves is answered through an index of the embedded store, never by reading
 * a whole table or sorting all its matches. The storage services run in this process on a fresh
 * DATA_DIR; every query they make while a shop is used (and while its lists are read) is recorded
 * and its SQLite plan checked.
 */

const ROOT = path.resolve(__dirname, "..", "..");
const dataDir = mkdtempSync(path.join(tmpdir(), "agora-plans-"));
const queries: { adapter: SqliteAdapter; filters: FindFilters }[] = [];
let broker: ServiceBroker;

beforeAll(async () => {
	// A webhook to a closed port of this machine: its deliveries fail at once, and are retried.
	useSettings({ ...embeddedSettings(dataDir, { LOGLEVEL: "error", WEBHOOK_ALLOW_PRIVATE: "1" }), backgroundLoops: true });
	const config = brokerOptions();
	const find = SqliteAdapter.prototype.find;
	jest.spyOn(SqliteAdapter.prototype, "find").mockImplementation(function (this: SqliteAdapter, ...args: unknown[]) {
		const filters = args[0] as FindFilters;
		queries.push({ adapter: this, filters });
		return find.call(this, filters);
	});
	broker = new ServiceBroker({ ...config, nodeID: "query-plans", logger: false });
	for (const name of ["users", "products", "inventory", "orders", "payments", "notifications", "webhooks"])
		broker.loadService(serviceFile(path.join(ROOT, "services"), name) ?? name);
	await broker.start();
});

afterAll(async () => {
	await broker?.stop();
	rmSync(dataDir, { recursive: true, force: true });
});

/**
 * Plan lines that read a whole table, or sort rows the index did not order. A query with
 * conditions must also find its rows through an index (SEARCH), not walk one (SCAN ... USING
 * INDEX is right only for a whole list read in index order); virtual tables (the trigram index,
 * `$in` lists) are searched by their own index.
 */
function unindexed(line: string, filters: FindFilters): boolean {
	if (line.includes("VIRTUAL TABLE")) return false;
	const conditions = Object.keys(filters.query ?? {}).length > 0;
	// A text search sorts what the trigram index found: that set is as large as the search is broad.
	const search = conditions && "$or" in (filters.query ?? {});
	return /^SCAN [^ ]+$/.test(line) || (conditions && line.startsWith("SCAN ")) || (!search && line.includes("TEMP B-TREE"));
}

test("every list and lookup the services make is served by an index", async () => {
	const admin = { meta: { user: { id: "admin", role: "admin" } } };
	const { user } = await broker.call<{ user: { id: string } }, object>("users.register", {
		email: "plans@example.com",
		password: "correct-horse",
		name: "Plan Reader",
	});
	const customer = { meta: { user: { id: user.id, role: "customer" } } };
	const webhook = await broker.call<{ id: string }, object>(
		"webhooks.create",
		{ url: "http://127.0.0.1:9/hooks", events: ["order.created", "order.updated", "order.cancelled"] },
		admin,
	);
	await broker.call("users.login", { email: "plans@example.com", password: "correct-horse" });
	const product = await broker.call<{ id: string }, object>(
		"products.create",
		{ name: "Indexed Lantern", sku: "PLAN-1", price: 1500, category: "lighting", stock: 9 },
		admin,
	);
	const order = await broker.call<{ id: string }, object>(
		"orders.place",
		{ items: [{ productId: product.id, quantity: 1 }], shippingAddress: ADDRESS, payment: { cardNumber: "4242424242424242" } },
		customer,
	);

	for (const who of [admin, customer]) {
		await broker.call("orders.list", {}, who);
		await broker.call("orders.list", { status: "confirmed" }, who);
		await broker.call("orders.changedSince", { since: new Date(0) }, who);
		await broker.call("payments.list", { orderId: order.id }, who);
		await broker.call("orders.get", { id: order.id }, who);
	}
	await broker.call("payments.list", {}, admin);
	for (const sort of ["newest", "price", "-price", "name"]) {
		await broker.call("products.search", { sort }, admin);
		await broker.call("products.search", { sort, category: "lighting" }, admin);
		await broker.call("products.search", { sort, q: "lantern" }, admin);
	}
	await broker.call("inventory.movements", { productId: product.id }, admin);
	await broker.call("inventory.lowStock", {}, admin);
	await broker.call("orders.cancel", { id: order.id }, customer);
	await broker.call("orders.reap", {}, admin);
	await broker.call("webhooks.list", {}, admin);
	await broker.call("webhooks.deliveries", { id: webhook.id }, admin);
	await broker.call("webhooks.deliveries", { id: webhook.id, status: "pending" }, admin);
	// The journals' relay runs on a timer: run it once on every service that has one.
	for (const service of broker.services) await (service as unknown as { relay?: () => Promise<void> }).relay?.();

	const tables = new Set(queries.map(({ adapter }) => adapter.spec.name));
	expect([...tables]).toEqual(
		expect.arrayContaining([
			"inventory",
			"orders",
			"orders-journal",
			"payments",
			"products",
			"stock-movements",
			"notifications",
			"webhooks",
			"webhook-deliveries",
		]),
	);
	const scans = queries
		.map(({ adapter, filters }) => ({ table: adapter.spec.name, filters, plan: adapter.explain(filters) }))
		.filter(({ filters, plan }) => plan.some((line) => unindexed(line, filters)));
	expect(scans).toEqual([]);
});
