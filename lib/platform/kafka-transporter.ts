import { setTimeout as sleep } from "node:timers/promises";
import { Errors, Transporters } from "moleculer";

type SubscriptionTopics = Parameters<Transporters.Kafka["makeSubscriptions"]>[0];

interface ClosableConsumer {
	close(): Promise<void>;
}

/** The base class's Kafka clients for this node's own topics (untyped in Moleculer's typings). */
interface ConsumerClients {
	consumer: ClosableConsumer | null;
	consumerStream: (ClosableConsumer & NodeJS.EventEmitter) | null;
}

/**
 * The transporter's Kafka settings, shared by the pods and the bench's call workload. The consumer
 * keeps @platformatic/kafka's fetch wait (5,000 ms, minBytes 1: a fetch returns as soon as a packet
 * arrives). A 10 ms wait saved about a millisecond per call in issue 13's two-process probe, but
 * with six pods each then polls Kafka 100 times a second while idle: measured at twice the idle CPU
 * per pod and five times Kafka's, and fewer orders per second on 2 cores (docs/benchmarks.md).
 */
export function transporterOptions(bootstrapBrokers: string[]) {
	return { bootstrapBrokers };
}

const PROBE_INTERVAL_MS = 1_000;
const CLOSE_TIMEOUT_MS = 5_000;

/** Closes a Kafka client that may hang or fail on a broker that went away; it is dropped either way. */
async function closeQuietly(client: ClosableConsumer | null): Promise<void> {
	if (!client) return;
	await Promise.race([client.close().catch(() => undefined), sleep(CLOSE_TIMEOUT_MS)]);
}

/**
 * Moleculer 0.15's Kafka transporter does not survive a broker outage: its consumer stream stops
 * (with "fetch failed", or silently) and is never restarted, so a node keeps sending but never
 * hears from the cluster again until it is restarted. This one notices the outage (a publish
 * fails: heartbeats go out every few seconds), waits until the broker answers again, rebuilds
 * the consumer on the same topics and announces the node again, as after a reconnect.
 */
export class ResilientKafkaTransporter extends Transporters.Kafka {
	private topics: SubscriptionTopics = [];
	private recovering: Promise<void> | null = null;
	private rejoins = 0;

	override async makeSubscriptions(topics: SubscriptionTopics): Promise<void> {
		this.topics = topics;
		await super.makeSubscriptions(topics);
		this.watchConsumer();
	}

	override async send(topic: string, data: Buffer, meta: Record<string, unknown>): Promise<void> {
		try {
			await super.send(topic, data, meta);
		} catch (err) {
			this.brokerLost();
			// Kafka's own error (an AggregateError "Producing messages failed") would reach the caller
			// as a 500; this is an outage, which callers may retry (and the gateway answers 503).
			this.logger.debug(`Kafka did not take a packet for ${topic}:`, (err as Error).message);
			throw new Errors.MoleculerRetryableError("The Kafka broker did not take the packet", 502, "BAD_GATEWAY");
		}
	}

	private get clients(): ConsumerClients {
		return this as unknown as ConsumerClients;
	}

	private watchConsumer(): void {
		this.clients.consumerStream?.on("error", () => this.brokerLost());
	}

	private brokerLost(): void {
		if (this.recovering || !this.admin) return;
		this.logger.warn("Lost the Kafka broker; rejoining the cluster when it is back.");
		this.recovering = this.recover().finally(() => {
			this.recovering = null;
		});
	}

	private async recover(): Promise<void> {
		for (;;) {
			await sleep(PROBE_INTERVAL_MS);
			if (!this.admin) return; // the node is shutting down
			try {
				await this.admin.listTopics();
				await closeQuietly(this.clients.consumerStream);
				await closeQuietly(this.clients.consumer);
				this.clients.consumerStream = null;
				this.clients.consumer = null;
				// A new consumer group: the broker would hold the old one's partitions until the lost
				// member's session expired. The group only carries live packets, so no offsets are lost.
				this.opts.consumer = { ...this.opts.consumer, groupId: `${this.broker.instanceID}-${++this.rejoins}` };
				await super.makeSubscriptions(this.topics);
				this.watchConsumer();
				await this.transit.afterConnect(true);
				this.logger.info("The Kafka broker is back: consumer rebuilt and this node announced again.");
				return;
			} catch (err) {
				this.logger.debug("Kafka broker still unreachable:", (err as Error).message);
			}
		}
	}
}
