/**
 * Workload 9, a flash sale: in each round 16 guest shoppers, each with one unit of the same product
 * in the cart and shipping chosen, hold and check out at once; one in four holds and walks away,
 * so its hold expires (HOLD_TTL_SECONDS, the shortest allowed here) and its unit must come back for the rounds
 * after. There are fewer units than shoppers want, so holds are refused. The baseline is the same
 * rush through the plain order route: 16 customers POST /orders of another product at once, no
 * cart and no hold. At the end the sale is checked: nothing oversold, every unit sold or back on
 * sale, each walked-away hold given back by its own "hold expired" ledger line.
 */

import type { Agora } from "../test/support/agora";
import { guestShopper, type Shopper } from "../test/support/carts.suite";
import { ADDRESS } from "../test/support/commerce.suite";
import { adminToken, type Client, client, newCustomer } from "../test/support/http";
import { eventually } from "../test/support/wait";
import { inParallel, type Mode, measured, percentile, type Row, systemPids } from "./harness";
import { APPROVED_CARD } from "./shop";

/** How soon a walked-away hold expires in this workload: the sweep gives it back within seconds, while the sale goes on. */
export const FLASH_SALE_ENV = { HOLD_TTL_SECONDS: "5" };

const SHOPPERS = 16;
const WALKS_AWAY_EVERY = 4;

export interface FlashSaleSettings {
	rounds: number;
	/** Units on sale at the start: fewer than the shoppers who mean to buy, so some holds are refused. */
	stock: number;
}

interface Rush {
	orders: number;
	refused: number;
	walkedAway: number;
	latencies: number[];
	seconds: number;
}

async function product(api: Client, admin: string, name: string, stock: number): Promise<string> {
	const res = await api.post(
		"/products",
		{ name, sku: `FLASH-${Date.now().toString(36)}-${name.length}`, price: 1999, category: "flash", stock },
		{ token: admin },
	);
	if (res.status !== 201) throw new Error(`product not created: ${res.status} ${JSON.stringify(res.body)}`);
	return res.body.id as string;
}

/** Shoppers with the product in their cart and shipping chosen, ready before the rush starts. */
async function readyShoppers(api: Client, productId: string): Promise<Shopper[]> {
	return inParallel(
		Array.from({ length: SHOPPERS }, (_, n) => n),
		4,
		async (n) => {
			const shopper = await guestShopper(api);
			await shopper.set(productId, 1);
			await shopper.ship({ address: ADDRESS, method: "standard", email: `flash-${n}@example.com` });
			return shopper;
		},
	);
}

/** Every round's shoppers hold and check out at once, each timed from hold to order. */
async function flashRush(api: Client, productId: string, rounds: number): Promise<Rush> {
	const rush: Rush = { orders: 0, refused: 0, walkedAway: 0, latencies: [], seconds: 0 };
	for (let round = 0; round < rounds; round++) {
		const shoppers = await readyShoppers(api, productId);
		const started = performance.now();
		await Promise.all(
			shoppers.map(async (shopper, n) => {
				const begun = performance.now();
				const hold = await shopper.hold();
				if (hold.status === 409) return void rush.refused++;
				if (hold.status !== 200) throw new Error(`hold answered ${hold.status} ${JSON.stringify(hold.body)}`);
				if (n % WALKS_AWAY_EVERY === 0) return void rush.walkedAway++;
				const order = await shopper.checkout({ payment: { cardNumber: APPROVED_CARD } });
				// A hold that expired before its checkout (a slow machine) buys from what is on sale, or is refused.
				if (order.status === 409) return void rush.refused++;
				if (order.status !== 201) throw new Error(`checkout answered ${order.status} ${JSON.stringify(order.body)}`);
				rush.orders++;
				rush.latencies.push(performance.now() - begun);
			}),
		);
		rush.seconds += (performance.now() - started) / 1000;
	}
	return rush;
}

/** The same rush through POST /orders: each round's customers order one unit at once. */
async function plainRush(api: Client, productId: string, rounds: number): Promise<Rush> {
	const customers = await inParallel(
		Array.from({ length: SHOPPERS }, (_, n) => n),
		4,
		(n) => newCustomer(api, `Flash ${n}`),
	);
	const rush: Rush = { orders: 0, refused: 0, walkedAway: 0, latencies: [], seconds: 0 };
	const body = { items: [{ productId, quantity: 1 }], shippingAddress: ADDRESS, payment: { cardNumber: APPROVED_CARD } };
	for (let round = 0; round < rounds; round++) {
		const started = performance.now();
		await Promise.all(
			customers.map(async ({ token }) => {
				const begun = performance.now();
				const res = await api.post("/orders", body, { token });
				if (res.status === 409) return void rush.refused++;
				if (res.status !== 201) throw new Error(`POST /orders answered ${res.status} ${JSON.stringify(res.body)}`);
				rush.orders++;
				rush.latencies.push(performance.now() - begun);
			}),
		);
		rush.seconds += (performance.now() - started) / 1000;
	}
	return rush;
}

/** What the sale must leave behind; each broken rule is one line. */
async function saleProblems(api: Client, admin: string, productId: string, stock: number, rush: Rush): Promise<string[]> {
	// Every order's payment settles and every walked-away hold is swept; the bound only stops a hang.
	const level = await eventually(
		async () => {
			const now = (await api.get(`/inventory/${productId}`)).body;
			if (now.held !== 0 || now.reserved !== 0) throw new Error(`still held ${now.held}, reserved ${now.reserved}`);
			return now;
		},
		{ timeoutMs: 120_000, intervalMs: 250 },
	);
	const moves: { reason: string; kind: string }[] = (await api.get(`/inventory/${productId}/movements?limit=500`, { token: admin })).body;
	const expired = moves.filter((move) => move.kind === "unhold" && move.reason === "hold expired").length;
	const problems: string[] = [];
	if (rush.orders > stock) problems.push(`oversold: ${rush.orders} orders of ${stock} units`);
	if (level.available !== stock - rush.orders) problems.push(`${level.available} on sale after ${rush.orders} of ${stock} sold`);
	if (expired < rush.walkedAway) problems.push(`${rush.walkedAway} holds walked away from, ${expired} given back at expiry`);
	return problems;
}

export async function flashSale(agora: Agora, mode: Mode, settings: FlashSaleSettings): Promise<Row[]> {
	const api = client(agora.url);
	const admin = await adminToken(api);
	const drop = await product(api, admin, "Flash sale drop", settings.stock);
	// Enough that no plain order is refused: the baseline is the order path itself at the same concurrency.
	const plain = await product(api, admin, "Flash sale plain", 1_000_000);
	const ours = await measured(systemPids(agora), () => flashRush(api, drop, settings.rounds));
	const base = await plainRush(api, plain, settings.rounds);
	const rush = ours.result;
	const problems = await saleProblems(api, admin, drop, settings.stock, rush);
	if (problems.length > 0) throw new Error(`the flash sale broke its rules:\n${problems.join("\n")}`);
	const perSecond = rush.orders / rush.seconds;
	const basePerSecond = base.orders / base.seconds;
	return [
		{
			workload: "9 flash sale",
			mode,
			subject: `${SHOPPERS} shoppers hold + check out one product, ${settings.rounds} rounds`,
			throughput: perSecond,
			unit: "orders/s",
			p50Ms: percentile(rush.latencies, 50),
			p99Ms: percentile(rush.latencies, 99),
			peakRssMb: ours.peakRssMb,
			baseline: `POST /orders, ${SHOPPERS} at once: ${basePerSecond.toFixed(1)} orders/s`,
			ratio: perSecond / basePerSecond,
			note:
				`${rush.orders} sold of ${settings.stock}, ${rush.refused} holds refused, ${rush.walkedAway} walked away (all given back); ` +
				"no oversell, every unit sold or back",
		},
	];
}
