import { Kafka, logLevel } from "kafkajs";

export function kafka(): Kafka {
	return new Kafka({
		clientId: "agora-tests",
		brokers: (process.env.KAFKA_BROKERS ?? "127.0.0.1:9092").split(","),
		logLevel: logLevel.NOTHING,
	});
}

/** Reads a topic from its beginning until `match` finds a message, as any outside consumer would. */
export async function findOnTopic<T>(topic: string, match: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
	const consumer = kafka().consumer({ groupId: `agora-tests-${Date.now()}-${Math.random()}` });
	await consumer.connect();
	try {
		await consumer.subscribe({ topic, fromBeginning: true });
		return await new Promise<T>((resolve, reject) => {
			const timer = setTimeout(() => reject(new Error(`no matching message on ${topic} within ${timeoutMs} ms`)), timeoutMs);
			consumer
				.run({
					eachMessage: async ({ message }) => {
						const value = JSON.parse(message.value?.toString() ?? "null") as T;
						if (match(value)) {
							clearTimeout(timer);
							resolve(value);
						}
					},
				})
				.catch(reject);
		});
	} finally {
		await consumer.disconnect();
	}
}
