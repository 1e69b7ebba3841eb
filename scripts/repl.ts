/**
 * `npm run repl`: the operators' console (moleculer-repl with Agora's commands, lib/repl-commands.ts).
 *
 * With `TRANSPORTER` set it joins that cluster as a node of its own (`repl-<host>-<pid>`) that
 * hosts no services, so `call`, `nodes` and the custom commands reach the running pods. Without
 * it, it starts the embedded system, every service as `npm start` does, with the REPL on top.
 */

import { hostname } from "node:os";
import path from "node:path";
import { ServiceBroker } from "moleculer";
import { replCommands } from "../lib/repl-commands";
import { settings } from "../lib/settings";
import config from "../moleculer.config";

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

if (!joining) broker.loadServices(path.join(__dirname, "..", "services"), "*.service.ts");

broker.start().then(
	() => {
		process.stdout.write(
			joining
				? `Joined the cluster as ${broker.nodeID}. Type "help" for the commands, "nodes" for the pods.\n`
				: `Embedded Agora: every service runs in this process, the gateway on port ${settings().port}. Type "help" for the commands.\n`,
		);
		broker.repl();
	},
	(err: Error) => {
		process.stderr.write(`agora repl: ${err.message}\n`);
		process.exit(1);
	},
);
