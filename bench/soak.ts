/**
 * Workload 6 and issue 8's load test: idle RSS of a fresh embedded process, then a mixed soak of
 * configurable length (shoppers browsing, ordering with good and declined cards and cancelling,
 * an admin moving orders along, sockets connected), with the RSS slope, the error rate, and the
 * stock invariants checked at the end through the public API.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Socket } from "socket.io-client";
import { ORDER_STATUSES, type OrderStatus } from "../lib/contracts/orders";
import type { Reply } from "../test/support/http";
import { eventually } from "../test/support/wait";
import { type PlannedRequest, percentile, type Row, RssSampler, rssMb, runLoad, slope, startSystem, systemPids } from "./harness";
import { APPROVED_CARD, connectSockets, DECLINED_CARD, drainPending, openShop, orderBody, type Shop } from "./shop";

export interface SoakReport {
	mode: "embedded";
	minutes: number;
	idleRssMb: number;
	endRssMb: number;
	peakRssMb: number;
	/** MB per minute, least squares over the second half of the soak (after warm-up). */
	rssSlopeMbPerMin: number;
	rssSamples: { atSeconds: number; mb: number }[];
	requests: number;
	/** Answers no user should get: 5xx, unexpected 4xx, network errors. */
	unexpected: number;
	errorRate: number;
	/** Business refusals a shop gives under load: out of stock, an order that moved meanwhile (409). */
	conflicts: number;
	browse: { requests: number; ok: number; p50Ms: number; p99Ms: number };
	actions: { p50Ms: number; p99Ms: number; byKind: Record<string, Record<string, number>> };
	ordersByStatus: Record<string, number>;
	pushesReceived: number;
	/** Sockets the server dropped while the load ran. */
	socketsDisconnected: number;
	invariantsHold: boolean;
	violations: string[];
	rows: Row[];
}

interface OrderView {
	id: string;
	status: OrderStatus;
	items: { productId: string; quantity: number }[];
}

/** Counts every answer by kind and status, and keeps the latencies. */
class Tally {
	readonly byKind: Record<string, Record<string, number>> = {};
	readonly latencies: number[] = [];
	unexpected = 0;
	conflicts = 0;

	async track<T>(kind: string, expected: number[], request: () => Promise<Reply<T>>): Promise<Reply<T> | null> {
		const started = performance.now();
		let status = "network error";
		try {
			const res = await request();
			status = String(res.status);
			if (res.status === 409) this.conflicts++;
			else if (!expected.includes(res.status)) this.unexpected++;
			return res;
		} catch {
			this.unexpected++;
			return null;
		} finally {
			this.latencies.push(performance.now() - started);
			const counts = this.byKind[kind] ?? {};
			counts[status] = (counts[status] ?? 0) + 1;
			this.byKind[kind] = counts;
		}
	}

	get requests(): number {
		return this.latencies.length;
	}
}

const between = (min: number, max: number) => min + Math.random() * (max - min);

/** A shopper: orders (one in ten with a card that is declined), and cancels one order in four. */
async function shopper(shop: Shop, token: string, until: number, tally: Tally): Promise<void> {
	while (Date.now() < until) {
		const card = Math.random() < 0.1 ? DECLINED_CARD : APPROVED_CARD;
		const placed = await tally.track("place order", [201], () => shop.api.post("/orders", orderBody(shop, card), { token }));
		if (placed?.status === 201 && Math.random() < 0.25) {
			await sleep(between(50, 500));
			await tally.track("cancel order", [200], () => shop.api.post(`/orders/${placed.body.id}/cancel`, undefined, { token }));
		}
		await sleep(between(250, 750));
	}
}

/** The admin works the orders board: confirmed -> processing -> shipped -> delivered, and cancels a few. */
async function admin(shop: Shop, until: number, tally: Tally): Promise<void> {
	const moves: [OrderStatus, OrderStatus][] = [
		["confirmed", "processing"],
		["processing", "shipped"],
		["shipped", "delivered"],
	];
	while (Date.now() < until) {
		for (const [from, to] of moves) {
			const list = await tally.track("list orders", [200], () => shop.api.get(`/orders?status=${from}&pageSize=5`, { token: shop.admin }));
			for (const order of (list?.body.rows ?? []) as OrderView[]) {
				const next = from === "processing" && Math.random() < 0.1 ? "cancelled" : to;
				await tally.track("change status", [200], () =>
					shop.api.patch(`/orders/${order.id}/status`, { status: next }, { token: shop.admin }),
				);
			}
		}
		await sleep(between(250, 750));
	}
}

async function allOrders(shop: Shop): Promise<OrderView[]> {
	const orders: OrderView[] = [];
	for (let page = 1; ; page++) {
		const res = await shop.api.get(`/orders?page=${page}&pageSize=100`, { token: shop.admin });
		if (res.status !== 200) throw new Error(`GET /orders answered ${res.status}`);
		orders.push(...(res.body.rows as OrderView[]));
		if (page >= res.body.totalPages) return orders;
	}
}

const SOLD: readonly OrderStatus[] = ["confirmed", "processing", "shipped", "delivered"];

/**
 * stock + sold + reserved = initial for every product, the units reserved are exactly those of
 * pending orders, and every order is in a known state: what the shop promises after any load.
 */
async function checkInvariants(
	shop: Shop,
	initialStock: number,
): Promise<{ violations: string[]; ordersByStatus: Record<string, number> }> {
	const orders = await allOrders(shop);
	const ordersByStatus: Record<string, number> = {};
	const sold = new Map<string, number>();
	const pending = new Map<string, number>();
	const violations: string[] = [];
	for (const order of orders) {
		ordersByStatus[order.status] = (ordersByStatus[order.status] ?? 0) + 1;
		if (!ORDER_STATUSES.includes(order.status)) violations.push(`order ${order.id} has an unknown status ${order.status}`);
		const into = order.status === "pending" ? pending : SOLD.includes(order.status) ? sold : null;
		for (const { productId, quantity } of order.items) into?.set(productId, (into.get(productId) ?? 0) + quantity);
	}
	for (const productId of shop.products) {
		const res = await shop.api.get(`/inventory/${productId}`);
		const { available, reserved } = res.body as { available: number; reserved: number };
		const unitsSold = sold.get(productId) ?? 0;
		const unitsPending = pending.get(productId) ?? 0;
		if (available < 0) violations.push(`${productId}: available ${available} < 0`);
		if (available + reserved + unitsSold !== initialStock)
			violations.push(`${productId}: available ${available} + reserved ${reserved} + sold ${unitsSold} != initial ${initialStock}`);
		if (reserved !== unitsPending) violations.push(`${productId}: reserved ${reserved} != ${unitsPending} units of pending orders`);
	}
	return { violations, ordersByStatus };
}

export async function soak(settings: { minutes: number; sockets: number; quick: boolean }): Promise<SoakReport> {
	const agora = await startSystem("embedded");
	try {
		const [pid] = systemPids(agora) as [number];
		await sleep(settings.quick ? 1_000 : 5_000);
		const idleRssMb = rssMb(pid);

		const stock = settings.quick ? 30 : 300;
		const shop = await openShop(agora, { products: 20, customers: settings.quick ? 4 : 10, stock });
		const sockets: Socket[] = await connectSockets(agora.url, shop.admin, shop.customers, settings.sockets);
		let pushesReceived = 0;
		let socketsDisconnected = 0;
		for (const socket of sockets) {
			socket.onAny(() => pushesReceived++);
			socket.on("disconnect", () => socketsDisconnected++);
		}

		const seconds = Math.round(settings.minutes * 60);
		const until = Date.now() + seconds * 1000;
		const sampler = new RssSampler([pid], 2_000);
		const browsing: PlannedRequest[] = [
			{ method: "GET", path: "/api/products?page=1&pageSize=20" },
			...shop.products.map((id): PlannedRequest => ({ method: "GET", path: `/api/products/${id}` })),
			...[1, 2, 3, 4, 5, 6, 7, 8, 9].map((n): PlannedRequest => ({ method: "GET", path: `/api/products?q=product%20${n}&sort=price` })),
		];
		const tally = new Tally();
		const [browse] = await Promise.all([
			runLoad({ url: agora.url, connections: 4, durationSeconds: seconds, overallRate: 50, pool: browsing }),
			...shop.customers.map((customer) => shopper(shop, customer.token, until, tally)),
			admin(shop, until, tally),
		]);
		const peakRssMb = sampler.stop();
		const endRssMb = rssMb(pid);
		const droppedDuringSoak = socketsDisconnected;

		await drainPending(shop);
		// Commits and releases follow the orders' last change through the channels: let them land.
		let checked = { violations: ["not checked"], ordersByStatus: {} as Record<string, number> };
		try {
			await eventually(
				async () => {
					checked = await checkInvariants(shop, stock);
					if (checked.violations.length > 0) throw new Error(checked.violations.join("; "));
				},
				{ timeoutMs: 30_000, intervalMs: 1_000 },
			);
		} catch {
			// Reported below.
		}
		for (const socket of sockets) socket.disconnect();

		const secondHalf = sampler.samples.filter((sample) => sample.atMs >= (seconds * 1000) / 2);
		const rssSlopeMbPerMin = slope(secondHalf.map((sample) => ({ x: sample.atMs / 60_000, y: sample.mb })));
		const browseFailed = browse.requests - browse.ok + browse.errors;
		const requests = tally.requests + browse.requests;
		const unexpected = tally.unexpected + browseFailed;
		const report: Omit<SoakReport, "rows"> = {
			mode: "embedded",
			minutes: settings.minutes,
			idleRssMb,
			endRssMb,
			peakRssMb,
			rssSlopeMbPerMin,
			rssSamples: sampler.samples.map((sample) => ({ atSeconds: Math.round(sample.atMs / 1000), mb: Math.round(sample.mb * 10) / 10 })),
			requests,
			unexpected,
			errorRate: unexpected / requests,
			conflicts: tally.conflicts,
			browse: { requests: browse.requests, ok: browse.ok, p50Ms: browse.p50Ms, p99Ms: browse.p99Ms },
			actions: { p50Ms: percentile(tally.latencies, 50), p99Ms: percentile(tally.latencies, 99), byKind: tally.byKind },
			ordersByStatus: checked.ordersByStatus,
			pushesReceived,
			socketsDisconnected: droppedDuringSoak,
			invariantsHold: checked.violations.length === 0,
			violations: checked.violations,
		};
		return { ...report, rows: soakRows(report, settings.sockets) };
	} finally {
		await agora.stop();
	}
}

function soakRows(report: Omit<SoakReport, "rows">, sockets: number): Row[] {
	const orders = Object.values(report.ordersByStatus).reduce((sum, n) => sum + n, 0);
	return [
		{
			workload: "6 memory",
			mode: "embedded",
			subject: "idle RSS, fresh process",
			throughput: null,
			unit: "",
			p50Ms: null,
			p99Ms: null,
			peakRssMb: report.idleRssMb,
			baseline: null,
			ratio: null,
		},
		{
			workload: "6 memory + soak",
			mode: "embedded",
			subject: `mixed soak ${report.minutes} min, ${sockets} sockets`,
			throughput: report.requests / (report.minutes * 60),
			unit: "req/s",
			p50Ms: report.actions.p50Ms,
			p99Ms: report.actions.p99Ms,
			peakRssMb: report.peakRssMb,
			baseline: `idle ${report.idleRssMb.toFixed(0)} MB`,
			ratio: report.endRssMb / report.idleRssMb,
			note:
				`RSS slope ${report.rssSlopeMbPerMin.toFixed(2)} MB/min (2nd half); errors ${report.unexpected}/${report.requests} ` +
				`(${(report.errorRate * 100).toFixed(2)}%), 409s ${report.conflicts}; ${orders} orders; ` +
				`invariants ${report.invariantsHold ? "hold" : "BROKEN"}; ratio = end RSS / idle`,
		},
	];
}
