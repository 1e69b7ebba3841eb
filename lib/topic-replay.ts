import { Kafka, type KafkaMessage, logLevel } from "kafkajs";

export interface ReplayOptions {
	/** `host:port` of a Kafka broker. */
	brokers: string[];
	topics: string[];
	/** A group no one else uses: it starts at the oldest message Kafka keeps and commits nothing. */
	groupId: string;
	/** Upper bound for the whole read; it only stops a hung one. */
	timeoutMs?: number;
}

/**
 * Reads every message the topics hold now, from the oldest Kafka still keeps to the end as it was
 * when the read began, and hands each message to `each` in partition order. Messages published
 * meanwhile are left to the live consumers. Resolves with the number of messages read.
 */
export async function readTopicsToNow(
	options: ReplayOptions,
	each: (message: KafkaMessage, topic: string, partition: number) => Promise<void>,
): Promise<number> {
	const kafka = new Kafka({ clientId: "agora-replay", brokers: options.brokers, logLevel: logLevel.NOTHING });
	const admin = kafka.admin();
	await admin.connect();
	const ends = new Map<string, bigint>();
	try {
		for (const topic of options.topics)
			for (const { partition, low, high } of await admin.fetchTopicOffsets(topic))
				if (BigInt(high) > BigInt(low)) ends.set(`${topic}:${partition}`, BigInt(high));
	} finally {
		await admin.disconnect();
	}
	if (ends.size === 0) return 0;

	const consumer = kafka.consumer({ groupId: options.groupId, allowAutoTopicCreation: false });
	await consumer.connect();
	let read = 0;
	try {
		await consumer.subscribe({ topics: options.topics, fromBeginning: true });
		await new Promise<void>((resolve, reject) => {
			const timeoutMs = options.timeoutMs ?? 10 * 60_000;
			const timer = setTimeout(() => reject(new Error(`Reading ${options.topics.join(", ")} took over ${timeoutMs} ms`)), timeoutMs);
			const finish = (err?: unknown) => {
				clearTimeout(timer);
				if (err) reject(err);
				else resolve();
			};
			consumer
				.run({
					autoCommit: false,
					eachMessage: async ({ topic, partition, message }) => {
						const slot = `${topic}:${partition}`;
						const end = ends.get(slot);
						if (end === undefined || BigInt(message.offset) >= end) return;
						await each(message, topic, partition);
						read++;
						if (BigInt(message.offset) + 1n >= end) ends.delete(slot);
						if (ends.size === 0) finish();
					},
				})
				.catch(finish);
		});
	} finally {
		await consumer.disconnect();
	}
	return read;
}
