import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { io, type Socket } from "socket.io-client";
import { DEAD_LETTER_HEADERS, DEAD_LETTER_TOPIC, topicName } from "../../lib/platform/dead-letters";
import { type Agora, startAgora } from "../support/agora";
import { createProduct } from "../support/commerce.suite";
import { adminToken, client, type Json } from "../support/http";
import { kafka } from "../support/kafka";
import { openRepl, type ReplSession } from "../support/repl";
import { operatorSuite } from "../support/repl.suite";
import { eventually } from "../support/wait";

let agora: Agora;
let repl: ReplSession;

beforeAll(async () => {
	agora = await startAgora({
		distributed: true,
		nodes: [{ services: ["api", "users", "products", "inventory"] }, { services: ["orders", "carts", "payments", "realtime", "insights"] }],
	});
	const gatewayPort = String(agora.nodes[0]?.port);
	// As if typed in a pod's shell: its node id, probe and metrics ports are set, and taken (the
	// gateway's port): a REPL that used them would clash with the pod or fail to start.
	repl = await openRepl({ ...agora.env, NODE_ID: "agora-orders-7d9f", PROBE_PORT: gatewayPort, METRICS_PORT: gatewayPort });
	// The REPL learns the cluster's services from the transporter's discovery.
	await eventually(async () => {
		const services = await repl.run("services");
		if (!/\borders\b/.test(services) || !/\binventory\b/.test(services)) throw new Error(`services not discovered yet:\n${services}`);
	});
});

afterAll(async () => {
	await repl?.close();
	await agora?.stop();
});

describe("REPL, distributed: npm run repl joins a running cluster over Kafka", () => {
	operatorSuite(() => ({ repl, api: client(agora.url) }));

	it("joins as a node of its own that hosts no services", async () => {
		const nodes = await repl.run("nodes");
		const own = new RegExp(`repl-${hostname()}-\\d+`).exec(nodes)?.[0];
		expect(own).toBeDefined();
		expect(nodes).not.toContain("agora-orders-7d9f");
		// The harness names its nodes node-<run>-<n>; the run id is in the namespace (test-<run>).
		const run = String(agora.env.NAMESPACE).replace(/^test-/, "");
		for (const n of agora.nodes.keys()) expect(nodes).toContain(`node-${run}-${n}`);
		// dcall reaches one named pod.
		expect(await repl.run(`dcall node-${run}-0 api.health`)).toContain(`nodeID: 'node-${run}-0'`);
		const services = await repl.run("services --local");
		expect(services).not.toMatch(/\b(orders|inventory|api)\b/);
	});

	describe("dead letters", () => {
		let socket: Socket;
		let product: Json;
		const pushed: Json[] = [];

		beforeAll(async () => {
			const api = client(agora.url);
			product = await createProduct(api, await adminToken(api), { name: "Dead Letter Kettle" });
			socket = io(agora.url, { path: "/socket.io", transports: ["websocket"] });
			socket.on("product.updated", (payload: Json) => pushed.push(payload));
			await new Promise<void>((resolve, reject) => {
				socket.once("connect", resolve);
				socket.once("connect_error", reject);
			});
		});

		afterAll(() => {
			socket?.close();
		});

		it("lists a message the realtime group gave up on, replays it to that group, and a browser gets the change", async () => {
			const prefix = agora.env.TOPIC_PREFIX ?? "";
			const event = {
				id: randomUUID(),
				type: "product.updated",
				at: new Date().toISOString(),
				data: { ...product, name: "Kettle, renamed" },
			};
			// Exactly what @moleculer/channels' Kafka adapter writes after the last retry: the value and
			// key unchanged, the original headers, and where it came from.
			const producer = kafka().producer();
			await producer.connect();
			await producer.send({
				topic: topicName(prefix, DEAD_LETTER_TOPIC),
				messages: [
					{
						key: product.id,
						value: JSON.stringify(event),
						headers: {
							$requestID: "dead-letter-test",
							[DEAD_LETTER_HEADERS.redeliveries]: "3",
							[DEAD_LETTER_HEADERS.topic]: topicName(prefix, "product.updated"),
							[DEAD_LETTER_HEADERS.group]: "realtime",
							[DEAD_LETTER_HEADERS.partition]: "0",
						},
					},
				],
			});
			await producer.disconnect();

			const listed = await repl.run("dead-letters");
			expect(listed).toMatch(
				new RegExp(`${topicName(prefix, "product.updated")}\\s*\\|\\s*realtime\\s*\\|\\s*product\\.updated\\s*\\|\\s*${event.id}`),
			);
			expect(listed).toContain(`1 dead letter(s) on ${topicName(prefix, DEAD_LETTER_TOPIC)}`);
			// Looking changes nothing: nothing was sent to the browser.
			expect(pushed.filter((payload) => payload.id === product.id && payload.name === "Kettle, renamed")).toHaveLength(0);

			const replayed = await repl.run("dead-letters --replay");
			expect(replayed).toContain(event.id);
			expect(replayed).toContain(`Replayed 1 dead letter(s) from ${topicName(prefix, DEAD_LETTER_TOPIC)} to their topics.`);
			await eventually(async () => {
				expect(pushed.filter((payload) => payload.id === product.id && payload.name === "Kettle, renamed")).toHaveLength(1);
			});

			// Replayed once: the replay group's committed position has moved past it.
			expect(await repl.run("dead-letters")).toContain(`No dead letters waiting on ${topicName(prefix, DEAD_LETTER_TOPIC)}.`);
			expect(await repl.run("dead-letters --replay")).toContain("No dead letters waiting");
		});
	});
});
