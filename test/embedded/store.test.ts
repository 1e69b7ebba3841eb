import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { hash } from "@node-rs/argon2";
import { MemoryAdapter } from "moleculer-db";
import { type Agora, startAgora } from "../support/agora";
import { ADDRESS, createProduct, orderBody } from "../support/commerce.suite";
import { adminToken, client, newCustomer } from "../support/http";

/** The embedded store's file, its data surviving a crash, and a data directory from the NeDB days. */

let dataDir: string;
const running: Agora[] = [];

beforeEach(() => {
	dataDir = mkdtempSync(path.join(tmpdir(), "agora-store-"));
});

afterEach(async () => {
	await Promise.all(running.splice(0).map((agora) => agora.stop()));
	rmSync(dataDir, { recursive: true, force: true });
});

async function start(env: Record<string, string> = {}): Promise<Agora> {
	const agora = await startAgora({ env: { DATA_DIR: dataDir, ...env } });
	running.push(agora);
	return agora;
}

test("an order answered 201 is there after the process is killed with SIGKILL right after", async () => {
	const first = await start();
	let api = client(first.url);
	const admin = await adminToken(api);
	const product = await createProduct(api, admin, { name: "Crash-Proof Mug", stock: 5 });
	const customer = await newCustomer(api);

	const placed = await api.post("/orders", orderBody([{ productId: product.id, quantity: 2 }]), { token: customer.token });
	expect(placed.status).toBe(201);
	const [node] = first.nodes;
	if (!node) throw new Error("no node");
	await first.kill(node, "SIGKILL");

	const second = await start();
	api = client(second.url);
	const found = await api.get(`/orders/${placed.body.id}`, { token: customer.token });
	expect(found.status).toBe(200);
	expect(found.body).toMatchObject({ id: placed.body.id, userId: customer.id, total: 2 * product.price });
	expect(found.body.items).toEqual([expect.objectContaining({ productId: product.id, quantity: 2 })]);
	expect(found.body.createdAt).toBe(placed.body.createdAt);
	// The reservation was made before the 201 as well: the two units are not on sale again.
	expect((await api.get(`/inventory/${product.id}`)).body.available).toBe(3);
});

/** Writes collections with moleculer-db's NeDB adapter, the embedded store before SQLite, as that version did. */
async function writeNedb(collection: string, docs: Record<string, unknown>[]): Promise<void> {
	const nedb = new MemoryAdapter({ filename: path.join(dataDir, `${collection}.db`) });
	await nedb.connect();
	for (const doc of docs) await nedb.insert(doc);
	await nedb.disconnect();
}

test("a data directory of NeDB files is migrated once, with a log line, and its shop is intact", async () => {
	const at = new Date("2025-03-04T05:06:07.089Z");
	const userId = randomUUID();
	const productId = randomUUID();
	const orderId = randomUUID();
	const email = "long-time-customer@example.com";
	await writeNedb("users", [
		{
			_id: userId,
			email,
			name: "Long-Time Customer",
			role: "customer",
			passwordHash: await hash("from-the-nedb-days", { memoryCost: 19_456, timeCost: 2, parallelism: 1 }),
			createdAt: at,
		},
	]);
	await writeNedb("products", [
		{
			_id: productId,
			name: "Heirloom Lantern",
			sku: "NEDB-1",
			price: 3200,
			currency: "USD",
			category: "lighting",
			description: "Sold since the NeDB days",
			imageUrl: null,
			createdAt: at,
			updatedAt: at,
		},
	]);
	await writeNedb("inventory", [{ _id: productId, available: 6, reserved: 0, seq: 1, lowStockThreshold: 2, updatedAt: at }]);
	const line = { productId, orderId: null, reason: "", by: "system", reservedDelta: 0, reserved: 0, at };
	await writeNedb("stock-movements", [
		{
			...line,
			_id: randomUUID(),
			seqKey: `${productId}#0`,
			key: `init:${productId}`,
			seq: 0,
			kind: "init",
			delta: 7,
			available: 7,
			quantity: 7,
		},
		{
			...line,
			_id: randomUUID(),
			seqKey: `${productId}#1`,
			key: `${orderId}:sold`,
			seq: 1,
			kind: "adjust",
			delta: -1,
			available: 6,
			quantity: 1,
		},
	]);
	await writeNedb("orders", [
		{
			_id: orderId,
			userId,
			items: [{ productId, name: "Heirloom Lantern", price: 3200, quantity: 1 }],
			total: 3200,
			currency: "USD",
			status: "delivered",
			paymentStatus: "paid",
			history: [
				{ status: "pending", at, by: userId },
				{ status: "delivered", at, by: "admin" },
			],
			shippingAddress: ADDRESS,
			cardLast4: "4242",
			createdAt: at,
			updatedAt: at,
		},
	]);

	const first = await start({ LOGLEVEL: "info" });
	const migrated = first.nodes.flatMap((node) => node.output).filter((text) => text.includes("Migrated"));
	for (const collection of ["users", "products", "inventory", "stock-movements", "orders"]) {
		expect(migrated).toEqual(expect.arrayContaining([expect.stringContaining(`Migrated ${collection} from NeDB`)]));
		expect(existsSync(path.join(dataDir, `${collection}.db`))).toBe(false);
		expect(existsSync(path.join(dataDir, `${collection}.db.migrated`))).toBe(true);
	}
	await first.stop();
	running.splice(running.indexOf(first), 1);

	// The second start finds nothing to migrate and the same shop.
	const second = await start({ LOGLEVEL: "info" });
	expect(second.nodes.flatMap((node) => node.output).filter((text) => text.includes("Migrated"))).toEqual([]);
	const api = client(second.url);
	const login = await api.post("/auth/login", { email, password: "from-the-nedb-days" });
	expect(login.status).toBe(200);
	const orders = await api.get("/orders", { token: login.body.token });
	expect(orders.body.rows).toEqual([
		expect.objectContaining({ id: orderId, status: "delivered", total: 3200, createdAt: at.toISOString() }),
	]);
	expect(orders.body.rows[0].history[1]).toMatchObject({ status: "delivered", at: at.toISOString() });
	const found = await api.get("/products?q=lantern");
	expect(found.body.rows).toEqual([expect.objectContaining({ id: productId, sku: "NEDB-1", stock: 6 })]);
	expect((await api.get(`/inventory/${productId}`)).body).toMatchObject({ available: 6, lowStockThreshold: 2 });

	// And it goes on trading: the ledger continues from the migrated line.
	const placed = await api.post("/orders", orderBody([{ productId, quantity: 2 }]), { token: login.body.token });
	expect(placed.status).toBe(201);
	expect((await api.get(`/inventory/${productId}`)).body.available).toBe(4);
});
