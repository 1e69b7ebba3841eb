import { setTimeout as sleep } from "node:timers/promises";
import { createProduct, DECLINED_CARD, orderBody, orderReaches } from "./commerce.suite";
import { adminToken, type Client, client, type Json, newCustomer } from "./http";
import { listen } from "./sockets";
import { eventually } from "./wait";

const HOUR_MS = 3_600_000;

export interface InsightsHarness {
	/** The gateway's base URL. */
	url: string;
	/** Handles every event of the scripted orders and accounts again; resolves once the projection has. */
	replay?(orders: Json[], customers: string[]): Promise<void>;
	/** Drops the projection and rebuilds it (the operator's `insights-rebuild`); answers what it printed. */
	rebuild(): Promise<string>;
}

interface Sales {
	totals: Record<string, number>;
	previous: Record<string, number>;
	buckets: { at: string; orders: number; revenue: number; cancelled: number }[];
	topProducts: { productId: string; name: string; units: number; revenue: number }[];
}

/** The payment provider waits this long in the suite's clusters, so an order can be cancelled while pending. */
export const INSIGHTS_ENV = { PAYMENT_PROVIDER_DELAY_MS: "1500" };

/**
 * The sales figures (issue 16) against what the orders say. Start the cluster with INSIGHTS_ENV, on
 * a store of its own: the figures are the whole shop's.
 */
export function insightsSuite(harness: () => InsightsHarness, { replays }: { replays: boolean }): void {
	let api: Client;
	let admin: string;
	let range: string;
	const placed: Json[] = [];
	const customers: string[] = [];
	let kettle: Json;
	let teapot: Json;

	const sales = async (query = range): Promise<Sales> => {
		const res = await api.get(`/stats/sales?${query}`, { token: admin });
		if (res.status !== 200) throw new Error(`stats: ${res.status} ${JSON.stringify(res.body)}`);
		return res.body;
	};

	/** The figures as the orders themselves tell them, through the orders API. */
	async function whatTheOrdersSay() {
		const all: Json[] = (await api.get("/orders?pageSize=100", { token: admin })).body.rows;
		const wasPaid = (order: Json) => order.history.some((entry: Json) => entry.status === "confirmed");
		const kept = all.filter((order) => wasPaid(order) && order.status !== "cancelled");
		const revenue = kept.reduce((sum, order) => sum + order.total, 0);
		return {
			orders: all.length,
			revenue,
			cancelled: all.filter((order) => order.status === "cancelled").length,
			failed: all.filter((order) => order.status === "failed").length,
			averageOrderValue: kept.length > 0 ? Math.round(revenue / kept.length) : 0,
			newCustomers: customers.length,
		};
	}

	beforeAll(async () => {
		api = client(harness().url);
		admin = await adminToken(api);
		const from = new Date(Math.floor(Date.now() / HOUR_MS) * HOUR_MS);
		// Whole hours around the script, whenever it runs: the hour it starts in up to two hours on.
		range = `from=${from.toISOString()}&to=${new Date(from.getTime() + 3 * HOUR_MS).toISOString()}&bucket=hour`;
		kettle = await createProduct(api, admin, { name: "Insight Kettle", price: 1000, stock: 50 });
		teapot = await createProduct(api, admin, { name: "Insight Teapot", price: 2500, stock: 50 });
		const ann = await newCustomer(api, "Insight Ann");
		const bob = await newCustomer(api, "Insight Bob");
		customers.push(ann.id, bob.id);
		const order = async (token: string, items: { productId: string; quantity: number }[], card?: string) => {
			const res = await api.post("/orders", orderBody(items, card), { token });
			if (res.status !== 201) throw new Error(`order: ${res.status} ${JSON.stringify(res.body)}`);
			placed.push(res.body);
			return res.body;
		};
		// Paid: 2 kettles (2000); paid: a teapot and a kettle (3500); declined: 3 kettles;
		// paid then cancelled, so refunded: a teapot (2500); cancelled while its payment is pending.
		const paid = await order(ann.token, [{ productId: kettle.id, quantity: 2 }]);
		const mixed = await order(bob.token, [
			{ productId: teapot.id, quantity: 1 },
			{ productId: kettle.id, quantity: 1 },
		]);
		const declined = await order(ann.token, [{ productId: kettle.id, quantity: 3 }], DECLINED_CARD);
		const refunded = await order(ann.token, [{ productId: teapot.id, quantity: 1 }]);
		const pending = await order(bob.token, [{ productId: kettle.id, quantity: 4 }]);
		expect((await api.post(`/orders/${pending.id}/cancel`, undefined, { token: bob.token })).status).toBe(200);
		await orderReaches(api, admin, refunded.id, "confirmed");
		expect((await api.post(`/orders/${refunded.id}/cancel`, undefined, { token: ann.token })).status).toBe(200);
		await orderReaches(api, admin, paid.id, "confirmed");
		await orderReaches(api, admin, mixed.id, "confirmed");
		await orderReaches(api, admin, declined.id, "failed");
		await eventually(async () => {
			const order = (await api.get(`/orders/${refunded.id}`, { token: admin })).body;
			if (order.paymentStatus !== "refunded") throw new Error(`the refund of ${refunded.id} is not recorded yet`);
		});
	}, 120_000);

	test("after paid, declined, refunded and pending-cancelled orders, the figures are exactly what the orders say", async () => {
		const expected = {
			orders: 5,
			revenue: 2000 + 3500,
			cancelled: 2,
			failed: 1,
			averageOrderValue: 2750,
			newCustomers: 2,
		};
		expect(await whatTheOrdersSay()).toEqual(expected);
		const figures = await eventually(async () => {
			const answer = await sales();
			expect(answer.totals).toEqual(expected);
			return answer;
		});
		expect(figures.previous).toEqual({ orders: 0, revenue: 0, cancelled: 0, failed: 0, averageOrderValue: 0, newCustomers: 0 });
		expect(figures.buckets).toHaveLength(3);
		const sum = (field: "orders" | "revenue" | "cancelled") => figures.buckets.reduce((total, bucket) => total + bucket[field], 0);
		expect([sum("orders"), sum("revenue"), sum("cancelled")]).toEqual([5, 5500, 2]);
		// Kettles: 2 + 1 paid (3000); teapots: 1 kept (2500), the refunded one taken back.
		expect(figures.topProducts).toEqual([
			{ productId: kettle.id, name: "Insight Kettle", units: 3, revenue: 3000 },
			{ productId: teapot.id, name: "Insight Teapot", units: 1, revenue: 2500 },
		]);
		const byDay = await sales(range.replace("bucket=hour", "bucket=day"));
		expect(byDay.totals).toEqual(expected);
		expect(byDay.buckets).toHaveLength(1);
		expect(byDay.buckets[0]).toMatchObject({ orders: 5, revenue: 5500, cancelled: 2 });
	});

	test("the period before is compared: the same figures show as `previous` for the next period", async () => {
		const [from, to] = [...range.matchAll(/=([^&]+)/g)].map((match) => new Date(decodeURIComponent(match[1] as string)));
		const later = `from=${(to as Date).toISOString()}&to=${new Date(2 * (to as Date).getTime() - (from as Date).getTime()).toISOString()}`;
		const next = await sales(later);
		expect(next.previous).toEqual((await sales()).totals);
		expect(next.totals.orders).toBe(0);
	});

	if (replays)
		test("every event handled again changes nothing", async () => {
			const before = await sales();
			await harness().replay?.(placed, customers);
			expect(await sales()).toEqual(before);
		}, 300_000);

	test("a rebuild from scratch gives the same figures", async () => {
		const before = await sales();
		expect(await harness().rebuild()).toMatch(/Rebuilt from \d+ .+: \d+ fact\(s\) in \d+ hour\(s\)\./);
		expect(await sales()).toEqual(before);
	}, 180_000);

	test("admins only: a customer gets 403, no token 401", async () => {
		const customer = await newCustomer(api, "Curious Carl");
		customers.push(customer.id);
		expect((await api.get(`/stats/sales?${range}`, { token: customer.token })).status).toBe(403);
		expect((await api.get(`/stats/sales?${range}`)).status).toBe(401);
	});

	test.each([
		["from=yesterday&to=2026-01-02T00:00:00Z", "from"],
		["from=2026-01-01T00:00:00Z&to=2026-13-45T00:00:00Z", "to"],
		["from=2026-02-30&to=2026-03-05", "from"],
		["from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", "to"],
		["from=2026-01-01T00:00:00Z&to=2026-04-04T00:00:00Z", "to"],
		["from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z&bucket=week", "bucket"],
		["to=2026-01-02T00:00:00Z", "from"],
	])("a bad range (%s) is 422 naming %s", async (query, field) => {
		const res = await api.get(`/stats/sales?${query}`, { token: admin });
		expect(res.status).toBe(422);
		expect(res.body.data.map((failure: { field: string }) => failure.field)).toContain(field);
	});

	test("92 days is the longest range: one bucket a day, or one an hour", async () => {
		const days = await api.get("/stats/sales?from=2026-01-01T00:00:00Z&to=2026-04-03T00:00:00Z&bucket=day", { token: admin });
		expect(days.status).toBe(200);
		expect(days.body.buckets).toHaveLength(92);
		expect(days.body.buckets[1].at).toBe("2026-01-02T00:00:00.000Z");
		const hours = await api.get("/stats/sales?from=2026-01-01T00:00:00%2B02:00&to=2026-04-03T00:00:00%2B02:00", { token: admin });
		expect(hours.body.buckets).toHaveLength(92 * 24);
		expect(hours.body.buckets[0].at).toBe("2025-12-31T22:00:00.000Z");
	});

	test("stats.updated reaches admins, not customers, at most once a second per gateway", async () => {
		const customer = await newCustomer(api, "Watching Wendy");
		customers.push(customer.id);
		const [adminSocket, customerSocket] = await Promise.all([listen(harness().url, admin), listen(harness().url, customer.token)]);
		try {
			const ordersBefore = (await sales()).totals.orders as number;
			const burst = 8;
			for (let n = 0; n < burst; n++)
				await api.post("/orders", orderBody([{ productId: kettle.id, quantity: 1 }]), { token: customer.token });
			const last = await adminSocket.waitFor<Json>(STATS, (push) => push.totals.orders >= ordersBefore + burst, 30_000);
			expect(last.totals).toMatchObject({ orders: expect.any(Number), revenue: expect.any(Number) });
			// Let the payments settle and a last push through, then look at the spacing.
			await sleep(3_000);
			// The gateway sends them a second apart; arrival times carry the network's and this busy
			// process's jitter, so look for "well apart", which unthrottled pushes of a burst are not.
			// (The interval itself is checked exactly, with fake timers, in test/unit/sales-figures.test.ts.)
			const times = adminSocket.arrivals(STATS);
			expect(times.length).toBeGreaterThan(1);
			for (let n = 1; n < times.length; n++) expect((times[n] as number) - (times[n - 1] as number)).toBeGreaterThanOrEqual(500);
			expect(customerSocket.received(STATS)).toEqual([]);
		} finally {
			adminSocket.close();
			customerSocket.close();
		}
	}, 60_000);
}

const STATS = "stats.updated";
