import { type Agora, POD_ROLES, pod, startAgora } from "../support/agora";
import type { Json } from "../support/http";
import { INSIGHTS_ENV, insightsSuite } from "../support/insights.suite";
import { redeliverAll } from "../support/kafka";
import { openRepl, type ReplSession } from "../support/repl";
import { eventually } from "../support/wait";

let agora: Agora;
let repl: ReplSession;

beforeAll(async () => {
	agora = await startAgora({
		distributed: true,
		env: INSIGHTS_ENV,
		nodes: [{ services: ["api", "users", "products", "inventory"] }, { services: ["orders", "payments"] }, pod("realtime")],
	});
	repl = await openRepl(agora.env);
	await eventually(async () => {
		const services = await repl.run("services");
		if (!/\binsights\b/.test(services)) throw new Error(`insights not discovered yet:\n${services}`);
	});
}, 180_000);

afterAll(async () => {
	await repl?.close();
	await agora?.stop();
});

describe(`sales insight, distributed: insights on the ${POD_ROLES.realtime.join(" + ")} pod, rebuilt from Kafka`, () => {
	insightsSuite(
		() => ({
			url: agora.url,
			rebuild: () => repl.run("insights-rebuild", 120_000),
			async replay(orders: Json[], customers: string[]) {
				const topic = (type: string) => `${agora.env.TOPIC_PREFIX}.${type}`;
				const ids = new Set(orders.map((order) => order.id));
				const ours = (event: { data: { id: string } }) => ids.has(event.data.id);
				let copies = 0;
				for (const type of ["order.created", "order.updated", "order.cancelled"]) copies += await redeliverAll(topic(type), ours);
				copies += await redeliverAll(topic("user.registered"), (event: { data: { id: string } }) => customers.includes(event.data.id));
				// Each order's created event at least, and every status change after it.
				expect(copies).toBeGreaterThan(orders.length + customers.length);
			},
		}),
		{ replays: true },
	);
});
