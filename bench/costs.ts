/**
 * Cost per order, per pod role: process CPU time (from /proc), packets through the Kafka
 * transporter, messages on the durable channels, database commands and remote calls (the pods'
 * own counters, middlewares/cost-counters.ts), each over a workload and divided by the orders it confirmed.
 * The servers' CPU (Kafka, and FerretDB with PostgreSQL or mongo-java-server, whichever the system
 * runs on; from scripts/infra's pid files under INFRA_DIR) is read the same way; when other test
 * runs share those servers, it includes their load.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { CostCounters } from "../middlewares/cost-counters";
import type { Agora } from "../test/support/agora";
import type { Mode } from "./harness";
import { roleOf } from "./layouts";

/** The kernel's clock ticks per second (USER_HZ), 100 on Linux. */
const TICKS_PER_SECOND = 100;

/** Where every system process the bench starts writes its counters (COST_COUNTERS_DIR). */
export const COUNTERS_DIR = mkdtempSync(path.join(tmpdir(), "agora-bench-costs-"));
process.on("exit", () => rmSync(COUNTERS_DIR, { recursive: true, force: true }));

/** CPU seconds (user + system) a process has used, or null once it is gone. */
function cpuSeconds(pid: number): number | null {
	try {
		// The command may hold spaces and parentheses: the fields start after the last ')'.
		const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
		const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
		return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
	} catch {
		return null;
	}
}

/** The direct children of a process (PostgreSQL's backends are children of the postmaster). */
function children(pid: number): number[] {
	const found: number[] = [];
	for (const entry of readdirSync("/proc")) {
		if (!/^\d+$/.test(entry)) continue;
		try {
			const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
			if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid) found.push(Number(entry));
		} catch {
			// gone meanwhile
		}
	}
	return found;
}

const INFRA_DIR = process.env.INFRA_DIR ?? path.join(process.env.TMPDIR ?? "/tmp", "agora-infra");

/** The shared servers scripts/infra starts, by the pid file each keeps under INFRA_DIR. */
const SERVERS = {
	kafka: { file: "kafka/kafka.pid", withChildren: false },
	ferretdb: { file: "ferretdb/ferretdb.pid", withChildren: false },
	postgresql: { file: "postgres/postgres.pid", withChildren: true },
	"mongo-java": { file: "mongo-java/mongo-java.pid", withChildren: false },
};

export type ServerRole = keyof typeof SERVERS;

/** Kafka and the servers of the database the system runs on (the others' idle burn is not its cost). */
function infrastructurePids(database: readonly ServerRole[]): { role: string; pids: () => number[] }[] {
	const pidOf = (file: string) => {
		const full = path.join(INFRA_DIR, file);
		return existsSync(full) ? Number(readFileSync(full, "utf8").trim()) : null;
	};
	return (["kafka", ...database] as const).flatMap((role) => {
		const { file, withChildren } = SERVERS[role];
		const pid = pidOf(file);
		if (!pid || cpuSeconds(pid) === null) return [];
		return [{ role: `${role} (server)`, pids: () => (withChildren ? [pid, ...children(pid)] : [pid]) }];
	});
}

interface Reading {
	role: string;
	pids: number[];
	cpu: Map<number, number>;
	counters: CostCounters[];
}

type Snapshot = Reading[];

/** Asks each process for its counters (SIGUSR2) and waits until it has written them. */
async function readCounters(pid: number): Promise<CostCounters | null> {
	const file = path.join(COUNTERS_DIR, `${pid}.json`);
	rmSync(file, { force: true });
	try {
		process.kill(pid, "SIGUSR2");
	} catch {
		return null;
	}
	for (let i = 0; i < 100; i++) {
		if (existsSync(file))
			try {
				return JSON.parse(readFileSync(file, "utf8")) as CostCounters;
			} catch {
				// written but not yet whole
			}
		await sleep(20);
	}
	throw new Error(`process ${pid} wrote no cost counters within 2 s`);
}

/** Every pod's CPU time and counters, and the CPU time of Kafka and the `database` servers, now. */
export async function snapshot(agora: Agora, database: readonly ServerRole[]): Promise<Snapshot> {
	const readings: Reading[] = [];
	for (const node of agora.nodes) {
		const pid = node.process.pid;
		if (!pid || node.process.exitCode !== null) continue;
		const counters = await readCounters(pid);
		readings.push({
			role: roleOf(node.spec.services),
			pids: [pid],
			cpu: new Map([[pid, cpuSeconds(pid) ?? 0]]),
			counters: counters ? [counters] : [],
		});
	}
	if (agora.nodes.length > 1)
		for (const server of infrastructurePids(database)) {
			const pids = server.pids();
			readings.push({ role: server.role, pids, cpu: new Map(pids.map((pid) => [pid, cpuSeconds(pid) ?? 0])), counters: [] });
		}
	return readings;
}

/** CPU seconds of each role between two snapshots. */
function cpuByRole(before: Snapshot, after: Snapshot): Map<string, number> {
	const cpuBefore = new Map(before.flatMap((reading) => [...reading.cpu]));
	const result = new Map<string, number>();
	for (const reading of after) {
		// A process that appeared meanwhile (a PostgreSQL backend) counts from zero.
		const used = sum([...reading.cpu].map(([pid, seconds]) => seconds - (cpuBefore.get(pid) ?? 0)));
		result.set(reading.role, (result.get(reading.role) ?? 0) + used);
	}
	return result;
}

/** What each role burns with no orders coming in (heartbeats, polls, fetch loops), in CPU ms per second. */
export type IdleRates = Map<string, number>;

/** Watches the system idle for `seconds`: the fixed part of its cost, which an order does not add. */
export async function idleRates(agora: Agora, database: readonly ServerRole[], seconds: number): Promise<IdleRates> {
	const before = await snapshot(agora, database);
	const started = performance.now();
	await sleep(seconds * 1000);
	const after = await snapshot(agora, database);
	const elapsed = (performance.now() - started) / 1000;
	return new Map([...cpuByRole(before, after)].map(([role, cpu]) => [role, (cpu * 1000) / elapsed]));
}

/** One line of the cost table: what a role spent per confirmed order over one workload. */
export interface CostRow {
	workload: string;
	mode: Mode;
	/** The store the system ran on (bench/stand-ins.ts). */
	store?: string;
	/** How the distributed system's services were laid out over pods (bench/layouts.ts). */
	layout?: string;
	role: string;
	pods: number;
	orders: number;
	/** All the CPU the role used over the workload, per order. */
	cpuMsPerOrder: number;
	/** What the role burns idle, CPU ms per second (measured before the workloads), when measured. */
	idleCpuMsPerSecond: number | null;
	/** CPU per order above that idle burn: what one more order costs. */
	marginalCpuMsPerOrder: number | null;
	/** Packets this role's pods sent and received over the Kafka transporter. */
	transporterPacketsPerOrder: number | null;
	/** Durable channel messages sent and handled. */
	channelMessagesPerOrder: number | null;
	dbCommandsPerOrder: number | null;
	/** Requests to the Kafka broker that grow with the orders: produces, fetches that brought records, offset commits. */
	kafkaRequestsPerOrder: number | null;
	remoteCallsPerOrder: number | null;
	/** The commands and remote calls behind the figures, per order, largest first. */
	detail?: string;
}

const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);

function diffCounts(after: Record<string, number>[], before: Record<string, number>[]): Record<string, number> {
	const result: Record<string, number> = {};
	for (const counts of after) for (const [key, value] of Object.entries(counts)) result[key] = (result[key] ?? 0) + value;
	for (const counts of before) for (const [key, value] of Object.entries(counts)) result[key] = (result[key] ?? 0) - value;
	return result;
}

/** Per-role cost of the work between two snapshots `seconds` apart, over `orders` confirmed orders. */
export function costPerOrder(
	workload: string,
	mode: Mode,
	measured: { before: Snapshot; after: Snapshot; seconds: number; orders: number },
	idle?: IdleRates,
): CostRow[] {
	const { before, after, seconds, orders } = measured;
	const roles = [...new Set(after.map((reading) => reading.role))];
	const cpuUsed = cpuByRole(before, after);
	const podRoles = roles.filter((role) => !role.endsWith("(server)"));
	// Agora's own processes together, when there are several: the figure the distributed targets compare.
	const groups = podRoles.length > 1 ? [...roles.map((role) => [role]), podRoles] : roles.map((role) => [role]);
	return groups.map((members) => {
		const role = members.length === 1 ? (members[0] as string) : "all Agora pods";
		const now = after.filter((reading) => members.includes(reading.role));
		const then = before.filter((reading) => members.includes(reading.role));
		const cpu = sum(members.map((member) => cpuUsed.get(member) ?? 0));
		const idleRates = members.map((member) => idle?.get(member));
		const idleRate = idleRates.every((rate) => rate !== undefined) ? sum(idleRates as number[]) : null;
		const countersNow = now.flatMap((reading) => reading.counters);
		const countersThen = then.flatMap((reading) => reading.counters);
		const total = (pick: (counters: CostCounters) => number) =>
			countersNow.length === 0 ? null : (sum(countersNow.map(pick)) - sum(countersThen.map(pick))) / orders;
		const top = (counts: Record<string, number>) =>
			Object.entries(counts)
				.filter(([, value]) => value > 0)
				.sort((a, b) => b[1] - a[1])
				.slice(0, 10)
				.map(([key, value]) => `${key} ${(value / orders).toFixed(2)}`)
				.join(", ");
		const db = top(
			diffCounts(
				countersNow.map((counters) => counters.dbByCommand),
				countersThen.map((counters) => counters.dbByCommand),
			),
		);
		const calls = top(
			diffCounts(
				countersNow.map((counters) => counters.remoteCallsByAction),
				countersThen.map((counters) => counters.remoteCallsByAction),
			),
		);
		const kafkaByApi = diffCounts(
			countersNow.map((counters) => counters.kafkaRequests ?? {}),
			countersThen.map((counters) => counters.kafkaRequests ?? {}),
		);
		const kafka = top(kafkaByApi);
		const perOrderWork = (key: string) => key.endsWith(" Produce") || key.endsWith(" OffsetCommit");
		const kafkaWork =
			sum(Object.entries(kafkaByApi).flatMap(([key, value]) => (perOrderWork(key) ? [value] : []))) +
			sum(countersNow.map((counters) => counters.kafkaFetchesWithRecords ?? 0)) -
			sum(countersThen.map((counters) => counters.kafkaFetchesWithRecords ?? 0));
		const detail = [db && `db: ${db}`, calls && `calls: ${calls}`, kafka && `kafka: ${kafka}`].filter(Boolean).join("; ");
		const distributed = mode === "distributed" && countersNow.length > 0;
		return {
			workload,
			mode,
			role,
			pods: now.length,
			orders,
			cpuMsPerOrder: (cpu * 1000) / orders,
			idleCpuMsPerSecond: idleRate,
			marginalCpuMsPerOrder: idleRate === null ? null : Math.max(0, cpu * 1000 - idleRate * seconds) / orders,
			transporterPacketsPerOrder: distributed ? total((c) => c.transporterSent + c.transporterReceived) : null,
			channelMessagesPerOrder: total((c) => c.channelSent + c.channelReceived),
			dbCommandsPerOrder: distributed ? total((c) => c.dbCommands) : null,
			kafkaRequestsPerOrder: distributed ? kafkaWork / orders : null,
			remoteCallsPerOrder: distributed ? total((c) => c.remoteCalls) : null,
			...(detail ? { detail } : {}),
		};
	});
}

const fixed = (value: number | null, digits = 1) => (value === null || Number.isNaN(value) ? "-" : value.toFixed(digits));

const HEADER = [
	"workload",
	"mode",
	"store",
	"layout",
	"role",
	"pods",
	"orders",
	"CPU ms/order",
	"idle CPU ms/s",
	"marginal CPU ms/order",
	"transporter pkts/order",
	"channel msgs/order",
	"db cmds/order",
	"kafka reqs/order",
	"remote calls/order",
	"detail",
];

function cells(row: CostRow): string[] {
	return [
		row.workload,
		row.mode,
		row.store ?? "-",
		row.layout ?? "-",
		row.role,
		String(row.pods),
		String(row.orders),
		fixed(row.cpuMsPerOrder, 2),
		fixed(row.idleCpuMsPerSecond),
		fixed(row.marginalCpuMsPerOrder, 2),
		fixed(row.transporterPacketsPerOrder),
		fixed(row.channelMessagesPerOrder),
		fixed(row.dbCommandsPerOrder),
		fixed(row.kafkaRequestsPerOrder),
		fixed(row.remoteCallsPerOrder),
		row.detail ?? "",
	];
}

export function formatCostTable(rows: CostRow[]): string {
	const lines = [HEADER, ...rows.map(cells)];
	const widths = HEADER.map((_, i) => Math.max(...lines.map((line) => (line[i] ?? "").length)));
	return lines
		.map((line) =>
			line
				.map((cell, i) => cell.padEnd(widths[i] ?? 0))
				.join("  ")
				.trimEnd(),
		)
		.join("\n");
}

export function formatCostMarkdown(rows: CostRow[]): string {
	const render = (line: string[]) => `| ${line.map((cell) => cell.replaceAll("|", "\\|")).join(" | ")} |`;
	return [render(HEADER), render(HEADER.map(() => "---")), ...rows.map((row) => render(cells(row)))].join("\n");
}
