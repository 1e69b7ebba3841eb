/**
 * The load generator, run as its own process so that it never shares a CPU queue with the
 * bench's bookkeeping: `node --import tsx bench/load-generator.ts <plan.json>`. It fires the
 * plan's requests with autocannon and prints one JSON line: a LoadResult.
 */
import { readFileSync } from "node:fs";
import autocannon from "autocannon";
import type { LoadPlan, LoadResult } from "./harness";

async function main(): Promise<void> {
	const file = process.argv[2];
	if (!file) throw new Error("usage: load-generator.ts <plan.json>");
	const plan = JSON.parse(readFileSync(file, "utf8")) as LoadPlan;
	// One shared cursor over the pool: every connection takes the next request, so a pool of
	// distinct URLs or bodies is spread over the run instead of each connection repeating it.
	let next = 0;
	const result = await autocannon({
		url: plan.url,
		connections: plan.connections,
		duration: plan.durationSeconds,
		...(plan.maxRequests ? { maxOverallRequests: plan.maxRequests } : {}),
		...(plan.overallRate ? { overallRate: plan.overallRate } : {}),
		timeout: 30,
		requests: [
			{
				setupRequest: (request: autocannon.Request) => {
					const picked = plan.pool[next++ % plan.pool.length];
					return { ...request, ...picked, headers: { ...request.headers, ...picked?.headers } };
				},
			},
		],
	});
	const statusCounts: Record<string, number> = {};
	for (const [status, { count }] of Object.entries(result.statusCodeStats ?? {})) statusCounts[status] = Number(count);
	const ok = Object.entries(statusCounts)
		.filter(([status]) => status.startsWith("2"))
		.reduce((sum, [, count]) => sum + count, 0);
	const answer: LoadResult = {
		requests: result.requests.total,
		ok,
		okPerSecond: ok / result.duration,
		durationSeconds: result.duration,
		p50Ms: result.latency.p50,
		p99Ms: result.latency.p99,
		errors: result.errors,
		statusCounts,
	};
	process.stdout.write(`${JSON.stringify(answer)}\n`);
}

main().catch((err: Error) => {
	process.stderr.write(`load generator: ${err.stack ?? err.message}\n`);
	process.exit(1);
});
