/**
 * A Moleculer node for the action-call workload, in its own process:
 * - `callee '<CallNodeSpec>'` hosts `echo.echo` on a transporter and prints `{"port": 0}` once started;
 * - `caller '<CallNodeSpec>'` measures `echo.echo` calls (local, remote over the transporter, or a
 *   plain function for the baseline) and prints a CallResult.
 */
import { type BrokerOptions, ServiceBroker } from "moleculer";
import { percentile } from "./harness";

export interface CallNodeSpec {
	kind: "direct" | "local" | "remote";
	namespace?: string;
	nodeID?: string;
	transporter?: BrokerOptions["transporter"];
	durationSeconds?: number;
	concurrency?: number;
}

export interface CallResult {
	calls: number;
	callsPerSecond: number;
	p50Ms: number;
	p99Ms: number;
	peakRssMb: number;
}

const PAYLOAD = { orderId: "3f2c1f9e-0d7c-4d8e-9b0a-5f8e2c7d1a00", items: [{ productId: "p-1", quantity: 2 }] };

const echoService = { name: "echo", actions: { echo: (ctx: { params: unknown }) => ctx.params } };

/** The baseline of a local call: the same work as a plain async function. */
async function echo(params: unknown): Promise<unknown> {
	return params;
}

function broker(spec: CallNodeSpec): ServiceBroker {
	return new ServiceBroker({
		namespace: spec.namespace,
		nodeID: spec.nodeID,
		transporter: spec.transporter ?? null,
		logger: false,
		serializer: "JSON",
		requestTimeout: 10_000,
	});
}

async function measure(call: () => Promise<unknown>, spec: CallNodeSpec): Promise<CallResult> {
	for (let i = 0; i < 200; i++) await call();
	const latencies: number[] = [];
	const started = performance.now();
	const deadline = started + (spec.durationSeconds ?? 5) * 1000;
	await Promise.all(
		Array.from({ length: spec.concurrency ?? 1 }, async () => {
			while (performance.now() < deadline) {
				const t0 = performance.now();
				await call();
				latencies.push(performance.now() - t0);
			}
		}),
	);
	const elapsed = (performance.now() - started) / 1000;
	return {
		calls: latencies.length,
		callsPerSecond: latencies.length / elapsed,
		p50Ms: percentile(latencies, 50),
		p99Ms: percentile(latencies, 99),
		peakRssMb: process.resourceUsage().maxRSS / 1024,
	};
}

async function main(): Promise<void> {
	const [role, json] = process.argv.slice(2);
	const spec = JSON.parse(json ?? "{}") as CallNodeSpec;
	if (role === "callee") {
		const node = broker(spec);
		node.createService(echoService);
		await node.start();
		process.stdout.write(`${JSON.stringify({ port: 0 })}\n`);
		process.on("SIGTERM", () => node.stop().then(() => process.exit(0)));
		return;
	}
	if (spec.kind === "direct") {
		process.stdout.write(`${JSON.stringify(await measure(() => echo(PAYLOAD), spec))}\n`);
		return;
	}
	const node = broker(spec);
	if (spec.kind === "local") node.createService(echoService);
	await node.start();
	await node.waitForServices("echo", 60_000);
	const result = await measure(() => node.call("echo.echo", PAYLOAD), spec);
	await node.stop();
	process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((err: Error) => {
	process.stderr.write(`calls node: ${err.stack ?? err.message}\n`);
	process.exit(1);
});
