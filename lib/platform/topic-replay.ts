import { Kafka, type KafkaMessage, logLevel } from "kafkajs";

export interface ReplayOptions {
	/** `host:port` of a Kafka broker. */
	brokers: string[];
	topics: string[];
	/**
	 * The group that reads. Unless it is `resumeGroup` itself, use one no one else uses: Kafka
	 * then hands it every message from the oldest it keeps.
	 */
	groupId: string;
	/**
	 * Start each partition at this group's committed position instead of at the oldest message
	 * Kafka keeps (at the oldest all the same where the group has committed nothing).
	 */
	resumeGroup?: string;
	/** Commit `groupId`'s position past each message once `each` is done with it; otherwise nothing is committed. */
	commit?: boolean;
	/** Upper bound for the whole read; it only stops a hung one. */
	timeoutMs?: number;
}

type Ranges = Map<string, { from: bigint; to: bigint }>;

/** Per `topic:partition` with something to read: from the start (see `resumeGroup`) to the end now. */
async function rangesToNow(kafka: Kafka, options: ReplayOptions): Promise<Ranges> {
	const admin = kafka.admin();
	await admin.connect();
	try {
		const ends = new Map<string, Awaited<ReturnType<typeof admin.fetchTopicOffsets>>>();
		for (const topic of options.topics) ends.set(topic, await admin.fetchTopicOffsets(topic));
		const committed = options.resumeGroup ? await admin.fetchOffsets({ groupId: options.resumeGroup, topics: options.topics }) : [];
		const ranges: Ranges = new Map();
		for (const [topic, partitions] of ends) {
			const positions = committed.find((entry) => entry.topic === topic)?.partitions ?? [];
			for (const { partition, low, high } of partitions) {
				// A group that has committed nothing reports -1.
				const position = BigInt(positions.find((entry) => entry.partition === partition)?.offset ?? "-1");
				const from = position > BigInt(low) ? position : BigInt(low);
				if (from < BigInt(high)) ranges.set(`${topic}:${partition}`, { from, to: BigInt(high) });
			}
		}
		return ranges;
	} finally {
		await admin.disconnect();
	}
}

/**
 * Reads every message the topics hold now, from the oldest Kafka still keeps (or `resumeGroup`'s
 * position) to the end as it was when the read began, and hands each message to `each` in
 * partition order; the next is read only once `each` is done. Messages published meanwhile are
 * left to the live consumers. Resolves with the number of messages read.
 */
export async function readTopicsToNow(
	options: ReplayOptions,
	each: (message: KafkaMessage, topic: string, partition: number) => Promise<void>,
): Promise<number> {
	const kafka = new Kafka({ clientId: "agora-replay", brokers: options.brokers, logLevel: logLevel.NOTHING });
	const ranges = await rangesToNow(kafka, options);
	if (ranges.size === 0) return 0;

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
						const range = ranges.get(slot);
						const offset = BigInt(message.offset);
						if (!range || offset < range.from || offset >= range.to) return;
						await each(message, topic, partition);
						read++;
						if (options.commit) await consumer.commitOffsets([{ topic, partition, offset: (offset + 1n).toString() }]);
						if (offset + 1n >= range.to) ranges.delete(slot);
						if (ranges.size === 0) finish();
					},
				})
				.catch(finish);
		});
	} finally {
		await consumer.disconnect();
	}
	return read;
}
