import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { SERVICE_MASK } from "../../lib/platform/service-files";
import { eventually } from "./wait";

const ROOT = path.resolve(__dirname, "..", "..");
const RUNNER = path.join(ROOT, "node_modules", "moleculer", "bin", "moleculer-runner.js");

export interface NodeSpec {
	/** Services this node hosts, by name (`SERVICES`); all of them when omitted. */
	services?: string[];
	env?: Record<string, string>;
	/** The gateway's port (a restarted gateway keeps its address); a free one when omitted. */
	port?: number;
}

/** The pod roles of k8s/base: which services each kind of pod runs. */
export const POD_ROLES = {
	gateway: ["api"],
	catalog: ["products", "inventory"],
	// A cart's checkout is an order's placement: the two scale together.
	orders: ["orders", "carts"],
	payments: ["payments"],
	users: ["users"],
	// They turn the domain events into what reaches people and systems: the pushes, the sales figures
	// behind them, the order emails and the webhooks.
	realtime: ["realtime", "insights", "notifications", "webhooks"],
} as const satisfies Record<string, string[]>;

export type PodRole = keyof typeof POD_ROLES;

/** A node that runs one pod role, as Kubernetes would start it. */
export const pod = (role: PodRole, env?: Record<string, string>): NodeSpec => ({ services: [...POD_ROLES[role]], env });

/** Where the distributed mode finds Kafka and the MongoDB-wire database. */
export interface Infrastructure {
	kafkaBrokers: string;
	mongoUri: string;
}

export interface AgoraOptions {
	/** One entry per node process; the first node hosting `api` is the one `url` points at. */
	nodes?: NodeSpec[];
	/** Distributed mode over the real Kafka and MongoDB-wire servers of `test/support/infrastructure`. */
	distributed?: boolean;
	/** Other servers than the shared ones (fault tests stop their own, see `test/support/private-infrastructure`). */
	infrastructure?: Infrastructure;
	env?: Record<string, string>;
	/**
	 * `startAgora` returns once every node is ready (the default), or, as a load balancer sees the
	 * cluster, once every gateway says it is (`allReady()` waits for the rest).
	 */
	readyWhen?: "every node" | "gateways";
}

export interface RunningNode {
	spec: NodeSpec;
	/** Its Moleculer node id. */
	id: string;
	process: ChildProcess;
	/** The gateway's HTTP port, if it hosts `api`. */
	port: number | null;
	/** The `/live` and `/ready` probe port of a node without the gateway (lib/platform/probes.ts). */
	probePort: number | null;
	output: string[];
	/** It has passed its readiness check (a load balancer would send it traffic). */
	ready: boolean;
	/** Collects the lines this node prints from now on that match `pattern`. */
	linesMatching(pattern: RegExp): () => string[];
}

export interface Agora {
	url: string;
	nodes: RunningNode[];
	env: Record<string, string>;
	/** The URL of the n-th node that hosts the gateway. */
	gatewayUrl(n: number): string;
	/** Resolves once every node started with the cluster is ready. */
	allReady(): Promise<void>;
	/** Starts another node into the same cluster (e.g. after one was killed) and waits until it is ready. */
	addNode(spec: NodeSpec): Promise<RunningNode>;
	/** Sends `signal` and waits for the process to exit. */
	kill(node: RunningNode, signal?: NodeJS.Signals): Promise<void>;
	/** The ready nodes still running with `services` (a pod role's, say). */
	running(services?: readonly string[]): RunningNode[];
	/** The last lines every node printed, for a failing test's message. */
	logs(lines?: number): string;
	stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.once("error", reject);
		server.listen(0, "127.0.0.1", () => {
			const address = server.address();
			server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
		});
	});
}

/** The test process's environment without the settings that pick a run mode: each cluster sets its own. */
export function inheritedEnv(): NodeJS.ProcessEnv {
	const { TRANSPORTER: _t, MONGO_URI: _m, CHANNELS_URL: _c, SERVICES: _s, ...rest } = process.env;
	return rest;
}

const hostsGateway = (spec: NodeSpec) => !spec.services || spec.services.includes("api");

async function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
	if (child.exitCode !== null || child.signalCode !== null) return true;
	return new Promise((resolve) => {
		const timer = setTimeout(() => resolve(false), ms);
		child.once("exit", () => {
			clearTimeout(timer);
			resolve(true);
		});
	});
}

/** What a readiness probe answers: 200 or 503, its checks (`ok`, or why not) and the services the node sees live. */
export interface ReadinessAnswer {
	status: number;
	checks: Record<string, string>;
	services: Record<string, string[]>;
}

/** What a readiness probe at `probeUrl` says (lib/platform/probes.ts); the gateway wraps a 503's body in `data`. */
async function readinessAt(probeUrl: string, timeoutMs?: number): Promise<ReadinessAnswer> {
	const res = await fetch(probeUrl, timeoutMs ? { signal: AbortSignal.timeout(timeoutMs) } : {});
	const body = (await res.json()) as Partial<ReadinessAnswer> & { data?: Partial<ReadinessAnswer> };
	// An answer of another shape (a 404 page, say) is kept whole, to be told in a failure's message.
	const checks = body.checks ?? body.data?.checks ?? { answer: JSON.stringify(body) };
	return { status: res.status, checks, services: body.services ?? body.data?.services ?? {} };
}

/** What a gateway's `GET /api/ready` says. */
const gatewayReadiness = (url: string) => readinessAt(`${url}/api/ready`);

/** What a node's readiness probe says now: the gateway's `GET /api/ready`, or `GET /ready` on a pod's probe port. */
export function readinessOf(node: RunningNode, timeoutMs?: number): Promise<ReadinessAnswer> {
	return readinessAt(
		node.port !== null ? `http://127.0.0.1:${node.port}/api/ready` : `http://127.0.0.1:${node.probePort}/ready`,
		timeoutMs,
	);
}

/** Waits until `node`'s readiness answers `status`, and returns how long that took. */
export async function readinessBecomes(node: RunningNode, status: number, timeoutMs = 120_000): Promise<number> {
	const since = Date.now();
	await eventually(async () => expect((await readinessOf(node)).status).toBe(status), { timeoutMs, intervalMs: 250 });
	return Date.now() - since;
}

/**
 * Polls `/api/ready` until the gateway says it is ready: connected, and the checkout path seen once.
 * The bound only catches a hang: a cluster's processes all start at once, on a shared machine.
 */
export async function waitUntilReady(url: string, node: RunningNode, ms = 180_000): Promise<void> {
	const deadline = Date.now() + ms;
	let last = "no answer";
	while (Date.now() < deadline) {
		if (node.process.exitCode !== null) throw new Error(`node exited with ${node.process.exitCode}`);
		try {
			const { status, checks } = await gatewayReadiness(url);
			last = `${status} ${JSON.stringify(checks)}`;
			if (status === 200) return;
		} catch (err) {
			last = (err as Error).message;
		}
		await sleep(250);
	}
	throw new Error(`Agora at ${url} was not ready in ${ms} ms (last: ${last})`);
}

/** Polls a gateway until it sees `node` hosting each of `services` (discovery over Kafka takes a few seconds). */
async function waitUntilSeen(url: string, node: RunningNode, services: string[], ms = 60_000): Promise<void> {
	const deadline = Date.now() + ms;
	let last = "no answer";
	while (Date.now() < deadline) {
		try {
			const seen = (await gatewayReadiness(url)).services;
			const missing = services.filter((service) => !seen[service]?.includes(node.id));
			if (missing.length === 0) return;
			last = `not yet seen hosting ${missing.join(", ")}`;
		} catch (err) {
			last = (err as Error).message;
		}
		await sleep(250);
	}
	throw new Error(`the gateway at ${url} did not see node ${node.id} in ${ms} ms (${last})`);
}

/** Polls a node's own `/ready` probe until it is ready: connected, its storage answering, the checkout path seen once. */
async function waitUntilNodeReady(node: RunningNode, ms = 180_000): Promise<void> {
	const deadline = Date.now() + ms;
	let last = "no answer";
	while (Date.now() < deadline) {
		if (node.process.exitCode !== null) throw new Error(`node ${node.id} exited with ${node.process.exitCode}`);
		try {
			const res = await fetch(`http://127.0.0.1:${node.probePort}/ready`);
			last = `${res.status} ${await res.text()}`;
			if (res.status === 200) return;
		} catch (err) {
			last = (err as Error).message;
		}
		await sleep(250);
	}
	throw new Error(`node ${node.id} was not ready in ${ms} ms (last: ${last})`);
}

/** Calls `onLine` with every whole line written to `stream`. */
function eachLine(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
	let partial = "";
	stream?.on("data", (chunk: Buffer) => {
		const lines = (partial + chunk.toString()).split("\n");
		partial = lines.pop() ?? "";
		for (const line of lines) onLine(line);
	});
}

/**
 * Starts Agora as real processes, the way `npm start` / `npm run start:node` do, each on its own
 * data (a temp `DATA_DIR`, or a fresh database, namespace and topic prefix on the shared servers).
 */
export async function startAgora(options: AgoraOptions = {}): Promise<Agora> {
	const runId = randomBytes(4).toString("hex");
	const dataDir = mkdtempSync(path.join(tmpdir(), "agora-test-"));
	const infrastructure = options.infrastructure ?? {
		kafkaBrokers: process.env.KAFKA_BROKERS ?? "127.0.0.1:9092",
		mongoUri: process.env.MONGO_URI ?? "mongodb://127.0.0.1:27017",
	};
	const env: Record<string, string> = {
		LOGLEVEL: "warn",
		DATA_DIR: dataDir,
		SEED_DEMO: "0",
		...(options.distributed
			? {
					TRANSPORTER: `kafka://${infrastructure.kafkaBrokers}`,
					MONGO_URI: `${infrastructure.mongoUri.replace(/\/[^/]*$/, "")}/agora_${runId}`,
					NAMESPACE: `test-${runId}`,
					TOPIC_PREFIX: `test-${runId}`,
					JWT_SECRET: `test-secret-${runId}-0123456789abcdefghijklmnop`,
					ADMIN_EMAIL: "admin@agora.local",
					ADMIN_PASSWORD: "admin12345",
				}
			: {}),
		...options.env,
	};
	const specs = options.nodes ?? [{}];
	const nodes: RunningNode[] = [];
	let counter = 0;

	async function launch(spec: NodeSpec): Promise<RunningNode> {
		const gateway = hostsGateway(spec);
		const port = gateway ? (spec.port ?? (await freePort())) : null;
		const probePort = gateway ? null : await freePort();
		const id = `node-${runId}-${counter++}`;
		// Pods run what `npm run build` compiled (the distributed tier's global setup builds it); the
		// embedded mode runs as `npm start` does, from the TypeScript sources.
		const args = options.distributed
			? [RUNNER, "--config", path.join("dist", "moleculer.config.js")]
			: ["--import", "tsx", RUNNER, "--config", "moleculer.config.ts"];
		if (!spec.services)
			args.push(...(options.distributed ? ["--mask", "**/*.service.js", "dist/services"] : ["--mask", SERVICE_MASK, "services"]));
		const child = spawn(process.execPath, args, {
			cwd: ROOT,
			env: {
				...inheritedEnv(),
				...env,
				...spec.env,
				NODE_ID: id,
				PORT: String(port ?? 0),
				...(probePort ? { PROBE_PORT: String(probePort) } : {}),
				...(spec.services ? { SERVICES: spec.services.join(",") } : {}),
			},
			stdio: ["ignore", "pipe", "pipe"],
		});
		const collectors: { pattern: RegExp; lines: string[] }[] = [];
		const node: RunningNode = {
			spec,
			id,
			process: child,
			port,
			probePort,
			output: [],
			ready: false,
			linesMatching(pattern) {
				const collector = { pattern, lines: [] as string[] };
				collectors.push(collector);
				return () => collector.lines;
			},
		};
		const keep = (line: string) => {
			node.output.push(line);
			if (node.output.length > 400) node.output.splice(0, node.output.length - 400);
			for (const collector of collectors) if (collector.pattern.test(line)) collector.lines.push(line);
		};
		eachLine(child.stdout, keep);
		eachLine(child.stderr, keep);
		nodes.push(node);
		return node;
	}

	const alive = (node: RunningNode) => node.ready && node.process.exitCode === null && node.process.signalCode === null;
	const gateways = () => nodes.filter((node) => node.port !== null && alive(node));
	const gatewayUrl = (n: number) => {
		const gateway = gateways()[n];
		if (!gateway) throw new Error(`no gateway #${n}`);
		return `http://127.0.0.1:${gateway.port}`;
	};

	async function ready(node: RunningNode): Promise<void> {
		if (node.port !== null) await waitUntilReady(`http://127.0.0.1:${node.port}`, node);
		else {
			await waitUntilNodeReady(node);
			// A pod that joins a running cluster is in service once the gateways can reach it.
			const services = node.spec.services ?? [];
			for (const gateway of nodes.filter((other) => other.port !== null && alive(other)))
				await waitUntilSeen(`http://127.0.0.1:${gateway.port}`, node, services);
		}
		node.ready = true;
	}

	for (const spec of specs) await launch(spec);
	// Each node becomes ready on its own, as pods do; a failure is reported by whoever waits for it.
	const readiness = nodes.map((node) =>
		ready(node).then(
			() => null,
			(err: Error) => err,
		),
	);
	const waitFor = async (outcomes: Promise<Error | null>[]) => {
		const failed = (await Promise.all(outcomes)).find((outcome) => outcome !== null);
		if (failed) throw failed;
	};
	const allReady = () => waitFor(readiness);
	const agora: Agora = {
		url: "",
		nodes,
		env,
		gatewayUrl,
		allReady,
		async addNode(spec) {
			const node = await launch(spec);
			try {
				await ready(node);
			} catch (err) {
				throw new Error(`${(err as Error).message}\n${agora.logs()}`);
			}
			return node;
		},
		async kill(node, signal = "SIGKILL") {
			node.process.kill(signal);
			await waitForExit(node.process, 15_000);
		},
		running(services) {
			return nodes.filter((node) => alive(node) && (!services || services.every((name) => node.spec.services?.includes(name) ?? true)));
		},
		logs(lines = 40) {
			return nodes
				.map((node) => `--- ${node.id} (${node.spec.services?.join(",") ?? "all"})\n${node.output.slice(-lines).join("\n")}`)
				.join("\n");
		},
		async stop() {
			await Promise.all(
				nodes.map(async (node) => {
					node.process.kill("SIGTERM");
					if (!(await waitForExit(node.process, 15_000))) {
						node.process.kill("SIGKILL");
						await waitForExit(node.process, 5_000);
					}
				}),
			);
			rmSync(dataDir, { recursive: true, force: true });
		},
	};
	try {
		await waitFor(options.readyWhen === "gateways" ? readiness.filter((_, n) => nodes[n]?.port !== null) : readiness);
		agora.url = gatewayUrl(0);
	} catch (err) {
		await agora.stop();
		throw new Error(`${(err as Error).message}\n${agora.logs()}`);
	}
	return agora;
}

/** What every other node logs when it drops a node whose heartbeats stopped. */
export const disconnectedNotice = (id: string) => new RegExp(`Node '${id}' disconnected unexpectedly`);

/**
 * SIGKILLs a pod (once `before` resolves, if given) and waits until every other gateway has dropped
 * it (its heartbeats stopped); returns when it was killed and how long dropping it took.
 */
export async function killUntilDropped(
	agora: Agora,
	victim: RunningNode,
	before?: () => Promise<void>,
): Promise<{ killedAt: number; noticedAfterMs: number }> {
	const gateways = agora.running(POD_ROLES.gateway).filter((gateway) => gateway !== victim);
	const noticed = gateways.map((gateway) => gateway.linesMatching(disconnectedNotice(victim.id)));
	await before?.();
	const killedAt = Date.now();
	await agora.kill(victim, "SIGKILL");
	await eventually(async () => expect(noticed.map((lines) => lines().length)).toEqual(noticed.map(() => 1)));
	return { killedAt, noticedAfterMs: Date.now() - killedAt };
}
