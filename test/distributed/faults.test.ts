/**
 * Faults of the servers the cluster depends on, on a Kafka broker and a FerretDB of this test's own
 * (the shared ones stay up for everyone else): the broker or the database goes away and comes back,
 * and the payments pod hangs. The services must ride it out without a restart.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { type Agora, POD_ROLES, pod, readinessBecomes, readinessOf, startAgora } from "../support/agora";
import { GOOD_CARD, orderBody } from "../support/commerce.suite";
import { adminToken, type Client, client, type Json } from "../support/http";
import {
	type Attempt,
	allOrders,
	checkOutcome,
	expectStockAccountedFor,
	type OrderStream,
	openShop,
	type Shop,
	startOrderStream,
} from "../support/order-stream";
import { type PrivateInfrastructure, startPrivateInfrastructure } from "../support/private-infrastructure";
import { eventually } from "../support/wait";

let infra: PrivateInfrastructure;
let agora: Agora;
let shop: Shop;

const api = (): Client => client(agora.gatewayUrl(0));
const liveGateways = () => [agora.gatewayUrl(0)];
/** A JSON log line's message up to its stack trace. */
const firstLine = (line: string) => ((JSON.parse(line) as { msg: string }).msg ?? line).split("\n")[0];
const failures = (attempts: Attempt[], phase: number) => attempts.filter((attempt) => attempt.status !== 201 && attempt.phase === phase);
const describeFailures = (attempts: Attempt[]) => attempts.map((attempt) => `${attempt.status} ${attempt.error}`);

beforeAll(async () => {
	infra = await startPrivateInfrastructure();
	agora = await startAgora({
		distributed: true,
		infrastructure: infra,
		// A placement cut off by an outage after its order was written is failed by the reaper within the test.
		env: { ORDER_PENDING_TTL_SECONDS: "60" },
		nodes: [pod("gateway"), pod("catalog"), pod("orders"), pod("payments"), pod("users"), pod("realtime")],
	});
	shop = await openShop(api(), await adminToken(api()));
}, 600_000);

afterAll(async () => {
	await agora?.stop();
	await infra?.remove();
});

describe("faults of Kafka, the database and payments", () => {
	let stream: OrderStream | undefined;
	afterEach(async () => {
		await stream?.stop();
		stream = undefined;
		// Whatever a failed test left stopped runs again, so one failure does not fail the next test too.
		await Promise.all([infra.startKafka(), infra.startDatabase()]);
	});

	test("Kafka stopped for 10 s during a stream of orders: every node reconnects by itself; no accepted order lost or duplicated", async () => {
		const [gateway] = agora.running(POD_ROLES.gateway);
		if (!gateway) throw new Error("no gateway");
		// What the gateway says of each failed request, to explain a status other than 503 / 504.
		const requestErrors = gateway.linesMatching(/Request error!/);
		stream = startOrderStream(shop, liveGateways);
		await stream.accepted(10);
		const outagePhase = stream.nextPhase();
		await infra.stopKafka();
		await sleep(10_000);
		await infra.startKafka();
		const backAt = Date.now();
		await stream.accepted(1, 120_000);
		const recoveredInMs = Date.now() - backAt;
		await stream.accepted(10);
		const afterPhase = stream.nextPhase();
		await stream.accepted(10);
		const attempts = await stream.stop();

		const duringOutage = failures(attempts, outagePhase);
		console.info(
			`Kafka outage: first order accepted again ${recoveredInMs} ms after the broker was back; ${duringOutage.length} failed call(s) meanwhile: ${[
				...new Set(describeFailures(duringOutage)),
			].join("; ")}`,
		);
		const unexpected = duringOutage.filter((attempt) => attempt.status !== 503 && attempt.status !== 504);
		if (unexpected.length > 0) console.info(`the gateway's request errors: ${[...new Set(requestErrors().map(firstLine))].join("\n")}`);
		expect(describeFailures(unexpected)).toEqual([]);
		expect(describeFailures(failures(attempts, afterPhase))).toEqual([]);
		const outcome = await checkOutcome(api(), shop, attempts);
		console.info(`Kafka outage: ${JSON.stringify(outcome)}`);
	}, 420_000);

	test("database stopped: the pods that keep data turn not ready, the gateway stays ready, requests get 503 within the request timeout; back up, the service resumes by itself", async () => {
		const [customer] = shop.customers;
		const [productId] = shop.initialStock.keys();
		const [orders] = agora.running(POD_ROLES.orders);
		const [gateway] = agora.running(POD_ROLES.gateway);
		if (!orders || !gateway) throw new Error("no orders pod or gateway");
		const order = () => api().post("/orders", orderBody([{ productId: productId as string, quantity: 1 }]), { token: customer });
		await infra.stopDatabase();
		await readinessBecomes(orders, 503);
		const { checks } = await readinessOf(orders);
		expect(checks.orders).not.toBe("ok");
		// The gateway's own part (routing, sockets, the web app) needs no database: it stays in service.
		expect(await readinessOf(gateway)).toMatchObject({ status: 200 });
		expect((await api().get("/health")).status).toBe(200);
		const anonymous = await api().get(`/inventory/${productId}`);
		expect({ status: anonymous.status, type: anonymous.body.type }).toEqual({ status: 503, type: "DATABASE_UNAVAILABLE" });
		// A signed-in request gets past the gateway (the token's signature vouches for it while its
		// account cannot be checked) and meets the outage in the orders service.
		for (const res of [await order(), await api().get("/orders", { token: customer })]) {
			expect({ status: res.status, type: res.body.type }).toEqual({ status: 503, type: "DATABASE_UNAVAILABLE" });
		}

		await infra.startDatabase();
		const recoveredInMs = await readinessBecomes(orders, 200);
		const placed = await eventually(async () => {
			const res = await order();
			expect(res.status).toBe(201);
			return res.body;
		});
		console.info(`database outage: the orders pod ready again ${recoveredInMs} ms after the database was back`);
		await eventually(async () => expect((await api().get(`/orders/${placed.id}`, { token: customer })).body.status).toBe("confirmed"));
		await expectStockAccountedFor(api(), shop, await allOrders(api(), shop.admin));
	}, 300_000);

	test("a hung payments pod: placing times out with nothing reserved, the reaper fails what waits too long and releases its stock, a late charge is refunded", async () => {
		// Orders reaped after 5 s instead of 15 minutes: restart the orders pod with that setting.
		const [orders] = agora.running(POD_ROLES.orders);
		const [usualPayments] = agora.running(POD_ROLES.payments);
		if (!orders || !usualPayments) throw new Error("missing pods");
		await agora.kill(orders, "SIGTERM");
		await agora.addNode(pod("orders", { ORDER_PENDING_TTL_SECONDS: "5" }));
		// A provider that takes 2 s per charge: orders accepted just before the hang are still waiting
		// for theirs when it comes, so the reaper has orders to fail.
		await agora.kill(usualPayments, "SIGTERM");
		const payments = await agora.addNode(pod("payments", { PAYMENT_PROVIDER_DELAY_MS: "2000" }));

		const retry = () =>
			api().post("/orders", orderBody([{ productId: [...shop.initialStock.keys()][0] as string, quantity: 1 }], GOOD_CARD), {
				token: shop.customers[0],
				headers: { "Idempotency-Key": "refused-then-retried" },
			});
		const byReaper = (orders: Json[]) => orders.filter((order) => order.history.some((entry: { by: string }) => entry.by === "reaper"));
		// The gateway may not have discovered the new orders pod yet: ask until it answers.
		const reapedBefore = await eventually(async () => new Set(byReaper(await allOrders(api(), shop.admin)).map((order) => order.id)));
		stream = startOrderStream(shop, liveGateways);
		await stream.accepted(10);
		const hungPhase = stream.nextPhase();
		payments.process.kill("SIGSTOP");
		try {
			expect([503, 504]).toContain((await retry()).status);
			await eventually(async () => expect(failures(stream?.attempts ?? [], hungPhase).length).toBeGreaterThanOrEqual(4));
			const attempts = await stream.stop();
			const refused = failures(attempts, hungPhase);
			for (const attempt of refused) expect([503, 504]).toContain(attempt.status);

			const reaped = await eventually(
				async () => {
					const all = await allOrders(api(), shop.admin);
					expect(all.filter((order) => order.status === "pending")).toEqual([]);
					await expectStockAccountedFor(api(), shop, all);
					return byReaper(all).filter((order) => !reapedBefore.has(order.id));
				},
				{ timeoutMs: 60_000, intervalMs: 1_000 },
			);
			expect(reaped.length).toBeGreaterThan(0);
			for (const order of reaped)
				expect(order.history.at(-1)).toMatchObject({ status: "failed", by: "reaper", note: "no payment within 5 s: stock released" });
			console.info(
				`hung payments: ${refused.length} placement(s) refused (${[...new Set(describeFailures(refused))].join("; ")}), ${reaped.length} order(s) reaped`,
			);
		} finally {
			payments.process.kill("SIGCONT");
		}

		// Back: whatever it charges late for a reaped order is given back.
		await readinessBecomes(payments, 200);
		await eventually(
			async () => {
				for (const order of await allOrders(api(), shop.admin)) {
					if (order.status !== "failed") continue;
					const payments = (await api().get(`/payments?orderId=${order.id}`, { token: shop.admin })).body;
					expect({ order: order.id, kept: payments.filter((payment: { status: string }) => payment.status === "succeeded") }).toEqual({
						order: order.id,
						kept: [],
					});
				}
			},
			{ timeoutMs: 60_000, intervalMs: 1_000 },
		);
		await checkOutcome(api(), shop, []);

		// The same client retries its refused order with the same Idempotency-Key: it gets one order.
		const first = await eventually(async () => {
			const res = await retry();
			expect(res.status).toBe(201);
			return res.body;
		});
		expect((await retry()).body.id).toBe(first.id);
	}, 420_000);
});
