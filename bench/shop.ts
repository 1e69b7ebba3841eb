/**
 * Workloads on a running shop, through its public doors only (REST through the gateway, Socket.IO):
 * catalogue reads, order placement to `confirmed`, and push latency, each against its baseline.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { io, type Socket } from "socket.io-client";
import type { Agora } from "../test/support/agora";
import { adminToken, type Client, client, newCustomer } from "../test/support/http";
import { eventually } from "../test/support/wait";
import { type CostRow, costPerOrder, type IdleRates, snapshot } from "./costs";
import {
	inParallel,
	type Mode,
	measured,
	type PlannedRequest,
	percentile,
	type Row,
	runBenchProgram,
	runLoad,
	startBenchServer,
	systemPids,
} from "./harness";
import type { CannedResponse, PushMessage } from "./raw-server";
import type { Store } from "./stand-ins";
import type { StoreBaselinePlan, StoreBaselineResult } from "./store-baseline";

export const APPROVED_CARD = "4242424242424242";
export const DECLINED_CARD = "4000000000000002";

export const SHIPPING = { name: "Bench Shopper", line1: "1 Load Street", city: "Loadville", postalCode: "12345", country: "NL" };

export interface Customer {
	token: string;
	id: string;
}

/** A shop with a catalogue and customers, made through the REST API like a real admin and shoppers would. */
export interface Shop {
	api: Client;
	url: string;
	admin: string;
	products: string[];
	customers: Customer[];
}

export async function openShop(agora: Agora, sizes: { products: number; customers: number; stock: number }): Promise<Shop> {
	const api = client(agora.url);
	const admin = await adminToken(api);
	const products = await inParallel(
		Array.from({ length: sizes.products }, (_, i) => i),
		8,
		async (i) => {
			const res = await api.post(
				"/products",
				{
					name: `Bench product ${i}`,
					sku: `BENCH-${Date.now().toString(36)}-${i}`,
					price: 100 + i,
					category: `category-${i % 10}`,
					description: `A product the benchmark made, number ${i}`,
					stock: sizes.stock,
				},
				{ token: admin },
			);
			if (res.status !== 201) throw new Error(`product not created: ${res.status} ${JSON.stringify(res.body)}`);
			return res.body.id as string;
		},
	);
	const customers = await inParallel(
		Array.from({ length: sizes.customers }, (_, i) => i),
		4,
		(i) => newCustomer(api, `Bench ${i}`),
	);
	return { api, url: agora.url, admin, products, customers };
}

const pick = <T>(items: T[]): T => items[Math.floor(Math.random() * items.length)] as T;

/** An order of 1 to 3 different products, one unit each. */
export function orderBody(shop: Shop, cardNumber = APPROVED_CARD) {
	const productIds = new Set(Array.from({ length: 1 + Math.floor(Math.random() * 3) }, () => pick(shop.products)));
	return { items: [...productIds].map((productId) => ({ productId, quantity: 1 })), shippingAddress: SHIPPING, payment: { cardNumber } };
}

async function withTempFile<T>(name: string, content: string, use: (file: string) => Promise<T>): Promise<T> {
	const dir = mkdtempSync(path.join(tmpdir(), "agora-bench-"));
	try {
		const file = path.join(dir, name);
		writeFileSync(file, content);
		return await use(file);
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
}

export interface LoadSettings {
	durationSeconds: number;
	connections: number;
}

/**
 * Workload 1: the catalogue's two reads at 50 connections, and a raw node:http server answering
 * the very bytes the gateway answered for the same paths.
 */
export async function catalogueRead(agora: Agora, mode: Mode, shop: Shop, load: LoadSettings): Promise<Row[]> {
	const subjects = [
		{ subject: "GET /api/products?page=1&pageSize=20", paths: ["/api/products?page=1&pageSize=20"] },
		{ subject: "GET /api/products/:id", paths: shop.products.slice(0, 20).map((id) => `/api/products/${id}`) },
	];
	const canned: Record<string, CannedResponse> = {};
	for (const { paths } of subjects)
		for (const p of paths) {
			const res = await fetch(`${agora.url}${p}`);
			if (res.status !== 200) throw new Error(`${p} answered ${res.status}`);
			canned[p] = { contentType: res.headers.get("content-type") ?? "application/json", body: await res.text() };
		}
	return withTempFile("responses.json", JSON.stringify(canned), async (file) => {
		const raw = await startBenchServer("raw-server.ts", [file]);
		try {
			const rows: Row[] = [];
			for (const { subject, paths } of subjects) {
				const pool: PlannedRequest[] = paths.map((p) => ({ method: "GET", path: p }));
				const ours = await measured(systemPids(agora), () =>
					runLoad({ url: agora.url, connections: load.connections, durationSeconds: load.durationSeconds, pool }),
				);
				const base = await measured([raw.pid], () =>
					runLoad({ url: raw.url, connections: load.connections, durationSeconds: load.durationSeconds, pool }),
				);
				rows.push({
					workload: "1 catalogue read",
					mode,
					subject,
					throughput: ours.result.okPerSecond,
					unit: "req/s",
					p50Ms: ours.result.p50Ms,
					p99Ms: ours.result.p99Ms,
					peakRssMb: ours.peakRssMb,
					baseline: `raw node:http ${base.result.okPerSecond.toFixed(0)} req/s, p99 ${base.result.p99Ms} ms, ${base.peakRssMb.toFixed(0)} MB`,
					ratio: ours.result.okPerSecond / base.result.okPerSecond,
					note: failures(ours.result.requests, ours.result.ok, ours.result.errors),
				});
			}
			return rows;
		} finally {
			await raw.stop();
		}
	});
}

function failures(requests: number, ok: number, errors: number): string | undefined {
	const failed = requests - ok + errors;
	return failed > 0 ? `${failed} of ${requests} requests failed` : undefined;
}

async function countOrders(shop: Shop, status: string): Promise<number> {
	const res = await shop.api.get(`/orders?status=${status}&pageSize=1`, { token: shop.admin });
	if (res.status !== 200) throw new Error(`GET /orders answered ${res.status}`);
	return res.body.total as number;
}

/** Waits until no order waits for its payment any more. */
export async function drainPending(shop: Shop, timeoutMs = 120_000): Promise<void> {
	await eventually(
		async () => {
			const pending = await countOrders(shop, "pending");
			if (pending > 0) throw new Error(`${pending} orders still pending after ${timeoutMs} ms`);
		},
		{ timeoutMs, intervalMs: 100 },
	);
}

/**
 * Workload 2: paid orders through POST /api/orders from many customers over many products,
 * counted when they reach `confirmed` (the saga done); the baseline makes the same writes in one
 * plain function on the system's store: a SQLite file of its own, or a database of its own on the
 * same MongoDB-wire server.
 */
export async function orderPlacement(
	agora: Agora,
	mode: Mode,
	store: Store,
	shop: Shop,
	load: LoadSettings,
	idle?: IdleRates,
): Promise<{ rows: Row[]; costs: CostRow[] }> {
	const pool: PlannedRequest[] = Array.from({ length: 2_000 }, () => ({
		method: "POST",
		path: "/api/orders",
		headers: { "content-type": "application/json", authorization: `Bearer ${pick(shop.customers).token}` },
		body: JSON.stringify(orderBody(shop)),
	}));
	const confirmedBefore = await countOrders(shop, "confirmed");
	const failedBefore = await countOrders(shop, "failed");
	const costsBefore = await snapshot(agora, store.servers);
	const started = performance.now();
	// The backlog: orders accepted but not yet confirmed or failed when the load stops, and how long
	// the saga then takes to settle them (issue 13: the saga keeps up, the backlog is gone in seconds).
	const backlog = { pending: 0, drainSeconds: 0 };
	const ours = await measured(systemPids(agora), async () => {
		const placed = await runLoad({ url: agora.url, connections: load.connections, durationSeconds: load.durationSeconds, pool });
		const loadEnded = performance.now();
		backlog.pending = await countOrders(shop, "pending");
		await drainPending(shop);
		backlog.drainSeconds = (performance.now() - loadEnded) / 1000;
		return placed;
	});
	const elapsedSeconds = (performance.now() - started) / 1000;
	const costsAfter = await snapshot(agora, store.servers);
	const confirmed = (await countOrders(shop, "confirmed")) - confirmedBefore;
	// Every card here is approved: a failed order is one the reaper failed after a timed-out placement.
	const reaped = (await countOrders(shop, "failed")) - failedBefore;

	const baselineDir = mkdtempSync(path.join(tmpdir(), "agora-bench-store-"));
	const plan: StoreBaselinePlan = {
		store: store.mongoUri ? `${store.mongoUri.replace(/\/[^/]*$/, "")}/agora_bench_${Date.now().toString(36)}` : `sqlite:${baselineDir}`,
		durationSeconds: load.durationSeconds,
		concurrency: load.connections,
		products: shop.products.length,
	};
	let base: StoreBaselineResult;
	try {
		base = await runBenchProgram<StoreBaselineResult>("store-baseline.ts", [JSON.stringify(plan)]);
	} finally {
		rmSync(baselineDir, { recursive: true, force: true });
	}
	const throughput = confirmed / elapsedSeconds;
	const rejected = ours.result.requests - ours.result.ok;
	const workload = `2 order placement (${load.connections} conns)`;
	const costs = costPerOrder(workload, mode, { before: costsBefore, after: costsAfter, seconds: elapsedSeconds, orders: confirmed }, idle);
	const rows: Row[] = [
		{
			workload: "2 order placement",
			mode,
			subject: `POST /api/orders -> confirmed (${load.connections} conns)`,
			throughput,
			unit: "orders/s",
			p50Ms: ours.result.p50Ms,
			p99Ms: ours.result.p99Ms,
			peakRssMb: ours.peakRssMb,
			baseline: `same writes in one function on ${store.name}: ${base.ordersPerSecond.toFixed(0)} orders/s, p99 ${base.p99Ms.toFixed(1)} ms`,
			ratio: throughput / base.ordersPerSecond,
			note:
				`${confirmed} confirmed (${ours.result.ok} POSTs answered 201 within the run)` +
				`${rejected + ours.result.errors > 0 ? `, ${rejected + ours.result.errors} POSTs failed ${JSON.stringify(ours.result.statusCounts)}` : ""}` +
				`${reaped > 0 ? `, ${reaped} left pending by a timeout and failed by the reaper` : ""}; ` +
				`backlog at the end of the load: ${backlog.pending} pending, settled ${backlog.drainSeconds.toFixed(1)} s later; latency is the POST's`,
		},
	];
	return { rows, costs };
}

/** The next `event` on `socket` whose payload passes `matches`. */
function nextEvent<T>(socket: Socket, event: string, matches: (payload: T) => boolean, timeoutMs = 30_000): Promise<T> {
	return new Promise((resolve, reject) => {
		const timer = setTimeout(() => {
			socket.off(event, listener);
			reject(new Error(`no ${event} within ${timeoutMs} ms`));
		}, timeoutMs);
		const listener = (payload: T) => {
			if (!matches(payload)) return;
			clearTimeout(timer);
			socket.off(event, listener);
			resolve(payload);
		};
		socket.on(event, listener);
	});
}

async function connect(url: string, token?: string): Promise<Socket> {
	const socket = io(url, { path: "/socket.io", transports: ["websocket"], auth: token ? { token } : {}, reconnection: false });
	await new Promise<void>((resolve, reject) => {
		socket.once("connect", () => resolve());
		socket.once("connect_error", reject);
	});
	return socket;
}

/**
 * Opens `count` sockets: the admin's first (the one that listens), then up to 3 per customer,
 * then anonymous ones: the gateway fans every change out among all of them.
 */
export async function connectSockets(url: string, admin: string, customers: Customer[], count: number): Promise<Socket[]> {
	const tokens = [admin, ...customers.flatMap((customer) => [customer.token, customer.token, customer.token])].slice(0, count);
	const anonymous = Array.from({ length: count - tokens.length }, () => undefined);
	return inParallel([...tokens, ...anonymous], 10, (token) => connect(url, token));
}

interface OrderSnapshot {
	id: string;
	status: string;
}

/** Workload 3: PATCH /api/orders/:id/status until the admin's socket has the change, 100 sockets open. */
export async function pushLatency(agora: Agora, mode: Mode, shop: Shop, settings: { orders: number; sockets: number }): Promise<Row[]> {
	const customer = shop.customers[0] as Customer;
	const orders = await inParallel(
		Array.from({ length: settings.orders }, (_, i) => i),
		4,
		async () => {
			const res = await shop.api.post("/orders", orderBody(shop), { token: customer.token });
			if (res.status !== 201) throw new Error(`order not placed: ${res.status} ${JSON.stringify(res.body)}`);
			return res.body.id as string;
		},
	);
	await drainPending(shop);

	const sockets = await connectSockets(agora.url, shop.admin, shop.customers, settings.sockets);
	const listener = sockets[0] as Socket;
	const latencies: number[] = [];
	const ours = await measured(systemPids(agora), async () => {
		for (const id of orders)
			for (const status of ["processing", "shipped", "delivered"]) {
				const started = performance.now();
				const pushed = nextEvent<OrderSnapshot>(listener, "order.updated", (order) => order.id === id && order.status === status);
				const res = await shop.api.patch(`/orders/${id}/status`, { status }, { token: shop.admin });
				if (res.status !== 200) throw new Error(`PATCH status answered ${res.status} ${JSON.stringify(res.body)}`);
				await pushed;
				latencies.push(performance.now() - started);
			}
	});
	for (const socket of sockets) socket.disconnect();

	const base = await rawPushLatency(latencies.length, settings.sockets);
	const p99 = percentile(latencies, 99);
	return [
		{
			workload: "3 push latency",
			mode,
			subject: `PATCH status -> admin socket (${settings.sockets} sockets)`,
			throughput: null,
			unit: "",
			p50Ms: percentile(latencies, 50),
			p99Ms: p99,
			peakRssMb: ours.peakRssMb,
			baseline: `raw node:http + socket.io: p50 ${base.p50.toFixed(2)} ms, p99 ${base.p99.toFixed(2)} ms`,
			ratio: base.p99 / p99,
			note: `${latencies.length} changes; ratio = baseline p99 / ours`,
		},
	];
}

/** The floor: an HTTP POST to a bare server that emits to all its sockets, until one socket has it. */
async function rawPushLatency(changes: number, socketCount: number): Promise<{ p50: number; p99: number }> {
	return withTempFile("responses.json", "{}", async (file) => {
		const raw = await startBenchServer("raw-server.ts", [file]);
		const sockets = await inParallel(
			Array.from({ length: socketCount }, (_, i) => i),
			10,
			() => connect(raw.url),
		);
		try {
			const listener = sockets[0] as Socket;
			const latencies: number[] = [];
			for (let seq = 0; seq < changes; seq++) {
				const started = performance.now();
				const pushed = nextEvent<{ seq: number }>(listener, "order.updated", (payload) => payload.seq === seq);
				const message: PushMessage = { event: "order.updated", payload: { seq, status: "shipped" } };
				const res = await fetch(`${raw.url}/push`, { method: "POST", body: JSON.stringify(message) });
				if (res.status !== 204) throw new Error(`raw push answered ${res.status}`);
				await pushed;
				latencies.push(performance.now() - started);
			}
			return { p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
		} finally {
			for (const socket of sockets) socket.disconnect();
			await raw.stop();
		}
	});
}
