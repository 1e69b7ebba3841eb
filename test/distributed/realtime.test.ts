import { DEMO_CATALOGUE } from "../../lib/operator/demo-catalogue";
import { type Agora, startAgora } from "../support/agora";
import { client } from "../support/http";
import { realtimeSuite, SOCKET_LIMITS } from "../support/realtime.suite";

let agora: Agora;

beforeAll(async () => {
	agora = await startAgora({
		distributed: true,
		env: SOCKET_LIMITS,
		nodes: [
			{ services: ["api"] },
			{ services: ["api"] },
			// The demo catalogue, as docker-compose.yml seeds it on the catalog pod.
			{ services: ["users", "products", "inventory"], env: { SEED_DEMO: "1" } },
			{ services: ["orders", "payments", "realtime", "insights"] },
		],
	});
});

afterAll(async () => {
	await agora?.stop();
});

describe("realtime, distributed: two gateway processes, events over Kafka", () => {
	realtimeSuite(() => agora);
});

test("a catalog pod with SEED_DEMO=1 seeds the demo catalogue once it has started", async () => {
	const { body } = await client(agora.url).get(`/products?pageSize=100`);
	expect(body.rows.map((product: { sku: string }) => product.sku)).toEqual(expect.arrayContaining(DEMO_CATALOGUE.map(({ sku }) => sku)));
});
