/**
 * Workload 4: what a Moleculer action call costs. A local `broker.call` against the same work as a
 * plain function, and a remote call over the Kafka transporter against Moleculer's TCP
 * transporter, each between two real processes. Every measurement runs in a fresh caller process.
 */

import { randomBytes } from "node:crypto";
import { transporterOptions } from "../lib/platform/kafka-transporter";
import { freePort } from "../test/support/agora";
import type { CallNodeSpec, CallResult } from "./calls-node";

type TransporterOption = CallNodeSpec["transporter"];

import { measured, type Row, runBenchProgram, startBenchServer } from "./harness";

export interface CallSettings {
	durationSeconds: number;
	concurrency: number;
}

function caller(spec: CallNodeSpec): Promise<CallResult> {
	return runBenchProgram<CallResult>("calls-node.ts", ["caller", JSON.stringify(spec)]);
}

/** A remote call: a callee process hosts `echo`, a caller process calls it over `transporter`. */
async function remote(
	namespace: string,
	transporters: { callee: TransporterOption; caller: TransporterOption },
	settings: CallSettings,
): Promise<{ result: CallResult; peakRssMb: number }> {
	const callee = await startBenchServer("calls-node.ts", [
		"callee",
		JSON.stringify({ kind: "remote", namespace, nodeID: "bench-callee", transporter: transporters.callee } satisfies CallNodeSpec),
	]);
	try {
		return await measured([callee.pid], () =>
			caller({ kind: "remote", namespace, nodeID: "bench-caller", transporter: transporters.caller, ...settings }),
		);
	} finally {
		await callee.stop();
	}
}

export async function actionCallCost(settings: CallSettings): Promise<Row[]> {
	const direct = await caller({ kind: "direct", ...settings });
	const local = await caller({ kind: "local", ...settings });

	const runId = randomBytes(4).toString("hex");
	// The pods' own transporter settings (lib/platform/kafka-transporter.ts), so this measures what they get.
	const kafka: TransporterOption = { type: "Kafka", options: transporterOptions([process.env.KAFKA_BROKERS ?? "127.0.0.1:9092"]) };
	const overKafka = await remote(`bench-kafka-${runId}`, { callee: kafka, caller: kafka }, settings);

	// Static peers: no UDP discovery, which would reach other clusters on the machine.
	const [calleePort, callerPort] = [await freePort(), await freePort()];
	const urls = `127.0.0.1:${calleePort}/bench-callee,127.0.0.1:${callerPort}/bench-caller`;
	const tcp = (port: number): TransporterOption => ({ type: "TCP", options: { udpDiscovery: false, useHostname: false, port, urls } });
	const overTcp = await remote(`bench-tcp-${runId}`, { callee: tcp(calleePort), caller: tcp(callerPort) }, settings);

	const row = (subject: string, result: CallResult, peakRssMb: number, baseline: CallResult, baselineName: string): Row => ({
		workload: "4 action call",
		mode: "-",
		subject: `${subject} (${settings.concurrency} in flight)`,
		throughput: result.callsPerSecond,
		unit: "calls/s",
		p50Ms: result.p50Ms,
		p99Ms: result.p99Ms,
		peakRssMb,
		baseline: `${baselineName}: ${baseline.callsPerSecond.toFixed(0)} calls/s, p99 ${baseline.p99Ms.toFixed(3)} ms`,
		ratio: result.callsPerSecond / baseline.callsPerSecond,
	});
	return [
		row("broker.call, local", local, local.peakRssMb, direct, "plain async function"),
		row("broker.call, remote over Kafka", overKafka.result, overKafka.peakRssMb, overTcp.result, "remote over TCP transporter"),
		{
			...row("broker.call, remote over TCP", overTcp.result, overTcp.peakRssMb, local, "local broker.call"),
			note: "peak RSS: the callee process",
		},
	];
}
