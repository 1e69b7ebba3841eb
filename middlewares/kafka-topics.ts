import { setTimeout as sleep } from "node:timers/promises";
import { type Admin, Kafka, logLevel } from "kafkajs";
import type { Middleware, ServiceSchema } from "moleculer";

const LEADER_WAIT_MS = 30_000;

/**
 * A new topic answers "unknown topic" until every partition has a leader, however it was made;
 * kafkajs' own wait gives up on that answer, so ask until the metadata is complete.
 */
async function waitForLeaders(admin: Admin, topics: string[]): Promise<void> {
	const deadline = Date.now() + LEADER_WAIT_MS;
	for (;;) {
		try {
			const { topics: found } = await admin.fetchTopicMetadata({ topics });
			if (found.every((topic) => topic.partitions.length > 0 && topic.partitions.every((partition) => partition.leader >= 0))) return;
		} catch (err) {
			if (Date.now() > deadline) throw err;
		}
		if (Date.now() > deadline) throw new Error(`Kafka topics have no leaders after ${LEADER_WAIT_MS} ms: ${topics.join(", ")}`);
		await sleep(200);
	}
}

/**
 * Creates the durable-event topics a node uses before its consumers subscribe: a consumer of a
 * topic that does not exist yet fails to start, and the first event would race its topic's
 * creation. Idempotent, so every node may run it; production clusters create topics ahead
 * (k8s/base/kafka-topics.yaml), and then this finds nothing to do.
 *
 * It also starts every new consumer group at the beginning of its topic. Kafka's default for a
 * group without committed offsets is the latest offset, and a new group gets its partitions only
 * after a rebalance of some seconds: events published in that gap (the first orders after a
 * fresh deployment) would be skipped for good. Once a group has committed, it resumes there.
 * And it lets every consumer handle its topic's partitions concurrently.
 */
export function kafkaTopicsMiddleware(brokers: string[], topics: string[], partitions: number): Middleware {
	return {
		name: "KafkaTopics",
		serviceCreating(_service, schema: ServiceSchema) {
			// One consumer works on all its partitions at once, each still one message at a time (so one
			// key's events keep their order); without this kafkajs handles one message of the topic at a time.
			for (const channel of Object.values(schema.channels ?? {}))
				channel.kafka = { fromBeginning: true, partitionsConsumedConcurrently: partitions, ...channel.kafka };
		},
		async started() {
			const admin = new Kafka({ clientId: "agora-topics", brokers, logLevel: logLevel.NOTHING }).admin();
			await admin.connect();
			try {
				const existing = new Set(await admin.listTopics());
				const missing = topics.filter((topic) => !existing.has(topic));
				// Resolves false instead of failing when another node created one meanwhile.
				// Nodes starting together race to create the same topics; kafkajs then fails its own
				// metadata refresh. Whoever created them, waitForLeaders below tells when they are usable.
				if (missing.length > 0)
					await admin.createTopics({ topics: missing.map((topic) => ({ topic, numPartitions: partitions })) }).catch(() => false);
				await waitForLeaders(admin, topics);
			} finally {
				await admin.disconnect();
			}
		},
	};
}
