import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

const ROOT = path.resolve(__dirname, "..", "..");
const RUNNER = path.join(ROOT, "node_modules", "moleculer", "bin", "moleculer-runner.js");

export interface NodeSpec {
	/** Services this node hosts, by name (`SERVICES`); all of them when omitted. */
	services?: string[];
	env?: Record<string, string>;
}

export interface AgoraOptions {
	/** One entry per node process; the first node hosting `api` is the one `url` points at. */
	nodes?: NodeSpec[];
	/** Distributed mode over the real Kafka and MongoDB-wire servers of `test/support/infrastructure`. */
	distributed?: boolean;
	env?: Record<string, string>;
}

export interface RunningNode {
	spec: NodeSpec;
	process: ChildProcess;
	port: number | null;
	output: string[];
}

export interface Agora {
	url: string;
	nodes: RunningNode[];
	env: Record<string, string>;
	/** The URL of the n-th node that hosts the gateway. */
	gatewayUrl(n: number): string;
	/** Starts another node into the same cluster (e.g. after one was killed). */
	addNode(spec: NodeSpec): Promise<RunningNode>;
	kill(node: RunningNode, signal?: NodeJS.Signals): Promise<void>;
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

/** Polls `/api/ready` until the gateway sees every service that owns a database. */
export async function waitUntilReady(url: string, expected: string[], node: RunningNode, ms = 90_000): Promise<void> {
	const deadline = Date.now() + ms;
	let last = "no answer";
	while (Date.now() < deadline) {
		if (node.process.exitCode !== null) throw new Error(`node exited with ${node.process.exitCode}`);
		try {
			const res = await fetch(`${url}/api/ready`);
			const body = (await res.json()) as { checks?: Record<string, string>; data?: { checks?: Record<string, string> } };
			const checks = body.checks ?? body.data?.checks ?? {};
			last = `${res.status} ${JSON.stringify(checks)}`;
			if (res.status === 200 && expected.every((name) => checks[name] === "ok")) return;
		} catch (err) {
			last = (err as Error).message;
		}
		await new Promise((resolve) => setTimeout(resolve, 250));
	}
	throw new Error(`Agora at ${url} was not ready in ${ms} ms (last: ${last})`);
}

/** Services that own a database, and so answer `<name>.ready`. */
const STORAGE_SERVICES = ["users", "products", "inventory", "orders", "payments"].filter((name) =>
	existsSync(path.join(ROOT, "services", `${name}.service.ts`)),
);

/**
 * Starts Agora as real processes, the way `npm start` / `npm run start:node` do, each on its own
 * data (a temp `DATA_DIR`, or a fresh database, namespace and topic prefix on the shared servers).
 */
export async function startAgora(options: AgoraOptions = {}): Promise<Agora> {
	const runId = randomBytes(4).toString("hex");
	const dataDir = mkdtempSync(path.join(tmpdir(), "agora-test-"));
	const env: Record<string, string> = {
		LOGLEVEL: "warn",
		DATA_DIR: dataDir,
		SEED_DEMO: "0",
		...(options.distributed
			? {
					TRANSPORTER: `kafka://${process.env.KAFKA_BROKERS ?? "127.0.0.1:9092"}`,
					MONGO_URI: `${(process.env.MONGO_URI ?? "mongodb://127.0.0.1:27017").replace(/\/[^/]*$/, "")}/agora_${runId}`,
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
		const port = hostsGateway(spec) ? await freePort() : null;
		const args = ["--import", "tsx", RUNNER, "--config", "moleculer.config.ts"];
		if (!spec.services) args.push("--mask", "*.service.ts", "services");
		const child = spawn(process.execPath, args, {
			cwd: ROOT,
			env: {
				...inheritedEnv(),
				...env,
				...spec.env,
				NODE_ID: `node-${runId}-${counter++}`,
				PORT: String(port ?? 0),
				...(spec.services ? { SERVICES: spec.services.join(",") } : {}),
			},
			stdio: ["ignore", "pipe", "pipe"],
		});
		const node: RunningNode = { spec, process: child, port, output: [] };
		const keep = (chunk: Buffer) => {
			node.output.push(chunk.toString());
			if (node.output.length > 400) node.output.splice(0, node.output.length - 400);
		};
		child.stdout?.on("data", keep);
		child.stderr?.on("data", keep);
		nodes.push(node);
		return node;
	}

	const gatewayUrl = (n: number) => {
		const gateway = nodes.filter((node) => node.port !== null)[n];
		if (!gateway) throw new Error(`no gateway #${n}`);
		return `http://127.0.0.1:${gateway.port}`;
	};

	const expected = () => {
		const hosted = specs.flatMap((spec) => spec.services ?? STORAGE_SERVICES);
		return STORAGE_SERVICES.filter((name) => hosted.includes(name));
	};

	for (const spec of specs) await launch(spec);
	const agora: Agora = {
		url: "",
		nodes,
		env,
		gatewayUrl,
		async addNode(spec) {
			return launch(spec);
		},
		async kill(node, signal = "SIGKILL") {
			node.process.kill(signal);
			await waitForExit(node.process, 15_000);
		},
		logs(lines = 40) {
			return nodes
				.map(
					(node, i) =>
						`--- node ${i} (${node.spec.services?.join(",") ?? "all"})\n${node.output.join("").split("\n").slice(-lines).join("\n")}`,
				)
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
		const gateways = nodes.filter((node) => node.port !== null);
		for (const [i, gateway] of gateways.entries()) await waitUntilReady(gatewayUrl(i), expected(), gateway);
		agora.url = gatewayUrl(0);
	} catch (err) {
		await agora.stop();
		throw new Error(`${(err as Error).message}\n${agora.logs()}`);
	}
	return agora;
}
