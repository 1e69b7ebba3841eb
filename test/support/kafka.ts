import { Kafka, logLevel } from "kafkajs";

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
					eachMessage: async ({ message }) => {
						const found: TopicMessage<T> = {
							value: JSON.parse(message.value?.toString() ?? "null") as T,
							headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([name, value]) => [name, String(value)])),
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
