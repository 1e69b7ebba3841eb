import { channel } from "node:diagnostics_channel";
import { setTimeout as sleep } from "node:timers/promises";
import { Adapters } from "@moleculer/channels";
import type { Admin, Consumer, ConsumerConfig, EachBatchPayload, KafkaMessage, Message } from "kafkajs";
import type { ChannelKafkaOptions } from "../../types/moleculer";

/**
 * Where the channels' Kafka clients (kafkajs) tell each request they send to the broker, by API
 * name, and each fetch that brought records: what `npm run bench` counts as broker requests
 * (middlewares/cost-counters.ts). The transporter's client (@platformatic/kafka) reports the same
 * on its own diagnostics channels.
 */
export const KAFKAJS_REQUESTS = channel("agora:kafkajs:request");
export const KAFKAJS_RECORD_FETCHES = channel("agora:kafkajs:record-fetch");

const reportRequest = ({ payload }: { payload: { apiName: string } }) => {
	if (KAFKAJS_REQUESTS.hasSubscribers) KAFKAJS_REQUESTS.publish(payload.apiName);
};

type KafkaAdapter = InstanceType<typeof Adapters.Kafka>;
type Channel = Parameters<KafkaAdapter["subscribe"]>[0] & { unsubscribing?: boolean };

/** A channel's own Kafka settings (middlewares/kafka-topics.ts); the adapter's typings take them for a client config. */
const kafkaOf = (chan: Channel) => chan.kafka as unknown as ChannelKafkaOptions | undefined;

/** One consumer group of this node: every channel a service reads, on one kafkajs consumer. */
interface Group {
	name: string;
	consumer: Consumer | null;
	/** The group's channels by topic. */
	channels: Map<string, Channel>;
	/** The next offset to commit, per `topic:partition`: every message before it has been handled. */
	toCommit: Map<string, { topic: string; partition: number; offset: string }>;
	/** The consumer is being (re)started on the group's topics. */
	starting: Promise<void> | null;
	/** The group is this process's alone (`perProcess`): placed at its topics' ends once, deleted when it leaves. */
	perProcess: boolean;
	/** Its offsets have been placed at the topics' ends (a `perProcess` group, once). */
	placed: boolean;
}

/** Offsets of handled messages are committed this often, not after every message. */
const COMMIT_INTERVAL_MS = 1_000;
/** Keys of one batch handled at once; each key's messages still one after another. */
const KEYS_AT_ONCE = 32;
/**
 * A domain event waits this long for others to share its produce request: a placement announces
 * its order and each line's stock level within a few milliseconds, and nobody waits for the send.
 */
const LINGER_MS = 5;
/** How long a failed consumer start waits before it tries again. */
const RESTART_DELAY_MS = 2_000;

/**
 * The channels' Kafka adapter, made cheaper per message without giving up at-least-once:
 *
 * - **One consumer per group** (a service's channels on a node), subscribed to all its topics,
 *   instead of one per channel: a node's heartbeats and fetches drop with its channel count.
 * - **Batches, in parallel by key**: a partition's batch is handled with its keys concurrently and
 *   each key's messages in order (the key is the entity: one order's events stay in order), so a
 *   handler that waits does not hold up other entities of its partition.
 * - **Commits coalesced**: a batch's offset is committed once every message before it has been
 *   handled, on a timer, when the group rebalances and before the consumer leaves; a crash in
 *   between redelivers those messages, which handlers recognise (they are idempotent).
 * - **Produces coalesced**: messages published within a few milliseconds of each other, or while a
 *   produce request is in flight, go together in the next one.
 *
 * - **Groups of one process** (`perProcess`): a channel every process reads in full (the gateways'
 *   pushes) gets a group per process, which starts where its topics end when the process starts and
 *   is deleted when it leaves.
 *
 * Retries and dead-lettering stay the base adapter's (`processMessage`).
 */
export class AgoraKafkaAdapter extends Adapters.Kafka {
	private readonly groups = new Map<string, Group>();
	private commitTimer: NodeJS.Timeout | null = null;
	private queued: { message: Message & { topic: string }; done: (err?: unknown) => void }[] = [];
	private producing = false;

	override async tryConnect(): Promise<void> {
		await super.tryConnect();
		this.producer.on(this.producer.events.REQUEST, reportRequest);
		this.commitTimer = setInterval(() => void this.commitAll(), COMMIT_INTERVAL_MS);
		this.commitTimer.unref();
	}

	/** Joins the channel to its group's consumer, which starts (or restarts with the new topic) once the current step is done. */
	override async subscribe(chan: Channel): Promise<void> {
		if (chan.maxRetries == null) chan.maxRetries = this.opts.maxRetries;
		chan.deadLettering = { ...this.opts.deadLettering, ...chan.deadLettering };
		if (chan.deadLettering?.enabled) chan.deadLettering.queueName = this.addPrefixTopic(chan.deadLettering.queueName as string);
		const perProcess = kafkaOf(chan)?.perProcess === true;
		if (perProcess) chan.group = `${chan.group}.${this.broker.instanceID}`;
		const groupName = chan.group as string;
		const group = this.groups.get(groupName) ?? {
			name: groupName,
			consumer: null,
			channels: new Map(),
			toCommit: new Map(),
			starting: null,
			perProcess,
			placed: false,
		};
		this.groups.set(groupName, group);
		group.channels.set(chan.name, chan);
		this.initChannelActiveMessages(chan.id);
		// The channels middleware subscribes a node's channels one after another: start once they are all in.
		setImmediate(() => void this.start(group));
	}

	override async unsubscribe(chan: Channel): Promise<void> {
		if (chan.unsubscribing) return;
		chan.unsubscribing = true;
		const group = this.groups.get(chan.group as string);
		if (!group) return;
		while (this.getNumberOfChannelActiveMessages(chan.id) > 0) await sleep(100);
		this.stopChannelActiveMessages(chan.id);
		if ([...group.channels.values()].every((member) => member.unsubscribing)) await this.leave(group);
	}

	override async disconnect(): Promise<void> {
		for (const group of this.groups.values()) await this.leave(group);
		if (this.commitTimer) clearInterval(this.commitTimer);
		this.commitTimer = null;
		await super.disconnect();
	}

	/** The base adapter commits after each message; here a whole batch is committed once handled (`handleBatch`). */
	override async commitOffset(): Promise<void> {}

	/** Queues the message for the next produce request. */
	override async publish(channelName: string, payload: unknown, opts: Parameters<KafkaAdapter["publish"]>[2] = {}): Promise<void> {
		if (this.stopping) return;
		if (!this.connected) return super.publish(channelName, payload, opts);
		const value = (opts.raw ? payload : this.serializer.serialize(payload)) as Buffer;
		const message = { topic: channelName, key: opts.key, value, partition: opts.partition, headers: opts.headers };
		await new Promise<void>((resolve, reject) => {
			this.queued.push({ message, done: (err) => (err ? reject(err) : resolve()) });
			if (this.producing) return;
			this.producing = true;
			setTimeout(() => void this.produce(), LINGER_MS);
		});
	}

	private async produce(): Promise<void> {
		while (this.queued.length > 0) {
			const batch = this.queued;
			this.queued = [];
			try {
				const byTopic = new Map<string, Message[]>();
				for (const { message } of batch) byTopic.set(message.topic, [...(byTopic.get(message.topic) ?? []), message]);
				await this.producer.sendBatch({ topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
				for (const entry of batch) entry.done();
			} catch (err) {
				for (const entry of batch) entry.done(err);
			}
		}
		this.producing = false;
	}

	/** (Re)starts the group's consumer on all its topics; a failure is logged and tried again. */
	private start(group: Group): Promise<void> {
		group.starting ??= (async () => {
			try {
				if (group.consumer) {
					await this.commit(group);
					await group.consumer.stop();
				}
				const channels = [...group.channels.values()];
				if (group.perProcess && !group.placed) {
					await this.placeAtEnd(group, channels);
					group.placed = true;
				}
				const consumer =
					group.consumer ??
					this.client.consumer({
						// Named like the topics (TOPIC_PREFIX), so shops sharing a Kafka cluster keep their groups apart.
						groupId: this.addPrefixTopic(group.name),
						...((this.opts.kafka as { consumerOptions?: ConsumerConfig }).consumerOptions ?? {}),
					});
				if (!group.consumer) {
					consumer.on(consumer.events.REQUEST, reportRequest);
					// A fetch's batches (one per partition with records) are handled after its FETCH event.
					let fetched = false;
					consumer.on(consumer.events.FETCH, () => {
						fetched = true;
					});
					consumer.on(consumer.events.START_BATCH_PROCESS, () => {
						if (fetched && KAFKAJS_RECORD_FETCHES.hasSubscribers) KAFKAJS_RECORD_FETCHES.publish(group.name);
						fetched = false;
					});
					// Before giving its partitions up, the group commits what it has handled: the next owner resumes there.
					consumer.on(consumer.events.REBALANCING, () => void this.commit(group));
					await consumer.connect();
					group.consumer = consumer;
				}
				await consumer.subscribe({
					topics: channels.map((chan) => chan.name),
					fromBeginning: channels.some((chan) => kafkaOf(chan)?.fromBeginning),
				});
				await consumer.run({
					autoCommit: false,
					partitionsConsumedConcurrently: Math.max(1, ...channels.map((chan) => kafkaOf(chan)?.partitionsConsumedConcurrently ?? 1)),
					eachBatchAutoResolve: false,
					eachBatch: (payload) => this.handleBatch(group, payload),
				});
			} catch (err) {
				this.logger.error(`Could not start the consumer of group '${group.name}'; trying again.`, err);
				group.starting = null;
				setTimeout(() => void this.start(group), RESTART_DELAY_MS).unref();
				return;
			}
			group.starting = null;
		})();
		return group.starting;
	}

	/** Handles a partition's batch: its keys at once, each key's messages in order; then marks it for commit. */
	private async handleBatch(group: Group, { batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
		const chan = group.channels.get(batch.topic);
		if (!chan || chan.unsubscribing || !batch.messages.length) return;
		const byKey = new Map<string, KafkaMessage[]>();
		for (const message of batch.messages) {
			const key = message.key?.toString() ?? "";
			byKey.set(key, [...(byKey.get(key) ?? []), message]);
		}
		const chains = [...byKey.values()];
		const consumer = group.consumer as Consumer;
		for (let next = 0; next < chains.length; next += KEYS_AT_ONCE) {
			if (!isRunning() || isStale()) return;
			await Promise.all(
				chains.slice(next, next + KEYS_AT_ONCE).map(async (messages) => {
					for (const message of messages)
						await this.processMessage(chan, consumer, {
							topic: batch.topic,
							partition: batch.partition,
							message,
							heartbeat,
							pause: () => () => {},
						});
				}),
			);
			await heartbeat();
		}
		// A message skipped because its service is stopping must be read again by the next owner.
		if (chan.unsubscribing) return;
		const last = batch.lastOffset();
		// Where this consumer fetches from next; the commit below is what survives it.
		resolveOffset(last);
		group.toCommit.set(`${batch.topic}:${batch.partition}`, {
			topic: batch.topic,
			partition: batch.partition,
			offset: String(Number(last) + 1),
		});
	}

	private async commitAll(): Promise<void> {
		for (const group of this.groups.values()) await this.commit(group);
	}

	/** Commits what the group has handled; what fails (a rebalance under way) is committed by the next owner's reading again. */
	private async commit(group: Group): Promise<void> {
		if (!group.consumer || group.toCommit.size === 0) return;
		const offsets = [...group.toCommit.values()];
		group.toCommit.clear();
		try {
			await group.consumer.commitOffsets(offsets);
		} catch (err) {
			this.logger.debug(`Group '${group.name}' could not commit now (its messages may be delivered again):`, (err as Error).message);
		}
	}

	/**
	 * Commits the ends of the group's topics as its offsets before it first joins. A new group
	 * without offsets would start at the end it finds when its partitions are assigned, seconds
	 * later, and would skip whatever was published in between.
	 */
	private async placeAtEnd(group: Group, channels: Channel[]): Promise<void> {
		const groupId = this.addPrefixTopic(group.name);
		await this.withAdmin(async (admin) => {
			for (const { name: topic } of channels) {
				const ends = await admin.fetchTopicOffsets(topic);
				await admin.setOffsets({ groupId, topic, partitions: ends.map(({ partition, high }) => ({ partition, offset: high })) });
			}
		});
	}

	private async withAdmin(use: (admin: Admin) => Promise<void>): Promise<void> {
		const admin = this.client.admin();
		await admin.connect();
		try {
			await use(admin);
		} finally {
			await admin.disconnect();
		}
	}

	private async leave(group: Group): Promise<void> {
		await group.starting;
		if (!group.consumer) return;
		await this.commit(group);
		await group.consumer.disconnect();
		group.consumer = null;
		this.groups.delete(group.name);
		if (!group.perProcess) return;
		// Nobody will read this group again. A process that was killed leaves its group behind, and
		// Kafka deletes it once its offsets expire (offsets.retention.minutes, 7 days by default).
		await this.withAdmin((admin) => admin.deleteGroups([this.addPrefixTopic(group.name)]).then(() => undefined)).catch((err: Error) =>
			this.logger.debug(`Group '${group.name}' was not deleted:`, err.message),
		);
	}
}

// The typings declare an adapter instance here; the registry holds classes, which it instantiates per broker.
Adapters.register("AgoraKafka", AgoraKafkaAdapter as unknown as InstanceType<typeof Adapters.Base>);
