/** What every workload shares: the load generator process, RSS sampling, percentiles, result rows. */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os, { tmpdir } from "node:os";
import path from "node:path";
import { type Agora, startAgora } from "../test/support/agora";
import { COUNTERS_DIR } from "./costs";
import { LAYOUTS, type Layout } from "./layouts";

export type Mode = "embedded" | "distributed";

/** One request the load generator may send; `path` includes the query string. */
export interface PlannedRequest {
	method: "GET" | "POST" | "PATCH";
	path: string;
	headers?: Record<string, string>;
	body?: string;
}

export interface LoadPlan {
	url: string;
	connections: number;
	/** Bounded by time, and by a number of requests when `maxRequests` is given: whichever comes first. */
	durationSeconds: number;
	maxRequests?: number;
	/** Requests per second over all connections; as fast as answers come when unset. */
	overallRate?: number;
	/** Taken in turn by all connections together. */
	pool: PlannedRequest[];
}

export interface LoadResult {
	requests: number;
	ok: number;
	okPerSecond: number;
	durationSeconds: number;
	p50Ms: number;
	p99Ms: number;
	errors: number;
	statusCounts: Record<string, number>;
}

/** One line of the results table. `ratio` is throughput against the baseline (latency rows: baseline over ours). */
export interface Row {
	workload: string;
	mode: Mode | "-";
	/** The store the system ran on (bench/stand-ins.ts); none for a workload without a database. */
	store?: string;
	/** How the distributed system's services were laid out over pods (bench/layouts.ts). */
	layout?: string;
	subject: string;
	throughput: number | null;
	unit: string;
	p50Ms: number | null;
	p99Ms: number | null;
	peakRssMb: number | null;
	baseline: string | null;
	ratio: number | null;
	note?: string;
}

const BENCH_DIR = __dirname;

/** Runs a TypeScript program of bench/ as a child process on this Node, with tsx. */
export function spawnBenchProgram(file: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
	return spawn(process.execPath, ["--import", "tsx", path.join(BENCH_DIR, file), ...args], {
		env: { ...process.env, ...env },
		stdio: ["ignore", "pipe", "pipe"],
	});
}

/** Runs a bench program to its end and parses the JSON line it prints last. */
export async function runBenchProgram<T>(file: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<T> {
	const child = spawnBenchProgram(file, args, env);
	let stdout = "";
	let stderr = "";
	child.stdout?.on("data", (chunk: Buffer) => {
		stdout += chunk.toString();
	});
	child.stderr?.on("data", (chunk: Buffer) => {
		stderr += chunk.toString();
	});
	const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
	const last = stdout.trim().split("\n").pop() ?? "";
	if (code !== 0 || !last) throw new Error(`${file} exited with ${code}: ${stderr.slice(-2_000)}`);
	return JSON.parse(last) as T;
}

/** Fires a plan from the separate load-generator process. */
export async function runLoad(plan: LoadPlan): Promise<LoadResult> {
	const dir = mkdtempSync(path.join(tmpdir(), "agora-bench-plan-"));
	const file = path.join(dir, "plan.json");
	try {
		writeFileSync(file, JSON.stringify(plan));
		return await runBenchProgram<LoadResult>("load-generator.ts", [file]);
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
}

/** Resident set size of a process in MB, or 0 once it is gone. */
export function rssMb(pid: number): number {
	try {
		const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
		return match ? Number(match[1]) / 1024 : 0;
	} catch {
		return 0;
	}
}

/** Samples the summed RSS of some processes while a workload runs. */
export class RssSampler {
	readonly samples: { atMs: number; mb: number }[] = [];
	private timer: NodeJS.Timeout | undefined;
	private readonly started = Date.now();

	constructor(
		private readonly pids: number[],
		intervalMs = 250,
	) {
		this.sample();
		this.timer = setInterval(() => this.sample(), intervalMs);
	}

	private sample(): void {
		this.samples.push({ atMs: Date.now() - this.started, mb: this.pids.reduce((sum, pid) => sum + rssMb(pid), 0) });
	}

	/** Stops sampling; the peak summed RSS in MB. */
	stop(): number {
		clearInterval(this.timer);
		this.sample();
		return Math.max(...this.samples.map((sample) => sample.mb));
	}
}

export function systemPids(agora: Agora): number[] {
	return agora.nodes.flatMap((node) => (node.process.pid && node.process.exitCode === null ? [node.process.pid] : []));
}

export function percentile(values: number[], p: number): number {
	if (values.length === 0) return Number.NaN;
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

/** Least-squares slope of y over x. */
export function slope(points: { x: number; y: number }[]): number {
	const n = points.length;
	if (n < 2) return 0;
	const meanX = points.reduce((sum, p) => sum + p.x, 0) / n;
	const meanY = points.reduce((sum, p) => sum + p.y, 0) / n;
	const num = points.reduce((sum, p) => sum + (p.x - meanX) * (p.y - meanY), 0);
	const den = points.reduce((sum, p) => sum + (p.x - meanX) ** 2, 0);
	return den === 0 ? 0 : num / den;
}

/**
 * Extra environment of every system process the bench starts (e.g. NODE_OPTIONS for --cpu-prof);
 * each counts its own costs for the cost-per-order table (bench/costs.ts).
 */
const systemEnv: Record<string, string> = { COST_COUNTERS_DIR: COUNTERS_DIR };

/** Every system process started from now on writes a V8 CPU profile into `dir` when it stops. */
export function profileSystemsInto(dir: string): void {
	systemEnv.NODE_OPTIONS = `--cpu-prof --cpu-prof-dir=${dir}`;
}

/**
 * An order whose placement timed out half-way stays pending until the reaper fails it and
 * releases its stock; a short TTL lets a run end in a settled state instead of waiting 15 minutes.
 */
const PENDING_TTL_SECONDS = "30";

/** Starts Agora; distributed, on the MongoDB-wire server of `mongoUri` (default: MONGO_URI's, the tests' FerretDB). */
export function startSystem(
	mode: Mode,
	options: { env?: Record<string, string>; mongoUri?: string; layout?: Layout } = {},
): Promise<Agora> {
	const env = { ORDER_PENDING_TTL_SECONDS: PENDING_TTL_SECONDS, ...systemEnv, ...options.env };
	if (mode === "embedded") return startAgora({ env });
	const infrastructure = options.mongoUri
		? { kafkaBrokers: process.env.KAFKA_BROKERS ?? "127.0.0.1:9092", mongoUri: options.mongoUri }
		: undefined;
	const nodes = Object.values(LAYOUTS[options.layout ?? "six roles"]).map((services) => ({ services: [...services] }));
	return startAgora({ distributed: true, nodes, env, infrastructure });
}

export interface Machine {
	node: string;
	cpuModel: string;
	cores: number;
	memoryGb: number;
	platform: string;
	/** `uptime` at the start and at the end: other work on the machine skews the figures. */
	loadAtStart: string;
	loadAtEnd?: string;
}

export function uptime(): string {
	try {
		return execFileSync("uptime", { encoding: "utf8" }).trim();
	} catch {
		return `load average: ${os
			.loadavg()
			.map((load) => load.toFixed(2))
			.join(", ")}`;
	}
}

export function machine(): Machine {
	const cpus = os.cpus();
	return {
		node: process.version,
		cpuModel: cpus[0]?.model.trim() ?? "unknown",
		cores: cpus.length,
		memoryGb: Math.round(os.totalmem() / 2 ** 30),
		platform: `${os.type()} ${os.release()} ${os.arch()}`,
		loadAtStart: uptime(),
	};
}

const fixed = (value: number | null, digits: number) => (value === null || Number.isNaN(value) ? "-" : value.toFixed(digits));

const HEADER = [
	"workload",
	"mode",
	"store",
	"layout",
	"subject",
	"throughput",
	"p50 ms",
	"p99 ms",
	"peak RSS MB",
	"baseline",
	"ratio",
	"note",
];

function cells(row: Row): string[] {
	return [
		row.workload,
		row.mode,
		row.store ?? "-",
		row.layout ?? "-",
		row.subject,
		row.throughput === null ? "-" : `${fixed(row.throughput, row.throughput < 100 ? 1 : 0)} ${row.unit}`,
		fixed(row.p50Ms, 2),
		fixed(row.p99Ms, 2),
		fixed(row.peakRssMb, 0),
		row.baseline ?? "-",
		fixed(row.ratio, 2),
		row.note ?? "",
	];
}

/** The stdout table: one line per row, aligned. */
export function formatTable(rows: Row[]): string {
	const lines = rows.map(cells);
	const widths = HEADER.map((title, i) => Math.max(title.length, ...lines.map((line) => (line[i] ?? "").length)));
	const render = (line: string[]) =>
		line
			.map((cell, i) => cell.padEnd(widths[i] ?? 0))
			.join("  ")
			.trimEnd();
	return [render(HEADER), render(widths.map((w) => "-".repeat(w))), ...lines.map(render)].join("\n");
}

/** The same table in Markdown, for the README. */
export function formatMarkdown(rows: Row[]): string {
	const render = (line: string[]) => `| ${line.map((cell) => cell.replaceAll("|", "\\|")).join(" | ")} |`;
	return [render(HEADER), render(HEADER.map(() => "---")), ...rows.map((row) => render(cells(row)))].join("\n");
}

/** A bench server program running in its own process; it prints its port as `{"port": n}` first. */
export interface BenchServer {
	url: string;
	pid: number;
	stop(): Promise<void>;
}

export async function startBenchServer(file: string, args: string[]): Promise<BenchServer> {
	const child = spawnBenchProgram(file, args);
	let stderr = "";
	child.stderr?.on("data", (chunk: Buffer) => {
		stderr += chunk.toString();
	});
	const port = await new Promise<number>((resolve, reject) => {
		let stdout = "";
		child.stdout?.on("data", (chunk: Buffer) => {
			stdout += chunk.toString();
			const line = stdout.split("\n")[0];
			if (stdout.includes("\n") && line) resolve((JSON.parse(line) as { port: number }).port);
		});
		child.once("exit", (code) => reject(new Error(`${file} exited with ${code}: ${stderr}`)));
	});
	return {
		url: `http://127.0.0.1:${port}`,
		pid: child.pid ?? 0,
		async stop() {
			if (child.exitCode !== null) return;
			const exited = new Promise((resolve) => child.once("exit", resolve));
			child.kill("SIGTERM");
			await exited;
		},
	};
}

/** Runs `work` while sampling the RSS of `pids`. */
export async function measured<T>(pids: number[], work: () => Promise<T>): Promise<{ result: T; peakRssMb: number }> {
	const sampler = new RssSampler(pids);
	let peakRssMb = 0;
	let result: T;
	try {
		result = await work();
	} finally {
		peakRssMb = sampler.stop();
	}
	return { result, peakRssMb };
}

/** Runs `task` over `items`, at most `limit` at a time. */
export async function inParallel<T, R>(items: T[], limit: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
	const results: R[] = new Array(items.length);
	let next = 0;
	await Promise.all(
		Array.from({ length: Math.min(limit, items.length) }, async () => {
			while (next < items.length) {
				const index = next++;
				results[index] = await task(items[index] as T, index);
			}
		}),
	);
	return results;
}
