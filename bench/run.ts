/**
 * `npm run bench` runs every workload (docs/benchmarks.md) and the mixed soak against real
 * processes started with the test harness, prints a table and writes bench/results.json.
 *
 *   --quick              tiny sizes and a 15 s soak: proves the harness works (CI); asserts no speed
 *   --soak-minutes <n>   length of the mixed soak (default 10)
 *   --only <1,2,...>     run only these workloads (6 = idle memory + soak, 7 = the database stand-in's indexes,
 *                        8 = distributed placement with 1k and 50k orders stored, 9 = a flash sale through carts and holds)
 *   --modes <list>       embedded,distributed (default both)
 *   --stand-ins <list>   the MongoDB-wire servers the distributed shop workloads (2, 3) run on, each in
 *                        turn: fast (mongo-java-server in memory), ferretdb (FerretDB on PostgreSQL);
 *                        default both. Workloads 7 and 8 always run on FerretDB.
 *   --layouts <list>     how the distributed shop workloads lay the services out over pods, each in turn:
 *                        saga (products, inventory, orders and payments in one role), six (one role
 *                        each for catalog, orders, payments); default both, --quick the first
 *   --out <file>         where to write the results (default bench/results.json)
 *   --markdown <file>    print the tables of a results file in Markdown (for docs/benchmarks.md) and stop
 *   --cpu-prof <dir>     every system process writes a V8 CPU profile into <dir> when it stops
 *   --order-seconds <n>  length of each order placement load (default: the workloads' length)
 *   --order-conns <list> distributed order placement connection counts (default 1,16; --quick 4)
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import globalSetup from "../test/support/infrastructure";
import { actionCallCost } from "./calls";
import { type CostRow, formatCostMarkdown, formatCostTable, idleRates } from "./costs";
import { FLASH_SALE_ENV, flashSale } from "./flash-sale";
import {
	formatMarkdown,
	formatTable,
	type Machine,
	type Mode,
	machine,
	profileSystemsInto,
	type Row,
	startSystem,
	uptime,
} from "./harness";
import { projectionLag } from "./insights";
import type { Layout } from "./layouts";
import { type PlacementScalingPoint, placementWithData } from "./placement-scaling";
import { type ScalingPoint, scalingWithData } from "./scaling";
import { catalogueRead, openShop, orderPlacement, pushLatency } from "./shop";
import { type SoakReport, soak } from "./soak";
import { type StandInPoint, standInScaling } from "./stand-in";
import {
	dropDatabase,
	EMBEDDED_STORE,
	type MongoStore,
	parseStandIns,
	type StandInId,
	type Store,
	standIn,
	TESTS_STAND_IN,
} from "./stand-ins";

const { values } = parseArgs({
	options: {
		quick: { type: "boolean", default: false },
		"soak-minutes": { type: "string" },
		only: { type: "string" },
		modes: { type: "string", default: "embedded,distributed" },
		"stand-ins": { type: "string", default: "fast,ferretdb" },
		layouts: { type: "string" },
		out: { type: "string", default: path.join(__dirname, "results.json") },
		markdown: { type: "string" },
		"cpu-prof": { type: "string" },
		"order-seconds": { type: "string" },
		"order-conns": { type: "string" },
	},
});

const quick = values.quick ?? false;
const soakMinutes = Number(values["soak-minutes"] ?? (quick ? 0.25 : 10));
if (!(soakMinutes > 0)) throw new Error(`--soak-minutes must be a positive number, got "${values["soak-minutes"]}"`);
const only = new Set((values.only ?? "1,2,3,4,5,6,7,8,9").split(",").map(Number));
const modes = (values.modes ?? "").split(",").filter((mode): mode is Mode => mode === "embedded" || mode === "distributed");
const standIns = parseStandIns(values["stand-ins"] ?? "");
const LAYOUT_NAMES: Record<string, Layout> = { saga: "saga together", six: "six roles" };
const layouts = (values.layouts ?? (quick ? "saga" : "saga,six")).split(",").map((name) => {
	const layout = LAYOUT_NAMES[name.trim()];
	if (!layout) throw new Error(`--layouts takes ${Object.keys(LAYOUT_NAMES).join(", ")}; got "${name}"`);
	return layout;
});

/** Sizes: the full run takes about 8 minutes plus the soak; --quick about 3 minutes. */
const SIZES = quick
	? {
			seconds: 2,
			readConnections: 50,
			orderConnections: { embedded: [8], distributed: [4] },
			idleSeconds: 2,
			products: 10,
			customers: 5,
			pushOrders: 3,
			sockets: 20,
			callSeconds: 1,
			// Each concurrency starts its own callers and callees (about 25 s here): one proves the workload runs.
			callConcurrency: [16],
			scaling: [
				{ orders: 100, products: 100 },
				{ orders: 1_000, products: 1_000 },
			],
			queries: 10,
			querySeconds: 5,
			standIn: [1_000, 5_000],
			placementLevels: [100, 1_000],
			flashSale: { rounds: 2, stock: 20 },
		}
	: {
			seconds: 10,
			readConnections: 50,
			// Distributed: one client (placement latency) and 16 (throughput), as issue 13's targets say.
			orderConnections: { embedded: [16], distributed: [1, 16] },
			idleSeconds: 10,
			products: 100,
			customers: 40,
			pushOrders: 40,
			sockets: 100,
			callSeconds: 5,
			// One in flight is a call's latency; 16 is the transporter's throughput (issue 13's targets).
			callConcurrency: [1, 16],
			scaling: [
				{ orders: 1_000, products: 1_000 },
				{ orders: 10_000, products: 10_000 },
				{ orders: 100_000, products: 10_000 },
			],
			queries: 100,
			querySeconds: 15,
			standIn: [1_000, 10_000, 50_000],
			placementLevels: [1_000, 50_000],
			// 16 shoppers a round, 12 of whom buy: 80 units for 96 buyers, with the walked-away units coming back.
			flashSale: { rounds: 8, stock: 80 },
		};

if (values["order-conns"]) SIZES.orderConnections.distributed = values["order-conns"].split(",").map(Number);
const orderSeconds = Number(values["order-seconds"] ?? SIZES.seconds);

export interface Results {
	machine: Machine;
	options: { quick: boolean; soakMinutes: number; workloads: number[]; modes: Mode[]; standIns: StandInId[] };
	sizes: typeof SIZES;
	startedAt: string;
	finishedAt?: string;
	durationSeconds?: number;
	rows: Row[];
	/** Cost per confirmed order, per pod role, of each order placement run. */
	costs: CostRow[];
	scaling: ScalingPoint[];
	standIn?: StandInPoint[];
	placementScaling?: PlacementScalingPoint[];
	soak?: SoakReport;
}

/** Rows that name the store their system ran on, and its layout of pods when it had several. */
const on = <T extends { store?: string; layout?: string }>(store: Store, rows: T[], layout?: Layout): T[] =>
	rows.map((row) => ({ ...row, store: store.name, ...(layout ? { layout } : {}) }));

async function shopWorkloads(mode: Mode, store: Store, results: Results, layout?: Layout): Promise<void> {
	if (![1, 2, 3].some((n) => only.has(n))) return;
	const agora = await startSystem(mode, { mongoUri: store.mongoUri, layout });
	try {
		const shop = await openShop(agora, { products: SIZES.products, customers: SIZES.customers, stock: 1_000_000 });
		if (only.has(1) && mode === "embedded")
			results.rows.push(
				...on(
					store,
					await catalogueRead(agora, mode, shop, { durationSeconds: SIZES.seconds, connections: SIZES.readConnections }),
					layout,
				),
			);
		if (only.has(2)) {
			const idle = await idleRates(agora, store.servers, SIZES.idleSeconds);
			for (const connections of SIZES.orderConnections[mode]) {
				const { rows, costs } = await orderPlacement(agora, mode, store, shop, { durationSeconds: orderSeconds, connections }, idle);
				results.rows.push(...on(store, rows, layout));
				results.costs.push(...on(store, costs, layout));
			}
		}
		if (only.has(3))
			results.rows.push(...on(store, await pushLatency(agora, mode, shop, { orders: SIZES.pushOrders, sockets: SIZES.sockets }), layout));
		if (only.has(3))
			results.rows.push(
				...on(
					store,
					await projectionLag(agora, mode, shop, {
						durationSeconds: SIZES.seconds,
						connections: Math.max(...SIZES.orderConnections[mode]),
					}),
					layout,
				),
			);
	} catch (err) {
		throw new Error(`${(err as Error).message}\n${agora.logs(60)}`);
	} finally {
		await agora.stop();
	}
	// The cluster's data is of no use after a good run, and the memory stand-in would hold it until it stops.
	if (agora.env.MONGO_URI) await dropDatabase(agora.env.MONGO_URI);
}

/** The stores the distributed shop workloads run on; a stand-in that cannot be had is said in one line and skipped. */
async function distributedStores(step: (name: string) => void): Promise<Store[]> {
	const stores: Store[] = [];
	for (const id of standIns) {
		const found = await standIn(id);
		if ("unavailable" in found) step(`skipping the ${id} stand-in: ${found.unavailable}`);
		else stores.push(found);
	}
	return stores;
}

/** Workloads 7 and 8 measure FerretDB itself (its index plans, its in-memory sorts at 50k documents). */
async function testsStandIn(): Promise<MongoStore> {
	const found = await standIn(TESTS_STAND_IN);
	if ("unavailable" in found) throw new Error(found.unavailable);
	return found;
}

async function main(): Promise<void> {
	const started = Date.now();
	if (values["cpu-prof"]) profileSystemsInto(path.resolve(values["cpu-prof"]));
	if (modes.includes("distributed") || only.has(4) || only.has(7)) await globalSetup();
	const results: Results = {
		machine: machine(),
		options: { quick, soakMinutes, workloads: [...only].sort(), modes, standIns },
		sizes: SIZES,
		startedAt: new Date(started).toISOString(),
		rows: [],
		costs: [],
		scaling: [],
	};
	const save = () => writeFileSync(values.out as string, `${JSON.stringify(results, null, "\t")}\n`);
	const step = (name: string) => process.stderr.write(`bench: ${name} (${Math.round((Date.now() - started) / 1000)} s)\n`);

	if (modes.includes("embedded")) {
		step("shop workloads, embedded");
		await shopWorkloads("embedded", EMBEDDED_STORE, results);
		save();
	}
	if (modes.includes("distributed"))
		for (const store of await distributedStores(step))
			for (const layout of layouts) {
				step(`shop workloads, distributed, ${layout}, on ${store.name}`);
				await shopWorkloads("distributed", store, results, layout);
				save();
			}
	if (only.has(4)) {
		step("action call cost");
		for (const concurrency of SIZES.callConcurrency)
			results.rows.push(...(await actionCallCost({ durationSeconds: SIZES.callSeconds, concurrency })));
		save();
	}
	if (only.has(5)) {
		step("scaling with data");
		const { rows, points } = await scalingWithData(SIZES.scaling, { queries: SIZES.queries, seconds: SIZES.querySeconds });
		results.rows.push(...on(EMBEDDED_STORE, rows));
		results.scaling = points;
		save();
	}
	if (only.has(7)) {
		step("database stand-in with data");
		const store = await testsStandIn();
		const { rows, points } = await standInScaling(store.mongoUri, { sizes: SIZES.standIn, seconds: quick ? 1 : 3 });
		results.rows.push(...on(store, rows));
		results.standIn = points;
		save();
	}
	if (only.has(8) && modes.includes("distributed")) {
		step("distributed placement with data");
		const store = await testsStandIn();
		const agora = await startSystem("distributed", { mongoUri: store.mongoUri });
		try {
			const shop = await openShop(agora, { products: SIZES.products, customers: 1, stock: 1_000_000 });
			const { rows, points } = await placementWithData(agora, shop, { levels: SIZES.placementLevels, seconds: quick ? 2 : 15 });
			results.rows.push(...on(store, rows));
			results.placementScaling = points;
		} finally {
			await agora.stop();
		}
		save();
	}
	if (only.has(9))
		for (const mode of modes) {
			step(`flash sale, ${mode}`);
			const agora = await startSystem(mode, { env: FLASH_SALE_ENV });
			try {
				results.rows.push(
					...on(mode === "embedded" ? EMBEDDED_STORE : await testsStandIn(), await flashSale(agora, mode, SIZES.flashSale)),
				);
			} catch (err) {
				throw new Error(`${(err as Error).message}\n${agora.logs(60)}`);
			} finally {
				await agora.stop();
			}
			save();
		}
	if (only.has(6)) {
		step(`soak, ${soakMinutes} min`);
		const report = await soak({ minutes: soakMinutes, sockets: SIZES.sockets, quick });
		results.rows.push(...on(EMBEDDED_STORE, report.rows));
		results.soak = report;
	}
	results.machine.loadAtEnd = uptime();
	results.finishedAt = new Date().toISOString();
	results.durationSeconds = Math.round((Date.now() - started) / 1000);
	save();
	process.stdout.write(`${formatTable(results.rows)}\n\n`);
	if (results.costs.length > 0) process.stdout.write(`Cost per confirmed order, per pod role:\n${formatCostTable(results.costs)}\n\n`);
	process.stdout.write(`${results.machine.cpuModel}, ${results.machine.cores} cores, Node ${results.machine.node}\n`);
	process.stdout.write(`load at start: ${results.machine.loadAtStart}\nload at end:   ${results.machine.loadAtEnd}\n`);
	process.stdout.write(`${results.durationSeconds} s; results in ${values.out}\n`);
	if (results.soak && !results.soak.invariantsHold) {
		process.stderr.write(`bench: the soak broke an invariant:\n${results.soak.violations.join("\n")}\n`);
		process.exitCode = 1;
	}
}

/** The README's tables, from a results file. */
function printMarkdown(file: string): void {
	const results = JSON.parse(readFileSync(file, "utf8")) as Results;
	const { machine: m, options } = results;
	process.stdout.write(`${formatMarkdown(results.rows)}\n\n`);
	if (results.costs?.length) process.stdout.write(`${formatCostMarkdown(results.costs)}\n\n`);
	process.stdout.write(
		`${m.cpuModel}, ${m.cores} cores, ${m.memoryGb} GB, Node ${m.node}, ${options.quick ? "--quick" : "full run"}, ` +
			`soak ${options.soakMinutes} min, ${results.startedAt}, ${results.durationSeconds} s in all. ` +
			`Load before: ${m.loadAtStart.replace(/.*load average/, "load average")}; after: ${m.loadAtEnd?.replace(/.*load average/, "load average")}.\n`,
	);
}

(values.markdown ? Promise.resolve(printMarkdown(values.markdown)) : main()).then(
	// Exit even though the shared infrastructure probe (test/support/infrastructure.ts) leaves its
	// sockets open, as jest's --forceExit does for the tests.
	() => process.exit(),
	(err: Error) => {
		process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
		process.exit(1);
	},
);
