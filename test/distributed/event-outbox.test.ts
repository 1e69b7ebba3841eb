/**
 * The event broker (CHANNELS_URL, a Kafka of this test's own) goes down while the cluster's calls
 * (the transporter, on the shared Kafka) still work: the shop keeps accepting changes, and their
 * events wait in each service's journal until the broker is back, then go out. Nothing a customer
 * or an admin was told happened is lost: a cancel still refunds and releases its stock, an order
 * placed meanwhile still gets charged.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { type Agora, pod, startAgora } from "../support/agora";
import { createProduct, orderBody, orderReaches, stockOf } from "../support/commerce.suite";
import { adminToken, type Client, client, type Json, newCustomer } from "../support/http";
import { type PrivateInfrastructure, startPrivateInfrastructure } from "../support/private-infrastructure";
import { eventually } from "../support/wait";

let eventBroker: PrivateInfrastructure;
let agora: Agora;
let admin: string;
let customer: string;

const api = (): Client => client(agora.gatewayUrl(0));
const paymentOf = async (orderId: string): Promise<Json> => (await api().get(`/payments?orderId=${orderId}`, { token: admin })).body[0];

beforeAll(async () => {
	eventBroker = await startPrivateInfrastructure();
	agora = await startAgora({
		distributed: true,
		infrastructure: { kafkaBrokers: process.env.KAFKA_BROKERS ?? "127.0.0.1:9092", mongoUri: eventBroker.mongoUri },
		// info: the relay reports at that level what it sent.
		env: { CHANNELS_URL: `kafka://${eventBroker.kafkaBrokers}`, LOGLEVEL: "info" },
		nodes: [pod("gateway"), pod("catalog"), pod("orders"), pod("payments"), pod("users"), pod("realtime")],
	});
	admin = await adminToken(api());
	customer = (await newCustomer(api())).token;
}, 600_000);

afterAll(async () => {
	await agora?.stop();
	await eventBroker?.remove();
});

test("event broker down: a cancel and a new order are accepted, and their sagas finish once it is back", async () => {
	const product = await createProduct(api(), admin, { stock: 10 });
	const order = (await api().post("/orders", orderBody([{ productId: product.id, quantity: 3 }]), { token: customer })).body;
	await orderReaches(api(), customer, order.id, "confirmed");
	const relayed = agora.nodes.map((node) => node.linesMatching(/Relay sent the events/));

	await eventBroker.stopKafka();
	const cancel = await api().post(`/orders/${order.id}/cancel`, undefined, { token: customer });
	expect({ status: cancel.status, orderStatus: cancel.body.status }).toEqual({ status: 200, orderStatus: "cancelled" });
	const placed = await api().post("/orders", orderBody([{ productId: product.id, quantity: 2 }]), { token: customer });
	expect(placed.status).toBe(201);
	// Nothing has reached the payments or inventory services yet: the events wait.
	expect((await paymentOf(order.id)).status).toBe("succeeded");
	expect((await api().get(`/orders/${placed.body.id}`, { token: customer })).body.status).toBe("pending");
	// Longer than the Kafka producer retries a send (about 10 s): the events must come from the journal.
	await sleep(20_000);

	await eventBroker.startKafka();
	await orderReaches(api(), customer, placed.body.id, "confirmed");
	await eventually(async () => expect((await paymentOf(order.id)).status).toBe("refunded"), { timeoutMs: 120_000, intervalMs: 500 });
	await eventually(async () => expect(await stockOf(api(), product.id)).toMatchObject({ available: 8, reserved: 0 }), {
		timeoutMs: 60_000,
		intervalMs: 500,
	});
	const relayRuns = relayed.reduce((sum, lines) => sum + lines().length, 0);
	console.info(`event broker outage: ${relayRuns} relay run(s) sent journalled events`);
	expect(relayRuns).toBeGreaterThan(0);
}, 300_000);
