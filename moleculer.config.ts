import path from "node:path";
import { Middleware as ChannelsMiddleware } from "@moleculer/channels";
import { Partitioners } from "kafkajs";
import type { BrokerOptions } from "moleculer";
import { DOMAIN_EVENTS } from "./lib/contracts/events";
import { PUSH_CHANNEL } from "./lib/contracts/realtime";
import { DEAD_LETTER_TOPIC, topicName } from "./lib/platform/dead-letters";
import "./lib/platform/kafka-channels";
import { ResilientKafkaTransporter, transporterOptions } from "./lib/platform/kafka-transporter";
import { startProbeServer } from "./lib/platform/probes";
import { jsonLogFormatter } from "./lib/platform/request-context";
import { serviceFile, serviceNames } from "./lib/platform/service-files";
import { ConfigError, type Settings, settings } from "./lib/platform/settings";
import { ShopValidator } from "./lib/platform/validator";
import { costCountersMiddleware } from "./middlewares/cost-counters";
import { kafkaTopicsMiddleware } from "./middlewares/kafka-topics";
import { requestContextMiddleware } from "./middlewares/request-context";

const SERVICES_DIR = path.join(__dirname, "services");

/** One clear line instead of a stack trace, then out: nothing half-started. */
function fail(message: string): never {
	process.stderr.write(`agora: ${message}\n`);
	process.exit(1);
}

function loadSettings(): Settings {
	try {
		return settings();
	} catch (err) {
		if (err instanceof ConfigError) fail(err.message);
		throw err;
	}
}

/**
 * Operators pick a pod's services by name (`SERVICES=orders,payments`); moleculer-runner only
 * expands bare names to `.service.js` files at the top of the folder, so map them to our files here, and
 * refuse a name that has no service file instead of starting a pod that serves nothing.
 */
function resolveServiceNames(): void {
	const names = process.env.SERVICES;
	if (!names || names.includes(".service.")) return;
	const files = names
		.split(",")
		.map((name) => name.trim())
		.filter(Boolean)
		.map((name) => {
			const file = serviceFile(SERVICES_DIR, name);
			if (!file)
				fail(`SERVICES names "${name}", but there is no service of that name under services/ (${serviceNames(SERVICES_DIR).join(", ")})`);
			return file;
		});
	process.env.SERVICES = files.join(",");
}

type ChannelsAdapter = Parameters<typeof ChannelsMiddleware>[0]["adapter"];

/** The durable events' adapter: Kafka in the distributed mode, in-process in the embedded one. */
function channelsAdapter(config: Settings): ChannelsAdapter {
	// Cast because the channels typings mark every adapter default (consumer name, serializer...) as required.
	return (config.channelsBrokers
		? {
				type: "AgoraKafka",
				options: {
					kafka: {
						brokers: config.channelsBrokers,
						producerOptions: { createPartitioner: Partitioners.DefaultPartitioner },
						// The partitions a crashed pod consumed wait until its group session times out; with
						// kafkajs's 30 s, a crashed orders pod left the payments of its half of the orders
						// unsettled (their stock held) for over 30 s. A clean stop leaves the group at once.
						consumerOptions: { sessionTimeout: 10_000, heartbeatInterval: 2_000 },
					},
					prefix: config.topicPrefix,
					maxRetries: 3,
					// Without this the Kafka adapter silently drops a message after its last retry.
					deadLettering: { enabled: true, queueName: DEAD_LETTER_TOPIC },
				},
			}
		: { type: "Fake", options: { prefix: config.topicPrefix } }) as unknown as ChannelsAdapter;
}

/**
 * The console tracing exporter prints each request's span tree through a logger at info level;
 * asking for it means wanting to see it whatever LOGLEVEL says, so it writes to stdout directly.
 */
const printSpans = (...parts: unknown[]) => process.stdout.write(`${parts.join(" ")}\n`);
const spanPrinter = { fatal: printSpans, error: printSpans, warn: printSpans, info: printSpans, debug: printSpans, trace: printSpans };

/**
 * The broker of this process, from its settings (read at start: moleculer-runner calls this; tests
 * call it after `useSettings`).
 */
function brokerOptions(): BrokerOptions {
	const config = loadSettings();
	resolveServiceNames();
	const withPrefix = (topic: string) => topicName(config.topicPrefix, topic);
	// moleculer-runner overwrites every option named like an environment variable with that variable's
	// raw value, and TRANSPORTER is ours: it would replace this transporter with a plain
	// KafkaTransporter. So the option ignores assignments.
	const transporter = config.transporterBrokers ? new ResilientKafkaTransporter(transporterOptions(config.transporterBrokers)) : null;
	const options: BrokerOptions = {
		namespace: config.namespace,
		nodeID: config.nodeId,
		logger: {
			type: "Console",
			options: {
				// Log collectors parse JSON; people at a terminal read the short form.
				formatter: config.mode === "distributed" ? jsonLogFormatter : "short",
				colors: config.mode === "embedded",
				moduleColors: false,
			},
		},
		// The channels adapter writes an info line for every message it handles: a cost per event, not news.
		logLevel: { CHANNELS: config.logLevel === "info" ? "warn" : config.logLevel, "**": config.logLevel },
		serializer: "JSON",
		requestTimeout: 10_000,
		// A pod that vanishes without a goodbye (SIGKILL, OOM, lost host) is dropped within 3 beats, before
		// the request timeout: calls routed to it meanwhile are rejected then, and no new ones go its way.
		heartbeatInterval: 2,
		heartbeatTimeout: 6,
		retryPolicy: { enabled: false },
		cacher: "Memory",
		// String lengths in characters, as the OpenAPI document states them.
		validator: new ShopValidator(),
		// Lets a stopping node finish the requests it has accepted before it leaves.
		tracking: { enabled: true, shutdownTimeout: 10_000 },
		// A stopping node first tells the cluster it hosts nothing, then waits `stopDelay` before its
		// services stop. Moleculer's 100 ms is too short for that news to cross Kafka: callers kept
		// routing to a draining pod, and those calls failed.
		registry: { strategy: "RoundRobin", preferLocal: true, stopDelay: config.transporterBrokers ? 3_000 : 100 },
		circuitBreaker: { enabled: false },
		// The embedded mode's in-process channel adapter runs each channel's handler one at a time
		// through an event bulkhead; with Moleculer's default queue of 100, a burst of orders would drop
		// the 101st `order.created` and leave its order pending. No queue limit: a durable event waits
		// its turn instead. (The bulkhead stays off elsewhere.)
		bulkhead: { enabled: false, concurrency: 10, maxQueueSize: 0 },
		// Prometheus scrapes each node on its own port (k8s/ annotations); off unless METRICS_PORT is set.
		metrics: config.metricsPort
			? {
					enabled: true,
					reporter: { type: "Prometheus", options: { host: config.host, port: config.metricsPort, path: "/metrics" } },
				}
			: { enabled: false },
		// A span's trace id is the request id, so a trace and the request's log lines share one key.
		tracing:
			config.tracing === "off"
				? { enabled: false }
				: {
						enabled: true,
						exporter:
							config.tracing === "console"
								? { type: "Console", options: { colors: config.mode === "embedded", logger: spanPrinter } }
								: { type: "Event" },
					},
		// Pods without the gateway answer Kubernetes / Compose probes on PROBE_PORT (k8s/, docker-compose.yml).
		async started(broker) {
			// Seeding publishes product.created, so it waits for the channel adapter, which connects
			// after the services have started (a products service cannot seed in its own `started`).
			if (config.seedDemo && broker.getLocalService("products")) await broker.call("products.seedDemo");
			if (config.probePort) await startProbeServer(broker, config.probePort, { host: config.host });
		},
		middlewares: [
			requestContextMiddleware,
			...(config.costCountersDir ? [costCountersMiddleware(config.costCountersDir)] : []),
			...(config.channelsBrokers
				? [
						kafkaTopicsMiddleware(
							config.channelsBrokers,
							[...DOMAIN_EVENTS, PUSH_CHANNEL, DEAD_LETTER_TOPIC].map(withPrefix),
							config.topicPartitions,
						),
					]
				: []),
			ChannelsMiddleware({
				adapter: channelsAdapter(config),
				schemaProperty: "channels",
				sendMethodName: "sendToChannel",
				adapterPropertyName: "channelAdapter",
				channelHandlerTrigger: "emitLocalChannelHandler",
				// Handlers get a Context, so calls they make carry the request's metadata and tracing.
				context: true,
			}),
		],
	};

	Object.defineProperty(options, "transporter", { enumerable: true, get: () => transporter, set: () => undefined });
	return options;
}

export = brokerOptions;
