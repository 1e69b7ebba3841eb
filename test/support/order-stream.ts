/**
 * Load and bookkeeping for the fault tests: a stream of orders placed by several customers through
 * the live gateways, and the checks that must hold after any fault: no accepted order lost or
 * duplicated, every one settled, and each product's units all accounted for.
 */

import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { createProduct, DECLINED_CARD, GOOD_CARD, orderBody } from "./commerce.suite";
import { type Client, client, type Json, newCustomer } from "./http";
import { eventually } from "./wait";

/** Statuses an order can no longer leave by itself (an admin may still move a confirmed one on). */
const SETTLED = ["confirmed", "failed", "cancelled", "processing", "shipped", "delivered"];
const SOLD = ["confirmed", "processing", "shipped", "delivered"];
const RETRY_PAUSE_MS = 250;
/**
 * How long a client waits for an answer before it gives up (told as `CLIENT_TIMEOUT`): three times
 * the cluster's request timeout (moleculer.config.ts), by which the gateway has answered 504.
 */
export const CLIENT_TIMEOUT_MS = 30_000;

export interface Attempt {
	/** The stream's phase when the request was sent (see `OrderStream.nextPhase`). */
	phase: number;
	gateway: string;
	/** HTTP status, or 0 when no answer came (connection refused or reset). */
	status: number;
	orderId?: string;
	/** The error type (`TIMEOUT`, ...), network message, or `CLIENT_TIMEOUT` of a failed attempt. */
	error?: string;
}

export interface OrderStream {
	attempts: Attempt[];
	/** Starts a new phase: later attempts are told apart from earlier ones (before / after a fault). */
	nextPhase(): number;
	/** Resolves once `count` more orders have been accepted (201) from now on. */
	accepted(count: number, timeoutMs?: number): Promise<void>;
	/** Lets the requests in flight finish and stops. */
	stop(): Promise<Attempt[]>;
}

export interface Shop {
	admin: string;
	/** Units each product started with. */
	initialStock: Map<string, number>;
	customers: string[];
	/** The account of each of `customers`, in the same order. */
	customerIds: string[];
	/** Every attempt of every stream on this shop, to tell its stored orders apart. */
	attempts: Attempt[];
}

/** Products with ample stock and one customer per stream worker. */
export async function openShop(api: Client, admin: string, { products = 3, customers = 4, stock = 10_000 } = {}): Promise<Shop> {
	const initialStock = new Map<string, number>();
	for (let i = 0; i < products; i++) initialStock.set((await createProduct(api, admin, { name: `Load item ${i}`, stock })).id, stock);
	const accounts = [];
	for (let i = 0; i < customers; i++) accounts.push(await newCustomer(api, `Load customer ${i}`));
	return {
		admin,
		initialStock,
		customers: accounts.map((account) => account.token),
		customerIds: accounts.map((account) => account.id),
		attempts: [],
	};
}

/**
 * One worker per customer places orders back to back, each to the next gateway of `gateways()`
 * (the load balancer's current endpoints), with a fresh Idempotency-Key; every fifth is paid with
 * the declined card so both ends of the saga run.
 */
export function startOrderStream(shop: Shop, gateways: () => string[]): OrderStream {
	const attempts: Attempt[] = [];
	const productIds = [...shop.initialStock.keys()];
	let phase = 0;
	let running = true;
	let sent = 0;
	let acceptedCount = 0;

	async function placeOne(token: string): Promise<void> {
		const urls = gateways();
		const gateway = urls[sent % urls.length] as string;
		const card = sent % 5 === 4 ? DECLINED_CARD : GOOD_CARD;
		const productId = productIds[sent % productIds.length] as string;
		sent++;
		const attempt: Attempt = { phase, gateway, status: 0 };
		try {
			const res = await client(gateway).post("/orders", orderBody([{ productId, quantity: 1 + (sent % 3) }], card), {
				token,
				headers: { "Idempotency-Key": randomUUID() },
				timeoutMs: CLIENT_TIMEOUT_MS,
			});
			attempt.status = res.status;
			if (res.status === 201) {
				attempt.orderId = res.body.id;
				acceptedCount++;
			} else attempt.error = res.body?.type ?? res.body?.message ?? String(res.body);
		} catch (err) {
			attempt.error =
				(err as Error).name === "TimeoutError"
					? "CLIENT_TIMEOUT"
					: (((err as Error).cause as Error | undefined)?.message ?? (err as Error).message);
		}
		attempts.push(attempt);
		shop.attempts.push(attempt);
		// Like a real client, back off a little after a failure instead of hammering a struggling shop.
		if (attempt.status !== 201) await sleep(RETRY_PAUSE_MS);
	}

	const workers = shop.customers.map(async (token) => {
		while (running) await placeOne(token);
	});

	return {
		attempts,
		nextPhase: () => ++phase,
		async accepted(count, timeoutMs = 60_000) {
			const target = acceptedCount + count;
			await eventually(
				async () => {
					if (acceptedCount < target) throw new Error(`${acceptedCount} of ${target} orders accepted so far`);
				},
				{ timeoutMs },
			);
		},
		async stop() {
			running = false;
			await Promise.all(workers);
			return attempts;
		},
	};
}

/** Every order in the shop, through the admin API. */
export async function allOrders(api: Client, admin: string): Promise<Json[]> {
	const orders: Json[] = [];
	for (let page = 1; ; page++) {
		const res = await api.get(`/orders?page=${page}&pageSize=100`, { token: admin });
		if (res.status !== 200) throw new Error(`listing orders failed: ${res.status} ${JSON.stringify(res.body)}`);
		orders.push(...res.body.rows);
		if (page >= res.body.totalPages) return orders;
	}
}

export interface Outcome {
	accepted: number;
	confirmed: number;
	failed: number;
	/** Attempts answered with an error or not at all, by phase. */
	errorsByPhase: Record<number, number>;
	/** Orders in the shop stored for requests that got no 201 (a call cut off mid-way). */
	unacknowledged: number;
}

/**
 * Waits until every order of the shop has settled and stock has caught up, then checks the
 * promises (and counts the outcome of `attempts`, one stream's):
 * - none lost: each 201 is an order in the shop, settled (confirmed or failed);
 * - none duplicated: each stored order belongs to one attempt (an accepted one, or one whose
 *   request failed mid-way: a timed-out placement may still have gone through, which is what the
 *   Idempotency-Key is for; one cut off before it could be paid is failed by another orders node);
 * - stock: for each product, available + reserved + sold = initial, and reserved is exactly what
 *   pending orders hold.
 */
export async function checkOutcome(api: Client, shop: Shop, attempts: Attempt[], { timeoutMs = 180_000 } = {}): Promise<Outcome> {
	const acceptedIds = new Set(shop.attempts.flatMap((attempt) => (attempt.orderId ? [attempt.orderId] : [])));
	expect(acceptedIds.size).toBe(shop.attempts.filter((attempt) => attempt.orderId).length);

	// The shop's orders are those of its products: other tests of the same cluster order other things.
	const ofShop = (order: Json) => order.items.some((line: { productId: string }) => shop.initialStock.has(line.productId));
	const orders = await eventually(
		async () => {
			const orders = (await allOrders(api, shop.admin)).filter(ofShop);
			const byId = new Map(orders.map((order) => [order.id, order]));
			const lost = [...acceptedIds].filter((id) => !byId.has(id));
			if (lost.length > 0) throw new Error(`accepted orders missing: ${lost.join(", ")}`);
			const unsettled = orders.filter((order) => !SETTLED.includes(order.status));
			if (unsettled.length > 0) {
				const [first] = unsettled;
				const payments = (await api.get(`/payments?orderId=${first.id}`, { token: shop.admin })).body;
				throw new Error(
					`${unsettled.length} order(s) still ${first.status}, e.g. ${first.id} (${acceptedIds.has(first.id) ? "accepted" : "no client told"}; payment ${first.paymentStatus}; history ${JSON.stringify(first.history)}; payments ${JSON.stringify(payments)})`,
				);
			}
			await expectStockAccountedFor(api, shop, orders);
			return orders;
		},
		{ timeoutMs, intervalMs: 1_000 },
	);
	const unacknowledged = orders.filter((order) => !acceptedIds.has(order.id));
	expect(unacknowledged.length).toBeLessThanOrEqual(shop.attempts.filter((attempt) => attempt.status !== 201).length);

	const ours = new Set(attempts.map((attempt) => attempt.orderId));
	const accepted = orders.filter((order) => ours.has(order.id));
	const failedAttempts = attempts.filter((attempt) => attempt.status !== 201);
	const errorsByPhase: Record<number, number> = {};
	for (const attempt of failedAttempts) errorsByPhase[attempt.phase] = (errorsByPhase[attempt.phase] ?? 0) + 1;
	return {
		accepted: accepted.length,
		confirmed: accepted.filter((order) => order.status === "confirmed").length,
		failed: accepted.filter((order) => order.status === "failed").length,
		errorsByPhase,
		unacknowledged: unacknowledged.length,
	};
}

/** For each product: available + reserved + sold = initial, and reserved = what pending orders hold. */
export async function expectStockAccountedFor(api: Client, shop: Shop, orders: Json[]): Promise<void> {
	for (const [productId, initial] of shop.initialStock) {
		const units = (statuses: string[]) =>
			orders
				.filter((order) => statuses.includes(order.status))
				.flatMap((order) => order.items)
				.filter((line) => line.productId === productId)
				.reduce((sum: number, line: { quantity: number }) => sum + line.quantity, 0);
		const stock = (await api.get(`/inventory/${productId}`)).body;
		expect({ productId, reserved: stock.reserved, total: stock.available + stock.reserved + units(SOLD) }).toEqual({
			productId,
			reserved: units(["pending"]),
			total: initial,
		});
	}
}
