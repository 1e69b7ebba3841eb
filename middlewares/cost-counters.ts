/**
 * What one pod spends on its work, counted for `npm run bench` (its cost-per-order table): packets
 * through the Kafka transporter, messages on the durable channels, remote action calls and
 * database commands (the MongoDB driver's command monitoring). On only when `COST_COUNTERS_DIR` is
 * set: then SIGUSR2 makes the process write its counters to `<dir>/<pid>.json` at once, so the
 * bench can read a snapshot before and after a workload. CPU time the bench reads from /proc.
 */
import { subscribe, tracingChannel } from "node:diagnostics_channel";
import { writeFileSync } from "node:fs";
import path from "node:path";
import type { Middleware, ServiceBroker } from "moleculer";
import mongoose from "mongoose";
import { KAFKAJS_RECORD_FETCHES, KAFKAJS_REQUESTS } from "../lib/platform/kafka-channels";

export interface CostCounters {
	pid: number;
	services: string[];
	transporterSent: number;
	transporterReceived: number;
	/** Received packets by Moleculer packet type (REQ, RES, EVENT, HEARTBEAT...). */
	packetsByType: Record<string, number>;
	/** Calls this pod made that another pod handled. */
	remoteCalls: number;
	/** Remote calls by action name. */
	remoteCallsByAction: Record<string, number>;
	channelSent: number;
	channelReceived: number;
	dbCommands: number;
	/** Database commands by command name and collection (`insert orders`, `find stock-movements`...). */
	dbByCommand: Record<string, number>;
	/**
	 * Requests this pod sent to the Kafka broker, by client (`transporter`: Moleculer's, on
	 * @platformatic/kafka; `channels`: the durable events', on kafkajs) and Kafka API (Produce,
	 * Fetch, OffsetCommit, Heartbeat...).
	 */
	kafkaRequests: Record<string, number>;
	/**
	 * Fetches that brought records, of both clients: a fetch answers for all of a consumer's
	 * partitions at once, so a fetch with records for several partitions counts once.
	 */
	kafkaFetchesWithRecords: number;
}

function emptyCounters(): CostCounters {
	return {
		pid: process.pid,
		services: [],
		transporterSent: 0,
		transporterReceived: 0,
		packetsByType: {},
		remoteCalls: 0,
		remoteCallsByAction: {},
		channelSent: 0,
		channelReceived: 0,
		dbCommands: 0,
		dbByCommand: {},
		kafkaRequests: {},
		kafkaFetchesWithRecords: 0,
	};
}

const bump = (counts: Record<string, number>, key: string) => {
	counts[key] = (counts[key] ?? 0) + 1;
};

type SendToChannel = (channel: string, payload: unknown, opts?: unknown) => Promise<void>;
type Send = (topic: string, data: Buffer, meta: Record<string, unknown>) => Promise<void>;
type Receive = (cmd: string, data: Buffer, socket?: unknown) => Promise<void> | void;
type Handler = (...args: unknown[]) => Promise<unknown>;

/**
 * The hooks used here as Moleculer calls them. Its typings declare the transporter hooks as
 * returning a promise instead of the wrapped function, so they cannot describe this middleware.
 */
interface CountingMiddleware {
	name: string;
	transporterSend(next: Send): Send;
	transporterReceive(next: Receive): Receive;
	remoteAction(next: Handler, action: { name: string }): Handler;
	localChannel(next: Handler): Handler;
	sendToChannel(next: SendToChannel): SendToChannel;
	started(broker: ServiceBroker): Promise<void>;
}

/** Kafka's API keys of the requests that matter here; the others count as `other`. */
const KAFKA_APIS: Record<number, string> = {
	0: "Produce",
	1: "Fetch",
	8: "OffsetCommit",
	12: "Heartbeat",
	3: "Metadata",
	9: "OffsetFetch",
};

/** A fetch answer of @platformatic/kafka, as its diagnostics hand it over. */
interface FetchAnswer {
	responses?: { partitions: { records: unknown[] | null }[] }[];
}

/** Counts the requests of both Kafka clients of this process (see `CostCounters.kafkaRequests`). */
function countKafkaRequests(counters: CostCounters): void {
	tracingChannel<string, { apiKey: number; result?: FetchAnswer }>("plt:kafka:connections:api").subscribe({
		start({ apiKey }) {
			bump(counters.kafkaRequests, `transporter ${KAFKA_APIS[apiKey] ?? "other"}`);
		},
		asyncStart({ apiKey, result }) {
			if (apiKey === 1 && result?.responses?.some((topic) => topic.partitions.some((partition) => partition.records?.length)))
				counters.kafkaFetchesWithRecords++;
		},
		end() {},
		asyncEnd() {},
		error() {},
	});
	subscribe(KAFKAJS_REQUESTS.name, (apiName) => bump(counters.kafkaRequests, `channels ${apiName}`));
	subscribe(KAFKAJS_RECORD_FETCHES.name, () => {
		counters.kafkaFetchesWithRecords++;
	});
}

/** The middleware that counts; `moleculer.config.ts` adds it when COST_COUNTERS_DIR is set. */
export function costCountersMiddleware(dir: string): Middleware {
	const counters = emptyCounters();
	countKafkaRequests(counters);
	const write = () => writeFileSync(path.join(dir, `${process.pid}.json`), JSON.stringify(counters));
	process.on("SIGUSR2", write);

	const middleware: CountingMiddleware = {
		name: "CostCounters",
		transporterSend(next) {
			return (topic, data, meta) => {
				counters.transporterSent++;
				return next(topic, data, meta);
			};
		},
		transporterReceive(next) {
			return (cmd, data, socket) => {
				counters.transporterReceived++;
				bump(counters.packetsByType, cmd);
				return next(cmd, data, socket);
			};
		},
		remoteAction(next, action) {
			return (...args) => {
				counters.remoteCalls++;
				bump(counters.remoteCallsByAction, action.name);
				return next(...args);
			};
		},
		// The channels middleware's hook around every durable message this pod handles.
		localChannel(next) {
			return (...args) => {
				counters.channelReceived++;
				return next(...args);
			};
		},
		// The channels middleware wraps its send method with this hook.
		sendToChannel(next) {
			return (channel, payload, opts) => {
				counters.channelSent++;
				return next(channel, payload, opts);
			};
		},
		async started(broker) {
			counters.services = broker.services.map((service) => service.fullName);
			// The mongoose adapter connects the process-wide connection before the services start.
			if (mongoose.connection.readyState === 1)
				mongoose.connection
					.getClient()
					.on("commandStarted", ({ commandName, command }: { commandName: string; command: Record<string, unknown> }) => {
						counters.dbCommands++;
						// A command names its collection as its own value (`{insert: "orders", ...}`).
						const collection = command[commandName];
						bump(counters.dbByCommand, typeof collection === "string" ? `${commandName} ${collection}` : commandName);
					});
			write();
		},
	};
	return middleware as unknown as Middleware;
}
