import { accountsSuite } from "../support/accounts.suite";
import { type Agora, startAgora } from "../support/agora";
import { client } from "../support/http";
import { findOnTopic } from "../support/kafka";
import { eventually } from "../support/wait";

let agora: Agora;

beforeAll(async () => {
	// The gateway is ready once it has seen the checkout path (products, inventory, orders, payments, users).
	agora = await startAgora({
		distributed: true,
		nodes: [
			{ services: ["api"] },
			{ services: ["users"] },
			{ services: ["products", "inventory"] },
			{ services: ["orders", "payments", "insights"] },
		],
	});
});

afterAll(async () => {
	await agora?.stop();
});

describe("accounts, distributed: gateway, users and the rest of the shop in processes of their own over Kafka, stored in FerretDB", () => {
	accountsSuite(() => agora);

	test("user.registered is published on its Kafka topic with the event envelope", async () => {
		const email = `kafka-${Date.now()}@example.com`;
		const res = await client(agora.url).post("/auth/register", { email, password: "correct-horse", name: "Kafka Reader" });
		expect(res.status).toBe(201);
		const event = await findOnTopic<{ id: string; type: string; at: string; data: { email: string; passwordHash?: string } }>(
			`${agora.env.TOPIC_PREFIX}.user.registered`,
			(value) => value.data?.email === email,
		);
		expect(event).toMatchObject({ type: "user.registered", data: { email, role: "customer" } });
		expect(event.id).toMatch(/^[0-9a-f-]{36}$/);
		expect(Number.isNaN(Date.parse(event.at))).toBe(false);
		expect(event.data.passwordHash).toBeUndefined();
	});

	test("the processes are separate nodes of one cluster", async () => {
		expect(new Set(agora.nodes.map((node) => node.process.pid)).size).toBe(4);
		const health = await client(agora.url).get("/health");
		expect(health.body.nodeID).toContain("node-");
	});

	test("a route whose service no node hosts any more is 503 with Retry-After: temporary, not a missing page", async () => {
		const [catalogue] = agora.running(["products"]);
		if (!catalogue) throw new Error("no node hosts products");
		await agora.kill(catalogue, "SIGTERM");
		const res = await eventually(async () => {
			const answer = await client(agora.url).get("/products");
			expect(answer.status).toBe(503);
			return answer;
		});
		expect(res.headers.get("retry-after")).toBe("5");
		expect(res.body).toEqual({
			name: "MoleculerError",
			message: "The products service is unavailable right now: try again shortly",
			code: 503,
			type: "SERVICE_UNAVAILABLE",
			data: { service: "products" },
		});
	});
});
