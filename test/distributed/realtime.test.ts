import { DEMO_CATALOGUE } from "../../lib/operator/demo-catalogue";
import { type Agora, disconnectedNotice, startAgora } from "../support/agora";
import { createProduct } from "../support/commerce.suite";
import { adminToken, client } from "../support/http";
import { realtimeSuite, SOCKET_LIMITS } from "../support/realtime.suite";
import { listen } from "../support/sockets";
import { eventually } from "../support/wait";

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

test("a gateway the cluster lost sight of for a moment still pushes to its sockets what happened meanwhile", async () => {
	const [first, second] = agora.running(["api"]);
	const [realtime] = agora.running(["realtime"]);
	if (!first || !second || !realtime) throw new Error("the cluster needs two gateways and a realtime node");
	const api = client(`http://127.0.0.1:${first.port}`);
	const admin = await adminToken(api);
	const shopper = await listen(`http://127.0.0.1:${second.port}`);
	const dropped = realtime.linesMatching(disconnectedNotice(second.id));
	// Frozen past the heartbeat timeout, as in a long GC pause or a stalled network: the realtime
	// node drops the gateway from its registry, and a broadcast then would not reach it.
	second.process.kill("SIGSTOP");
	let product: { id: string };
	try {
		await eventually(async () => expect(dropped()).toHaveLength(1));
		product = (await createProduct(api, admin)) as { id: string };
	} finally {
		second.process.kill("SIGCONT");
	}
	try {
		await shopper.waitFor<{ id: string }>("product.created", ({ id }) => id === product.id, 30_000);
	} finally {
		shopper.close();
	}
});
