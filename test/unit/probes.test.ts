import type http from "node:http";
import type { AddressInfo } from "node:net";
import { Errors, ServiceBroker } from "moleculer";
import { type ProbeAnswer, readiness, startProbeServer } from "../../lib/platform/probes";

/** A probe server on loopback for a node that waits for no other service at start-up. */
const LOCAL = { host: "127.0.0.1", checkoutPath: [] };

/** A real broker (no transporter) with one service whose readiness the test switches. */
describe("probe server for pods without a gateway", () => {
	let broker: ServiceBroker;
	let server: http.Server;
	let base: string;
	const state = { dbUp: true, slow: false };

	beforeAll(async () => {
		broker = new ServiceBroker({ logger: false, nodeID: "probe-test" });
		broker.createService({
			name: "stock",
			actions: {
				ready: {
					storageProbe: true,
					async handler() {
						if (state.slow) await new Promise((resolve) => setTimeout(resolve, 2_500));
						if (!state.dbUp) throw new Errors.MoleculerError("database unreachable", 503, "DB_DOWN");
						return { status: "ok" };
					},
				},
			},
		});
		// A service without storage is ready while it runs.
		broker.createService({ name: "helper", actions: { ping: () => "pong" } });
		await broker.start();
		server = await startProbeServer(broker, 0, LOCAL);
		base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	});

	afterAll(async () => {
		if (broker.started) await broker.stop();
	});

	beforeEach(() => {
		state.dbUp = true;
		state.slow = false;
	});

	async function get(path: string, method = "GET"): Promise<{ status: number; body: ProbeAnswer | null }> {
		const res = await fetch(`${base}${path}`, { method });
		return { status: res.status, body: method === "HEAD" ? null : ((await res.json()) as ProbeAnswer) };
	}

	it("answers /live with 200 while the broker runs", async () => {
		const { status, body } = await get("/live");
		expect(status).toBe(200);
		expect(body).toMatchObject({ status: "live", nodeID: "probe-test" });
	});

	it("answers /ready with 200 when every local service runs and its storage answers", async () => {
		const { status, body } = await get("/ready");
		expect(status).toBe(200);
		expect(body).toEqual({
			status: "ready",
			nodeID: "probe-test",
			checks: { broker: "ok", helper: "ok", stock: "ok" },
			services: { helper: ["probe-test"], stock: ["probe-test"] },
		});
	});

	it("answers /ready with 503 naming the failing service", async () => {
		state.dbUp = false;
		const { status, body } = await get("/ready");
		expect(status).toBe(503);
		expect(body?.status).toBe("not ready");
		expect(body?.checks).toEqual({ broker: "ok", helper: "ok", stock: "database unreachable" });
		// Liveness does not depend on the database: restarting the pod would not fix it.
		expect((await get("/live")).status).toBe(200);
	});

	it("counts a ready action slower than 2 s as not ready", async () => {
		state.slow = true;
		const { status, body } = await get("/ready");
		expect(status).toBe(503);
		expect(body?.checks.stock).toMatch(/timed? ?out/i);
	});

	it("recovers once the service does", async () => {
		state.dbUp = false;
		expect((await get("/ready")).status).toBe(503);
		state.dbUp = true;
		expect((await get("/ready")).status).toBe(200);
	});

	it("answers unknown paths with 404 and other methods with 405", async () => {
		expect((await get("/metrics")).status).toBe(404);
		expect((await get("/ready", "POST")).status).toBe(405);
		expect((await get("/live", "HEAD")).status).toBe(200);
	});

	it("closes when the broker stops", async () => {
		const closed = new Promise<void>((resolve) => server.once("close", () => resolve()));
		await broker.stop();
		await closed;
		expect(server.listening).toBe(false);
		await expect(fetch(`${base}/live`)).rejects.toThrow();
	});
});

describe("probe server during start-up and shutdown", () => {
	it("is not ready before the broker has started, and not live", async () => {
		const broker = new ServiceBroker({ logger: false });
		const server = await startProbeServer(broker, 0, LOCAL);
		try {
			const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
			const ready = await fetch(`${base}/ready`);
			expect(ready.status).toBe(503);
			expect(await ready.json()).toMatchObject({ status: "not ready", checks: { broker: "not started" } });
			expect((await fetch(`${base}/live`)).status).toBe(503);
		} finally {
			server.close();
		}
	});

	it("reports ready 503 but live 200 while the broker drains", async () => {
		let release: () => void = () => {};
		const broker = new ServiceBroker({ logger: false });
		broker.createService({
			name: "slowstop",
			// Holds the broker in its stopping phase until the test has probed it.
			stopped: () => new Promise<void>((resolve) => (release = resolve)),
		});
		await broker.start();
		const server = await startProbeServer(broker, 0, LOCAL);
		const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
		const stopping = broker.stop();
		const deadline = Date.now() + 5_000;
		while (!broker.stopping && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
		const ready = await fetch(`${base}/ready`);
		expect(ready.status).toBe(503);
		expect(await ready.json()).toMatchObject({ checks: { broker: "stopping" } });
		expect((await fetch(`${base}/live`)).status).toBe(200);
		release();
		await stopping;
		expect(server.listening).toBe(false);
	});

	it("checks the transporter connection when there is one", async () => {
		const broker = new ServiceBroker({ logger: false, transporter: "Fake" });
		await broker.start();
		const server = await startProbeServer(broker, 0, LOCAL);
		const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
		try {
			expect(await (await fetch(`${base}/ready`)).json()).toMatchObject({ status: "ready", checks: { transporter: "ok" } });
			// What Transit records when the connection to Kafka drops.
			if (broker.transit) broker.transit.connected = false;
			const ready = await fetch(`${base}/ready`);
			expect(ready.status).toBe(503);
			expect(await ready.json()).toMatchObject({ checks: { transporter: "disconnected" } });
			if (broker.transit) broker.transit.connected = true;
		} finally {
			await broker.stop();
		}
	});

	it("is not ready while its transporter waits for a lost broker, though Transit still says connected", async () => {
		const broker = new ServiceBroker({ logger: false, transporter: "Fake" });
		await broker.start();
		const server = await startProbeServer(broker, 0, LOCAL);
		const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
		const transporter = broker.transit?.tx as unknown as { brokerAway?: boolean };
		try {
			// What ResilientKafkaTransporter says from a failed publish until it has rejoined.
			transporter.brokerAway = true;
			const ready = await fetch(`${base}/ready`);
			expect(ready.status).toBe(503);
			expect(await ready.json()).toMatchObject({ checks: { transporter: "broker lost" } });
			transporter.brokerAway = false;
			expect((await fetch(`${base}/ready`)).status).toBe(200);
		} finally {
			await broker.stop();
		}
	});

	it("rejects when the port is taken", async () => {
		const broker = new ServiceBroker({ logger: false });
		const first = await startProbeServer(broker, 0, LOCAL);
		try {
			await expect(startProbeServer(broker, (first.address() as AddressInfo).port, LOCAL)).rejects.toThrow(/EADDRINUSE/);
		} finally {
			first.close();
		}
	});
});

/**
 * Two real brokers over Moleculer's in-process transporter: the front node takes orders and needs a
 * service that only the back node hosts, as a gateway needs orders or users.
 */
describe("readiness of a node whose checkout path runs on other nodes", () => {
	const namespace = `readiness-${process.pid}`;
	const catalogue = { dbUp: true, probed: 0 };
	const CHECKOUT = ["catalogue"];
	let front: ServiceBroker;
	let back: ServiceBroker | undefined;
	let frontReadyCalls = 0;

	const newBroker = (nodeID: string) => new ServiceBroker({ logger: false, nodeID, namespace, transporter: "Fake" });

	/** The node that hosts the catalogue and its storage probe. */
	async function startBack(): Promise<ServiceBroker> {
		const broker = newBroker("back");
		broker.createService({
			name: "catalogue",
			actions: {
				list: () => [],
				ready: {
					storageProbe: true,
					handler() {
						catalogue.probed++;
						if (!catalogue.dbUp) throw new Errors.MoleculerError("database unreachable", 503, "DB_DOWN");
						return true;
					},
				},
			},
		});
		await broker.start();
		return broker;
	}

	beforeAll(async () => {
		front = newBroker("front");
		front.createService({
			name: "shopfront",
			actions: {
				// The node's own readiness answer, like the gateway's `api.ready`: not a storage probe.
				ready: () => {
					frontReadyCalls++;
					return true;
				},
			},
		});
		await front.start();
	});

	afterAll(async () => {
		await back?.stop();
		await front.stop();
	});

	beforeEach(() => {
		catalogue.dbUp = true;
	});

	it("is not ready at start-up until it has seen the checkout path, and names what it waits for", async () => {
		expect(await readiness(front, CHECKOUT)).toEqual({
			ready: false,
			checks: { broker: "ok", transporter: "ok", shopfront: "ok", catalogue: "not seen yet" },
			services: { shopfront: ["front"] },
		});
	});

	it("is ready once a node hosts it, without asking another node's storage", async () => {
		back = await startBack();
		await eventuallyReady(front, CHECKOUT);
		expect(await readiness(front, CHECKOUT)).toEqual({
			ready: true,
			checks: { broker: "ok", transporter: "ok", shopfront: "ok" },
			services: { catalogue: ["back"], shopfront: ["front"] },
		});
		expect(catalogue.probed).toBe(0);
		// A `ready` action that is not a storage probe (the gateway's own) is never called by readiness.
		expect(frontReadyCalls).toBe(0);
	});

	it("stays ready while the storage of another node's service does not answer: that node is the one not ready", async () => {
		catalogue.dbUp = false;
		expect(await readiness(front, CHECKOUT)).toMatchObject({ ready: true });
		if (!back) throw new Error("no back node");
		expect(await readiness(back, CHECKOUT)).toMatchObject({ ready: false, checks: { catalogue: "database unreachable" } });
	});

	it("stays ready once the only node of the checkout path's service has left: only that service's calls fail", async () => {
		await back?.stop();
		back = undefined;
		expect(await readiness(front, CHECKOUT)).toEqual({
			ready: true,
			checks: { broker: "ok", transporter: "ok", shopfront: "ok" },
			services: { shopfront: ["front"] },
		});
	});

	it("waits for the checkout path once per start: a node started while it is away is not ready", async () => {
		const late = newBroker("late");
		await late.start();
		try {
			expect(await readiness(late, CHECKOUT)).toMatchObject({ ready: false, checks: { catalogue: "not seen yet" } });
		} finally {
			await late.stop();
		}
	});
});

/** Discovery over a transporter is asynchronous: wait for it, then assert. */
async function eventuallyReady(broker: ServiceBroker, checkoutPath: string[]): Promise<void> {
	const deadline = Date.now() + 5_000;
	while (!(await readiness(broker, checkoutPath)).ready && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}
