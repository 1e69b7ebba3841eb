import { type Agora, startAgora } from "../support/agora";
import { createProduct, orderBody, orderReaches } from "../support/commerce.suite";
import { adminToken, type Client, client, type Json, newCustomer } from "../support/http";
import { findMessageOnTopic } from "../support/kafka";
import { eventually } from "../support/wait";

let agora: Agora;
let api: Client;

beforeAll(async () => {
	agora = await startAgora({
		distributed: true,
		nodes: [
			{ services: ["api", "users"] },
			// Info level: the payment verdict is an info line.
			{ services: ["products", "inventory", "orders", "payments", "realtime", "insights"], env: { LOGLEVEL: "info" } },
		],
	});
	api = client(agora.url);
});

afterAll(async () => {
	await agora?.stop();
});

interface LogLine {
	msg: string;
	nodeID: string;
	svc?: string;
	requestId?: string;
}

/** The JSON log lines a node printed (the distributed mode logs JSON, one object a line). */
function jsonLogs(node: Agora["nodes"][number]): LogLine[] {
	return node.output.filter((line) => line.startsWith("{")).map((line) => JSON.parse(line) as LogLine);
}

describe("request ids, distributed: from the HTTP request through calls, Kafka events and other processes' logs", () => {
	it("follows an order from POST /api/orders through the payment saga on another node", async () => {
		const requestId = `checkout-${Date.now()}`;
		const product = await createProduct(api, await adminToken(api));
		const customer = await newCustomer(api);
		const placed = await api.post("/orders", orderBody([{ productId: product.id, quantity: 1 }]), {
			token: customer.token,
			headers: { "X-Request-Id": requestId },
		});
		expect(placed.status).toBe(201);
		expect(placed.headers.get("x-request-id")).toBe(requestId);
		const order = await orderReaches(api, customer.token, placed.body.id, "confirmed");

		const topic = (name: string) => `${agora.env.TOPIC_PREFIX}.${name}`;
		// Published by orders.place, called by the gateway from another process.
		const created = await findMessageOnTopic<Json>(topic("order.created"), ({ value }) => value.data.id === order.id);
		expect(created.headers.$requestID).toBe(requestId);
		// Published by payments' handler of order.created: the id crossed Kafka once...
		const paid = await findMessageOnTopic<Json>(topic("payment.succeeded"), ({ value }) => value.data.orderId === order.id);
		expect(paid.headers.$requestID).toBe(requestId);
		expect(paid.headers.$caller).toBe("payments");
		// ...and by orders' handler of payment.succeeded: twice.
		const confirmed = await findMessageOnTopic<Json>(
			topic("order.updated"),
			({ value }) => value.data.id === order.id && value.data.status === "confirmed",
		);
		expect(confirmed.headers.$requestID).toBe(requestId);
		// The customer's session does not travel with the events.
		expect(Buffer.from(confirmed.headers.$meta ?? "", "base64").toString()).toBe("{}");

		// The payments node logged the verdict with the request id of the checkout.
		const paymentsNode = agora.nodes[1];
		if (!paymentsNode) throw new Error("no payments node");
		await eventually(async () => {
			const verdict = jsonLogs(paymentsNode).find((line) => line.msg === `Payment of order ${order.id} succeeded`);
			expect(verdict).toMatchObject({ svc: "payments", requestId });
		});
	});
});
