import type { Agora } from "./agora";
import { createProduct, orderBody, orderReaches } from "./commerce.suite";
import { adminToken, type Client, client, type Json, newCustomer } from "./http";
import { type Listener, listen } from "./sockets";
import { eventually } from "./wait";

type Order = { id: string; userId: string; status: string; items: unknown[]; total: number; history: unknown[] };

const isOrder = (id: string, status?: string) => (order: Order) => order.id === id && (!status || order.status === status);

/** Small limits, so the suite can reach them. */
export const SOCKET_LIMITS = { SOCKETS_PER_USER: "3", SOCKET_RATE_LIMIT: "8" };

/**
 * The Socket.IO contract of docs/events.md, through real socket.io clients. Shoppers and admins sit
 * on the first gateway and the last one; with two gateways, every change must still reach each
 * socket exactly once. Start the cluster with `SOCKET_LIMITS`.
 */
export function realtimeSuite(agora: () => Agora): void {
	let first: string;
	let last: string;
	let api: Client;
	let admin: string;
	let ann: { token: string; id: string };
	let bob: { token: string; id: string };
	const open: Listener[] = [];

	async function connect(url: string, token?: string): Promise<Listener> {
		const listener = await listen(url, token);
		open.push(listener);
		return listener;
	}

	beforeAll(async () => {
		const gateways = agora().nodes.filter((node) => node.port !== null).length;
		first = agora().gatewayUrl(0);
		last = agora().gatewayUrl(gateways - 1);
		api = client(last);
		admin = await adminToken(api);
		ann = await newCustomer(api, "Live Ann");
		bob = await newCustomer(api, "Live Bob");
		// A fresh cluster takes a while to settle: Kafka consumer groups wait for partitions, and a
		// gateway the realtime node has not discovered yet misses a broadcast push. Start once a
		// change made now reaches both gateways' sockets.
		const watchers = await Promise.all([listen(first), listen(last)]);
		await eventually(
			async () => {
				const product = await createProduct(api, admin);
				await Promise.all(watchers.map((watcher) => watcher.waitFor("product.created", (p: Json) => p.id === product.id, 5_000)));
			},
			{ timeoutMs: 90_000 },
		);
		for (const watcher of watchers) watcher.close();
	}, 120_000);

	afterEach(() => {
		for (const listener of open.splice(0)) listener.close();
	});

	async function placeConfirmedOrder(product: Json, quantity = 1): Promise<Order> {
		const placed = await api.post("/orders", orderBody([{ productId: product.id, quantity }]), { token: ann.token });
		expect(placed.status).toBe(201);
		return orderReaches(api, admin, placed.body.id, "confirmed");
	}

	test("a placed order reaches the admins and its owner, once each, on any gateway; nobody else", async () => {
		const [adminSocket, annSocket, bobSocket, anonymous] = await Promise.all([
			connect(first, admin),
			connect(last, ann.token),
			connect(first, bob.token),
			connect(last),
		]);
		const product = await createProduct(api, admin, { stock: 10 });
		const placed = await api.post("/orders", orderBody([{ productId: product.id, quantity: 2 }]), { token: ann.token });

		const created = await adminSocket.waitFor<Order>("order.created", isOrder(placed.body.id));
		expect(created).toMatchObject({ userId: ann.id, status: "pending", total: 2 * product.price });
		expect(created.items).toHaveLength(1);
		await annSocket.waitFor("order.created", isOrder(placed.body.id));
		// The saga's next change arrives after the first; by then a duplicate would have come too.
		await adminSocket.waitFor("order.updated", isOrder(placed.body.id, "confirmed"));
		await annSocket.waitFor("order.updated", isOrder(placed.body.id, "confirmed"));
		expect(adminSocket.received("order.created", isOrder(placed.body.id))).toHaveLength(1);
		expect(annSocket.received("order.created", isOrder(placed.body.id))).toHaveLength(1);
		expect(adminSocket.received("order.updated", isOrder(placed.body.id, "confirmed"))).toHaveLength(1);
		for (const outsider of [bobSocket, anonymous])
			for (const event of ["order.created", "order.updated"]) expect(outsider.received(event)).toEqual([]);
		// Stock changes are public.
		await anonymous.waitFor("inventory.updated", (stock: { productId: string; available: number }) => stock.productId === product.id);
	});

	test("an admin's status change reaches the owner at once; another customer gets nothing", async () => {
		const product = await createProduct(api, admin, { stock: 10 });
		const order = await placeConfirmedOrder(product);
		const [annSocket, bobSocket, adminSocket] = await Promise.all([
			connect(first, ann.token),
			connect(last, bob.token),
			connect(last, admin),
		]);

		const res = await api.patch(`/orders/${order.id}/status`, { status: "processing" }, { token: admin });
		expect(res.status).toBe(200);
		const pushed = await annSocket.waitFor<Order>("order.updated", isOrder(order.id, "processing"));
		expect(pushed.history).toHaveLength(3);
		await adminSocket.waitFor("order.updated", isOrder(order.id, "processing"));
		expect(bobSocket.received("order.updated")).toEqual([]);
	});

	test("the owner cancels: admins get order.cancelled, everyone gets the stock back", async () => {
		const product = await createProduct(api, admin, { stock: 10 });
		const order = await placeConfirmedOrder(product, 4);
		const [adminSocket, anonymous] = await Promise.all([connect(first, admin), connect(last)]);

		expect((await api.post(`/orders/${order.id}/cancel`, undefined, { token: ann.token })).status).toBe(200);
		const cancelled = await adminSocket.waitFor<Order>("order.cancelled", isOrder(order.id));
		expect(cancelled.status).toBe("cancelled");
		await anonymous.waitFor(
			"inventory.updated",
			(stock: { productId: string; available: number }) => stock.productId === product.id && stock.available === 10,
		);
		expect(anonymous.received("order.cancelled")).toEqual([]);
	});

	test("an order that takes stock to its threshold alerts the admins once, not on every later order", async () => {
		const [adminSocket, annSocket] = await Promise.all([connect(first, admin), connect(last, ann.token)]);
		const product = await createProduct(api, admin, { stock: 6, lowStockThreshold: 3 });
		const isProduct = (alert: { productId: string }) => alert.productId === product.id;

		await placeConfirmedOrder(product, 3);
		const alert = await adminSocket.waitFor("inventory.low-stock", isProduct);
		expect(alert).toMatchObject({ productId: product.id, name: product.name, available: 3, threshold: 3 });
		// Still under the threshold: the next order must not raise it again.
		await placeConfirmedOrder(product, 1);
		await adminSocket.waitFor(
			"inventory.updated",
			(stock: { productId: string; available: number }) => isProduct(stock) && stock.available === 2,
		);
		expect(adminSocket.received("inventory.low-stock", isProduct)).toHaveLength(1);
		expect(annSocket.received("inventory.low-stock")).toEqual([]);
	});

	test("a bad token is refused with a clear reason, and the gateway stays up", async () => {
		const [header, payload, signature] = ann.token.split(".");
		const claims = JSON.parse(Buffer.from(payload ?? "", "base64url").toString());
		const forged = [header, Buffer.from(JSON.stringify({ ...claims, role: "admin" })).toString("base64url"), signature].join(".");
		for (const token of [forged, "not-a-jwt", `${ann.token}x`])
			await expect(listen(first, token)).rejects.toMatchObject({ message: "INVALID_TOKEN" });
		expect((await fetch(`${first}/api/health`)).status).toBe(200);
		await connect(first, ann.token);
	});

	test("a customer cannot join the admins' room by asking, nor call other actions", async () => {
		const annSocket = await connect(first, ann.token);
		annSocket.socket.emit("join", "admins");
		for (const action of ["orders.list", "$node.list", "api.ready", "users.me"]) {
			const [error] = await annSocket.call(action);
			expect(error).toBeTruthy();
		}
		const adminSocket = await connect(first, admin);
		const bobs = await api.post("/orders", orderBody([{ productId: (await createProduct(api, admin)).id, quantity: 1 }]), {
			token: bob.token,
		});
		await adminSocket.waitFor("order.created", isOrder(bobs.body.id));
		await adminSocket.waitFor("order.updated", isOrder(bobs.body.id, "confirmed"));
		expect(annSocket.received("order.created")).toEqual([]);
	});

	test("a dropped socket is re-joined to its rooms and catches up on what it missed", async () => {
		const product = await createProduct(api, admin, { stock: 10 });
		const order = await placeConfirmedOrder(product);
		const annSocket = await connect(last, ann.token);
		const since = new Date().toISOString();

		annSocket.socket.disconnect();
		expect((await api.patch(`/orders/${order.id}/status`, { status: "processing" }, { token: admin })).status).toBe(200);
		const back = new Promise<void>((resolve) => annSocket.socket.once("connect", () => resolve()));
		annSocket.socket.connect();
		await back;
		const [error, missed] = await annSocket.call("orders.changedSince", { since });
		expect(error).toBeNull();
		expect(missed).toEqual([expect.objectContaining({ id: order.id, status: "processing" })]);

		// The transport dies under it (a gateway restart, a flaky network): it reconnects by itself.
		const again = new Promise<void>((resolve) => annSocket.socket.once("connect", () => resolve()));
		annSocket.socket.io.engine.close();
		await again;
		expect((await api.patch(`/orders/${order.id}/status`, { status: "shipped" }, { token: admin })).status).toBe(200);
		await annSocket.waitFor("order.updated", isOrder(order.id, "shipped"));
	});

	test("one account's sockets are capped, and a socket that floods is told to slow down", async () => {
		const perUser = Number(SOCKET_LIMITS.SOCKETS_PER_USER);
		const perSocket = Number(SOCKET_LIMITS.SOCKET_RATE_LIMIT);
		const carol = await newCustomer(api, "Many Tabs Carol");
		const tabs = await Promise.all(Array.from({ length: perUser }, () => connect(first, carol.token)));
		await expect(listen(first, carol.token)).rejects.toMatchObject({ message: "TOO_MANY_CONNECTIONS" });
		// A closed tab frees its place.
		tabs[0]?.close();
		const replacement = await eventually(() => connect(first, carol.token), { timeoutMs: 5_000 });

		const since = new Date(0).toISOString();
		const answers = await Promise.all(Array.from({ length: perSocket + 3 }, () => replacement.call("orders.changedSince", { since })));
		const limited = answers.filter(([error]) => (error as { code?: number } | null)?.code === 429);
		expect(limited).toHaveLength(3);
		expect(answers.slice(0, perSocket).every(([error]) => error === null)).toBe(true);
	});
}
