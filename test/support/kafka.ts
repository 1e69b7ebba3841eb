import { type Admin, AssignerProtocol, type IHeaders, Kafka, type KafkaMessage, logLevel } from "kafkajs";
import type { DomainEvent } from "../../lib/contracts/events";
import { readTopicsToNow } from "../../lib/platform/topic-replay";
import { eventually } from "./wait";

export function kafka(): Kafka {
	return new Kafka({
		clientId: "agora-tests",
		brokers: (process.env.KAFKA_BROKERS ?? "127.0.0.1:9092").split(","),
		logLevel: logLevel.NOTHING,
	});
}

export interface TopicMessage<T> {
	value: T;
	/** Header values as text (the channels adapter carries the request context in `$requestID`, `$meta`...). */
	headers: Record<string, string>;
	partition: number;
	/** The message as Kafka holds it, to publish it again byte for byte. */
	raw: KafkaMessage;
}

/** Reads a topic from its beginning until `match` finds a message, as any outside consumer would. */
export async function findMessageOnTopic<T>(
	topic: string,
	match: (message: TopicMessage<T>) => boolean,
	timeoutMs = 30_000,
): Promise<TopicMessage<T>> {
	const consumer = kafka().consumer({ groupId: `agora-tests-${Date.now()}-${Math.random()}` });
	await consumer.connect();
	try {
		await consumer.subscribe({ topic, fromBeginning: true });
		return await new Promise<TopicMessage<T>>((resolve, reject) => {
			const timer = setTimeout(() => reject(new Error(`no matching message on ${topic} within ${timeoutMs} ms`)), timeoutMs);
			consumer
				.run({
					eachMessage: async ({ partition, message }) => {
						const found: TopicMessage<T> = {
							value: JSON.parse(message.value?.toString() ?? "null") as T,
							headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([name, value]) => [name, String(value)])),
							partition,
							raw: message,
						};
						if (match(found)) {
							clearTimeout(timer);
							resolve(found);
						}
					},
				})
				.catch(reject);
		});
	} finally {
		await consumer.disconnect();
	}
}

export async function findOnTopic<T>(topic: string, match: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
	return (await findMessageOnTopic<T>(topic, ({ value }) => match(value), timeoutMs)).value;
}

/** Resolves once every consumer group of `topic` has committed past `offset` on `partition`, i.e. handled it. */
async function handledByEveryGroup(admin: Admin, topic: string, partition: number, offset: number): Promise<void> {
	// Each service's channels on a node are one consumer group (named after the service) reading all
	// its topics: the groups of `topic` are those with a member subscribed to it.
	const ids = (await admin.listGroups()).groups.map((group) => group.groupId);
	const described = ids.length > 0 ? (await admin.describeGroups(ids)).groups : [];
	const groups = described
		.filter((group) =>
			group.members.some((member) => {
				try {
					return AssignerProtocol.MemberMetadata.decode(member.memberMetadata)?.topics.includes(topic);
				} catch {
					return false; // a group of another protocol (the transporter's)
				}
			}),
		)
		.map((group) => group.groupId);
	if (groups.length === 0) throw new Error(`no consumer group reads ${topic}`);
	await eventually(async () => {
		for (const groupId of groups) {
			const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
			const committed = Number(offsets?.partitions.find((p) => p.partition === partition)?.offset ?? -1);
			if (committed <= offset) throw new Error(`${groupId} has not handled the copy at offset ${offset} yet`);
		}
	});
}

/**
 * Publishes messages that were already consumed once more, byte for byte (same key, headers and
 * partition), as Kafka does after a consumer crashes before committing. Resolves once every
 * consumer group of the topic has committed past the copies, i.e. each has handled them again.
 */
async function publishAgain(topic: string, messages: { partition: number; raw: KafkaMessage }[]): Promise<void> {
	const client = kafka();
	const producer = client.producer();
	const admin = client.admin();
	await Promise.all([producer.connect(), admin.connect()]);
	try {
		const last = new Map<number, number>();
		for (const { partition, raw } of messages) {
			const [sent] = await producer.send({
				topic,
				messages: [{ key: raw.key, value: raw.value, headers: raw.headers as IHeaders, partition }],
			});
			last.set(partition, Number(sent?.baseOffset));
		}
		for (const [partition, offset] of last) await handledByEveryGroup(admin, topic, partition, offset);
	} finally {
		await Promise.all([producer.disconnect(), admin.disconnect()]);
	}
}

/** Publishes the first message of `topic` that `match` accepts once more (see `publishAgain`). */
export async function redeliver<T>(topic: string, match: (value: T) => boolean): Promise<T> {
	const { value, partition, raw } = await findMessageOnTopic<T>(topic, (message) => match(message.value));
	await publishAgain(topic, [{ partition, raw }]);
	return value;
}

/** Publishes every message `topic` holds now that `match` accepts once more, in order; answers how many. */
export async function redeliverAll<T>(topic: string, match: (value: T) => boolean): Promise<number> {
	const found: { partition: number; raw: KafkaMessage }[] = [];
	await readTopicsToNow(
		{
			brokers: (process.env.KAFKA_BROKERS ?? "127.0.0.1:9092").split(","),
			topics: [topic],
			groupId: `agora-tests-${Date.now()}-${Math.random()}`,
		},
		async (raw, _topic, partition) => {
			if (match(JSON.parse(raw.value?.toString() ?? "null") as T)) found.push({ partition, raw });
		},
	);
	if (found.length > 0) await publishAgain(topic, found);
	return found.length;
}

/** Every domain event `topics` hold now, copies included, read by a group of its own from `brokers` (the shared broker's by default). */
export async function eventsOnTopics(topics: string[], brokers = process.env.KAFKA_BROKERS ?? "127.0.0.1:9092"): Promise<DomainEvent[]> {
	const events: DomainEvent[] = [];
	await readTopicsToNow({ brokers: brokers.split(","), topics, groupId: `agora-tests-${Date.now()}-${Math.random()}` }, async (raw) => {
		events.push(JSON.parse(raw.value?.toString() ?? "null") as DomainEvent);
	});
	return events;
}
