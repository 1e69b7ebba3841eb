import { type Agora, startAgora } from "../support/agora";
import { commerceSuite, createProduct, DECLINED_CARD, orderBody, orderReaches, stockOf } from "../support/commerce.suite";
import { adminToken, type Client, client, newCustomer } from "../support/http";
import { redeliver } from "../support/kafka";
import { eventually } from "../support/wait";

let agora: Agora;

beforeAll(async () => {
	agora = await startAgora({
		distributed: true,
		nodes: [
			{ services: ["api"] },
			{ services: ["users", "products", "inventory"] },
			{ services: ["orders", "payments", "realtime", "insights"] },
		],
	});
});

afterAll(async () => {
	await agora?.stop();
});

describe("commerce, distributed: three processes over Kafka, stored in FerretDB", () => {
	commerceSuite(() => agora);
});

describe("redelivery over Kafka", () => {
	interface Envelope {
		type: string;
		data: { id?: string; orderId?: string; status?: string };
	}
	const topic = (type: string) => `${agora.env.TOPIC_PREFIX}.${type}`;
	const about = (orderId: string, status?: string) => (event: Envelope) =>
		(event.data.orderId ?? event.data.id) === orderId && (!status || event.data.status === status);

	async function snapshot(api: Client, admin: string, orderId: string, productId: string) {
		const order = (await api.get(`/orders/${orderId}`, { token: admin })).body;
		return {
			order,
			stock: await stockOf(api, productId),
			movements: (await api.get(`/inventory/${productId}/movements?limit=500`, { token: admin })).body.length,
			payments: (await api.get(`/payments?orderId=${orderId}`, { token: admin })).body,
		};
	}

	test("every event of a saga handled again, same event id, changes nothing", async () => {
		const api = client(agora.url);
		const admin = await adminToken(api);
		const ann = await newCustomer(api, "Replay Ann");
		const product = await createProduct(api, admin, { stock: 10 });

		const paid = (await api.post("/orders", orderBody([{ productId: product.id, quantity: 2 }]), { token: ann.token })).body;
		await orderReaches(api, admin, paid.id, "confirmed");
		await api.post(`/orders/${paid.id}/cancel`, undefined, { token: ann.token });
		const declined = (await api.post("/orders", orderBody([{ productId: product.id, quantity: 3 }], DECLINED_CARD), { token: ann.token }))
			.body;
		await orderReaches(api, admin, declined.id, "failed");
		// Settled: the refund recorded on the order, the stock back to 10.
		await orderReaches(api, admin, paid.id, "cancelled");
		// Inventory hears of the failure and the cancel on its own consumer group, a moment later.
		const before = await eventually(async () => {
			const both = await Promise.all([snapshot(api, admin, paid.id, product.id), snapshot(api, admin, declined.id, product.id)]);
			expect(both[0].order.paymentStatus).toBe("refunded");
			expect(both[0].stock).toMatchObject({ available: 10, reserved: 0 });
			return both;
		});

		await redeliver(topic("order.created"), about(paid.id));
		await redeliver(topic("payment.succeeded"), about(paid.id));
		await redeliver(topic("order.updated"), about(paid.id, "confirmed"));
		await redeliver(topic("order.cancelled"), about(paid.id));
		await redeliver(topic("payment.refunded"), about(paid.id));
		await redeliver(topic("order.created"), about(declined.id));
		await redeliver(topic("payment.failed"), about(declined.id));
		await redeliver(topic("order.updated"), about(declined.id, "failed"));

		const after = await Promise.all([snapshot(api, admin, paid.id, product.id), snapshot(api, admin, declined.id, product.id)]);
		expect(after).toEqual(before);
	});
});
