/**
 * Does a second orders pod add throughput when orders is the bottleneck? Six pods as k8s runs them;
 * every orders pod is held to a fixed CPU share with a cgroup (v1 `cpu` controller, CFS quota), so
 * orders is the bottleneck on purpose; then 16 clients place orders for a while with one orders
 * pod, and again after a second one joined. Needs root and /sys/fs/cgroup/cpu; Linux only.
 *
 *   node --import tsx bench/second-pod.ts [--quota-percent 8] [--seconds 15] [--stand-in ferretdb|fast]
 */
import { mkdirSync, rmdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { pod } from "../test/support/agora";
import globalSetup from "../test/support/infrastructure";
import { startSystem } from "./harness";
import { openShop, orderPlacement } from "./shop";
import { parseStandIns, standIn } from "./stand-ins";

const { values } = parseArgs({
	options: {
		"quota-percent": { type: "string", default: "8" },
		seconds: { type: "string", default: "15" },
		"stand-in": { type: "string", default: "ferretdb" },
	},
});
const quotaPercent = Number(values["quota-percent"]);
const seconds = Number(values.seconds);
const [standInId = "ferretdb"] = parseStandIns(values["stand-in"] ?? "");
const CGROUP_CPU = "/sys/fs/cgroup/cpu";
const PERIOD_US = 100_000;

/** Puts `pid` alone in a new cgroup that may use `quotaPercent` of one core. */
function holdTo(pid: number, name: string): string {
	const dir = path.join(CGROUP_CPU, name);
	mkdirSync(dir, { recursive: true });
	writeFileSync(path.join(dir, "cpu.cfs_period_us"), String(PERIOD_US));
	writeFileSync(path.join(dir, "cpu.cfs_quota_us"), String((PERIOD_US * quotaPercent) / 100));
	writeFileSync(path.join(dir, "cgroup.procs"), String(pid));
	return dir;
}

async function main(): Promise<void> {
	await globalSetup();
	const store = await standIn(standInId);
	if ("unavailable" in store) throw new Error(store.unavailable);
	const agora = await startSystem("distributed", { mongoUri: store.mongoUri });
	const groups: string[] = [];
	try {
		const shop = await openShop(agora, { products: 100, customers: 40, stock: 1_000_000 });
		const ordersPod = (index: number) => {
			const pid = agora.running(["orders"])[index]?.process.pid;
			if (!pid) throw new Error(`no orders pod #${index}`);
			return pid;
		};
		groups.push(holdTo(ordersPod(0), `agora-bench-orders-${process.pid}-0`));
		const one = await orderPlacement(agora, "distributed", store, shop, { durationSeconds: seconds, connections: 16 });
		await agora.addNode(pod("orders"));
		groups.push(holdTo(ordersPod(1), `agora-bench-orders-${process.pid}-1`));
		const two = await orderPlacement(agora, "distributed", store, shop, { durationSeconds: seconds, connections: 16 });
		const figure = (rows: typeof one.rows) =>
			rows.map((row) => `${row.throughput?.toFixed(2)} orders/s, p50 ${row.p50Ms} ms (${row.note})`);
		process.stdout.write(
			`${JSON.stringify({ quotaPercent, seconds, store: store.name, oneOrdersPod: figure(one.rows), twoOrdersPods: figure(two.rows), costs: [one.costs, two.costs] })}\n`,
		);
	} finally {
		await agora.stop();
		// A cgroup can be removed once its processes are gone.
		for (const dir of groups) rmdirSync(dir);
	}
}

main().then(
	() => process.exit(0),
	(err: Error) => {
		process.stderr.write(`second-pod failed: ${err.stack ?? err.message}\n`);
		process.exit(1);
	},
);
