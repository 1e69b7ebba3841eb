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
 * The transporter's Kafka settings. Its packets are short-lived requests, answers and heartbeats,
 * and a caller waits for each one. The consumer's fetch long-poll (@platformatic/kafka: up to
 * 5,000 ms) is cut short so a node is back asking for packets within a few milliseconds after each
 * fetch; measured with `npm run bench` (workload 4 and the order placement's remote calls).
 */
export function transporterOptions(bootstrapBrokers: string[]) {
	return { bootstrapBrokers, consumer: { maxWaitTime: CONSUMER_MAX_WAIT_MS } };
}

const CONSUMER_MAX_WAIT_MS = Number(process.env.KAFKA_TRANSPORTER_MAX_WAIT_MS ?? 10);

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
