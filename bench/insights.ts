/**
 * The sales projection's lag under order load: from an order's placement (its `order.created`
 * event is published before the answer) to the first `stats.updated` push on an admin's socket
 * whose totals include it. The push is throttled to one a second per gateway, so up to a second
 * of the lag is by design: the row shows what an admin watching the dashboard waits.
 */
import type { StatsPush } from "../lib/contracts/sales-figures";
import type { Agora } from "../test/support/agora";
import { type Mode, measured, percentile, type Row, systemPids } from "./harness";
import { connectSockets, type LoadSettings, orderBody, type Shop } from "./shop";

const DAY_MS = 86_400_000;

export async function projectionLag(agora: Agora, mode: Mode, shop: Shop, load: LoadSettings): Promise<Row[]> {
	const from = new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS);
	const to = new Date(from.getTime() + DAY_MS);
	const today = await shop.api.get(`/stats/sales?from=${from.toISOString()}&to=${to.toISOString()}`, { token: shop.admin });
	if (today.status !== 200) throw new Error(`GET /stats/sales answered ${today.status} ${JSON.stringify(today.body)}`);
	const base: number = today.body.totals.orders;

	const [socket] = await connectSockets(agora.url, shop.admin, [], 1);
	if (!socket) throw new Error("no admin socket");
	const pushes: { at: number; orders: number }[] = [];
	socket.on("stats.updated", (push: StatsPush) => pushes.push({ at: performance.now(), orders: push.totals.orders }));

	const placedAt: number[] = [];
	const ours = await measured(systemPids(agora), async () => {
		const until = performance.now() + load.durationSeconds * 1000;
		await Promise.all(
			Array.from({ length: load.connections }, async (_, worker) => {
				const customer = shop.customers[worker % shop.customers.length];
				if (!customer) throw new Error("no customers");
				while (performance.now() < until) {
					const res = await shop.api.post("/orders", orderBody(shop), { token: customer.token });
					if (res.status === 201) placedAt.push(performance.now());
				}
			}),
		);
		const deadline = performance.now() + 60_000;
		while ((pushes.at(-1)?.orders ?? 0) < base + placedAt.length) {
			if (performance.now() > deadline) throw new Error(`stats.updated never counted all ${placedAt.length} orders`);
			await new Promise((resolve) => setTimeout(resolve, 100));
		}
	});
	socket.disconnect();

	// The k-th order placed is in the figures once a push counts base + k orders.
	const lags = placedAt.map((at, k) => {
		const seen = pushes.find((push) => push.orders >= base + k + 1 && push.at >= at) ?? pushes.at(-1);
		return (seen?.at ?? at) - at;
	});
	return [
		{
			workload: "3 sales projection lag",
			mode,
			subject: `order placed -> stats.updated counts it (${load.connections} conns)`,
			throughput: placedAt.length / load.durationSeconds,
			unit: "orders/s",
			p50Ms: percentile(lags, 50),
			p99Ms: percentile(lags, 99),
			peakRssMb: ours.peakRssMb,
			baseline: "stats.updated is throttled to 1 push/s per gateway",
			ratio: null,
			note: `${placedAt.length} orders, ${pushes.length} pushes`,
		},
	];
}
