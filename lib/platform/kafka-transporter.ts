import { setTimeout as sleep } from "node:timers/promises";
import { Errors, Transporters } from "moleculer";

type SubscriptionTopics = Parameters<Transporters.Kafka["makeSubscriptions"]>[0];

interface ClosableConsumer {
	close(): Promise<void>;
}

/** The base class's Kafka clients (untyped in Moleculer's typings). */
interface KafkaClients {
	consumer: ClosableConsumer | null;
	consumerStream: (ClosableConsumer & NodeJS.EventEmitter) | null;
	producer: { send(options: { messages: { topic: string; value: Buffer; partition: number }[] }): Promise<unknown> } | null;
}

/** What this class uses of the base class's options and methods (untyped in Moleculer's typings). */
interface TransporterOptions {
	clientId: string;
	bootstrapBrokers: string[];
	consumer: Record<string, unknown>;
}
interface TopicMaking {
	admin: { listTopics(): Promise<string[]>; createTopics(options: { topics: string[] }): Promise<unknown> };
	waitForTopicsReady(topics: string[]): Promise<void>;
}

/** A packet waiting for the produce request in flight to end. */
interface QueuedPacket {
	message: { topic: string; value: Buffer; partition: number };
	done: (err?: unknown) => void;
}

/**
 * The transporter's Kafka settings, shared by the pods and the bench's call workload. The consumer
 * keeps @platformatic/kafka's fetch wait (5,000 ms, minBytes 1: a fetch returns as soon as a packet
 * arrives). A 10 ms wait saves about a millisecond per call between two processes, but makes every
 * pod poll Kafka 100 times a second while idle: twice the idle CPU per pod and five times Kafka's,
 * and fewer orders per second on 2 cores (docs/benchmarks.md).
 */
export function transporterOptions(bootstrapBrokers: string[]) {
	// Each node's group has one member (itself) and carries live packets only, so its heartbeat
	// serves nobody but the group's own bookkeeping: every 10 s instead of every 3 s.
	return { bootstrapBrokers, consumer: { heartbeatInterval: 10_000, sessionTimeout: 30_000 } };
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
	/** Packets sent while a produce request is in flight: they go together in the next one. */
	private queued: QueuedPacket[] = [];
	private producing = false;

	/**
	 * Subscribes like the base class, but without its commit after every fetch: a node's group
	 * exists only while the node runs and is never read from an offset, so those commits cost a
	 * broker request per fetch for nothing.
	 */
	override async makeSubscriptions(topics: SubscriptionTopics): Promise<void> {
		this.topics = topics;
		const names = topics.map(({ cmd, nodeID }) => this.getTopicName(cmd, nodeID));
		const base = this as unknown as TopicMaking;
		const existing = new Set(await base.admin.listTopics());
		const missing = names.filter((name) => !existing.has(name));
		// Another node may create the same topics at the same moment; whoever made them, they are waited for below.
		if (missing.length > 0) await base.admin.createTopics({ topics: missing }).catch(() => undefined);
		await base.waitForTopicsReady(names);
		const { clientId, bootstrapBrokers, consumer: options } = this.opts as TransporterOptions;
		// Loaded when used, as the base class loads it: the package is an ES module, and only Kafka nodes need it.
		const { Consumer } = await import("@platformatic/kafka");
		const consumer = new Consumer({ clientId, bootstrapBrokers, groupId: this.broker.instanceID, ...options });
		this.clients.consumer = consumer;
		const stream = await consumer.consume({ topics: names, autocommit: false });
		this.clients.consumerStream = stream;
		stream.on("data", (message: { topic: string; value: Buffer }) => {
			void this.receive(message.topic.split(".")[1] as string, message.value);
		});
		stream.on("error", (err: Error) => this.logger.error("Kafka Consumer stream error", err.message));
		this.watchConsumer();
	}

	/**
	 * Sends a packet in the next produce request: at once when none is in flight, else together
	 * with every packet queued meanwhile, so a burst of calls costs a request per round trip, not
	 * one per packet. All packets go to partition 0 of their topic (as the base class sends them).
	 */
	override async send(topic: string, data: Buffer, { packet }: { packet: { type: string; target?: string | null } }): Promise<void> {
		if (!this.clients.producer) return;
		const message = { topic: this.getTopicName(packet.type, packet.target ?? undefined), value: data, partition: 0 };
		try {
			await new Promise<void>((resolve, reject) => {
				this.queued.push({ message, done: (err) => (err ? reject(err) : resolve()) });
				if (!this.producing) void this.produce();
			});
		} catch (err) {
			this.brokerLost();
			// Kafka's own error (an AggregateError "Producing messages failed") would reach the caller
			// as a 500; this is an outage, which callers may retry (and the gateway answers 503).
			this.logger.debug(`Kafka did not take a packet for ${topic}:`, (err as Error).message);
			throw new Errors.MoleculerRetryableError("The Kafka broker did not take the packet", 502, "BAD_GATEWAY");
		}
	}

	/** Sends what is queued, one request at a time, until the queue is empty. */
	private async produce(): Promise<void> {
		this.producing = true;
		while (this.queued.length > 0) {
			const batch = this.queued;
			this.queued = [];
			try {
				if (!this.clients.producer) throw new Error("the transporter is disconnecting");
				await this.clients.producer.send({ messages: batch.map((entry) => entry.message) });
				for (const entry of batch) entry.done();
			} catch (err) {
				for (const entry of batch) entry.done(err);
			}
		}
		this.producing = false;
	}

	/** It lost the broker and has not rejoined yet: the node's readiness says so (lib/platform/probes.ts). */
	get brokerAway(): boolean {
		return this.recovering !== null;
	}

	private get clients(): KafkaClients {
		return this as unknown as KafkaClients;
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
				await this.makeSubscriptions(this.topics);
				await this.transit.afterConnect(true);
				this.logger.info("The Kafka broker is back: consumer rebuilt and this node announced again.");
				return;
			} catch (err) {
				this.logger.debug("Kafka broker still unreachable:", (err as Error).message);
			}
		}
	}
}
