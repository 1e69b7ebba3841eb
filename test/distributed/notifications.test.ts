import { type Agora, POD_ROLES, pod, startAgora } from "../support/agora";
import type { Json } from "../support/http";
import { kafka, redeliverAll } from "../support/kafka";
import { type NotificationsHarness, notificationsEnv, notificationsSuite } from "../support/notifications.suite";
import { openRepl, type ReplSession } from "../support/repl";
import { type SmtpServer, startSmtpServer } from "../support/smtp-server";
import { eventually } from "../support/wait";

let smtp: SmtpServer;
let agora: Agora;
let repl: ReplSession;
let strict: Promise<Agora> | undefined;

beforeAll(async () => {
	smtp = await startSmtpServer();
	agora = await startAgora({
		distributed: true,
		env: notificationsEnv(smtp),
		nodes: [{ services: ["api", "users", "products", "inventory"] }, { services: ["orders", "payments"] }, pod("realtime")],
	});
	repl = await openRepl(agora.env);
	await eventually(async () => {
		const services = await repl.run("services");
		if (!/\bwebhooks\b/.test(services)) throw new Error(`webhooks not discovered yet:\n${services}`);
	});
}, 240_000);

afterAll(async () => {
	await repl?.close();
	await agora?.stop();
	await (await strict)?.stop();
	await smtp?.close();
});

const ORDER_TOPICS = ["order.created", "order.updated", "order.cancelled", "payment.succeeded", "payment.failed", "payment.refunded"];

describe(`order emails and webhooks, distributed: on the ${POD_ROLES.realtime.join(" + ")} pod, over Kafka and FerretDB`, () => {
	const harness: () => NotificationsHarness = () => ({
		url: agora.url,
		repl,
		smtp,
		strict: () => {
			strict ??= startAgora({ distributed: true });
			return strict;
		},
		async redeliver(orderIds) {
			const ids = new Set(orderIds);
			const ours = (event: { data: { id: string; orderId?: string } }) => ids.has(event.data.orderId ?? event.data.id);
			let copies = 0;
			for (const type of ORDER_TOPICS) copies += await redeliverAll(`${agora.env.TOPIC_PREFIX}.${type}`, ours);
			expect(copies).toBeGreaterThanOrEqual(orderIds.length * 2);
		},
		async publishGuestOrder(order: Json) {
			const producer = kafka().producer();
			await producer.connect();
			try {
				const event = { id: crypto.randomUUID(), type: "order.created", at: new Date().toISOString(), data: order };
				await producer.send({
					topic: `${agora.env.TOPIC_PREFIX}.order.created`,
					messages: [{ key: order.id, value: JSON.stringify(event) }],
				});
			} finally {
				await producer.disconnect();
			}
		},
	});
	notificationsSuite(harness, { embedded: false });
});
