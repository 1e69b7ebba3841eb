/**
 * `npm run repl`: the operators' console (moleculer-repl with Agora's commands, lib/operator/repl-commands.ts).
 *
 * With `TRANSPORTER` set it joins that cluster as a node of its own (`repl-<host>-<pid>`) that
 * hosts no services, so `call`, `nodes` and the custom commands reach the running pods. Without
 * it, it starts the embedded system, every service as `npm start` does, with the REPL on top.
 */

import { hostname } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { ServiceBroker } from "moleculer";
import { replCommands } from "../lib/operator/repl-commands";
import { SERVICE_MASK } from "../lib/platform/service-files";
import { settings } from "../lib/platform/settings";
import brokerOptions from "../moleculer.config";

const config = brokerOptions();
const { mode, logLevel } = settings();
const joining = mode === "distributed";

const broker = new ServiceBroker({
	...config,
	// A pod's own settings may be in this shell (`kubectl exec`): never take its node id, nor bind
	// its probe (the config's `started` hook) or metrics port.
	nodeID: joining ? `repl-${hostname()}-${process.pid}` : config.nodeID,
	started: undefined,
	metrics: { enabled: false },
	// Log lines would tear the tables apart: only warnings and errors, unless LOGLEVEL asks for more.
	logLevel: process.env.LOGLEVEL ? logLevel : "warn",
	logger: { type: "Console", options: { formatter: "short", colors: true, moduleColors: false } },
	replOptions: { delimiter: "agora $", customCommands: replCommands(settings()) },
});

if (!joining) broker.loadServices(path.join(__dirname, "..", "services"), SERVICE_MASK);

const DISCOVERY_WAIT_MS = 15_000;

/**
 * Until the other nodes have answered the transporter's discovery, the REPL knows no services;
 * wait for them (briefly) so the first command finds the cluster, and say so if none answers.
 */
async function otherNodes(): Promise<number> {
	const deadline = Date.now() + DISCOVERY_WAIT_MS;
	const count = () => broker.registry.nodes.list({ onlyAvailable: true, withServices: false }).filter((node) => !node.local).length;
	while (count() === 0 && Date.now() < deadline) await sleep(250);
	return count();
}

async function start(): Promise<string> {
	await broker.start();
	if (!joining) return `Embedded Agora: every service runs in this process, the gateway on port ${settings().port}.`;
	const others = await otherNodes();
	return others > 0
		? `Joined the cluster as ${broker.nodeID}, with ${others} other node(s); "nodes" lists them.`
		: `Joined as ${broker.nodeID}, but no other node answered within ${DISCOVERY_WAIT_MS / 1000} s: check TRANSPORTER and NAMESPACE.`;
}

start().then(
	(greeting) => {
		process.stdout.write(`${greeting} Type "help" for the commands.\n`);
		broker.repl();
	},
	(err: Error) => {
		process.stderr.write(`agora repl: ${err.message}\n`);
		process.exit(1);
	},
);
