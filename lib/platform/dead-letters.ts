import { type IHeaders, Kafka, logLevel } from "kafkajs";
import { readTopicsToNow } from "./topic-replay";

/**
 * The dead-letter topic of the durable domain events, and its replay.
 *
 * When a channel handler keeps failing, @moleculer/channels' Kafka adapter (after `maxRetries`
 * redeliveries) copies the message, value and key unchanged, to this topic and adds headers that
 * name where it came from: `x-original-channel` (the full topic name), `x-original-group` (the
 * consumer group that failed) and `x-original-partition`; `x-redelivered-count` stays as it was.
 * Replaying publishes it back to its topic addressed to that group alone (`x-group`, the adapter's
 * own filter for redeliveries): the groups that handled it the first time skip it, and the retry
 * count starts again. Every handler is idempotent, so a replay never does a step twice.
 *
 * Which dead letters are still to be replayed is kept by Kafka itself: the replay commits its
 * progress as the consumer group `<prefix>.dead-letter-replay`, so each message is replayed once.
 */

export const DEAD_LETTER_TOPIC = "dead-letter";

/** The adapter's header names (@moleculer/channels src/constants.js and adapters/kafka.js). */
export const DEAD_LETTER_HEADERS = {
	topic: "x-original-channel",
	group: "x-original-group",
	partition: "x-original-partition",
	redeliveries: "x-redelivered-count",
	addressedGroup: "x-group",
} as const;

/** A topic name as every node names it: `<TOPIC_PREFIX>.<name>` when a prefix is set. */
export function topicName(prefix: string, name: string): string {
	return prefix ? `${prefix}.${name}` : name;
}

export interface DeadLetter {
	partition: number;
	offset: string;
	/** The topic the message failed on. */
	topic: string;
	/** The consumer group whose handler failed. */
	group: string;
	key: string | null;
	/** The domain event's `type` and `id`, when the value is one. */
	type: string | null;
	eventId: string | null;
	deadAt: Date;
	value: Buffer | null;
	headers: Record<string, string>;
}

export interface DeadLetterOptions {
	/** `host:port` of a Kafka broker. */
	brokers: string[];
	topicPrefix: string;
	/** Upper bound for reading the pending messages; it only stops a hung read. */
	timeoutMs?: number;
}

function textHeaders(headers: IHeaders | undefined): Record<string, string> {
	const text: Record<string, string> = {};
	for (const [name, value] of Object.entries(headers ?? {})) {
		if (value !== undefined) text[name] = Array.isArray(value) ? value.map(String).join(",") : value.toString();
	}
	return text;
}

function describeEvent(value: Buffer | null): { type: string | null; eventId: string | null } {
	try {
		const event = JSON.parse(value?.toString() ?? "null") as { type?: unknown; id?: unknown } | null;
		return { type: typeof event?.type === "string" ? event.type : null, eventId: typeof event?.id === "string" ? event.id : null };
	} catch {
		return { type: null, eventId: null };
	}
}

class DeadLetterTopic {
	private readonly kafka: Kafka;
	readonly topic: string;
	readonly replayGroup: string;

	constructor(private readonly options: DeadLetterOptions) {
		this.kafka = new Kafka({ clientId: "agora-dead-letters", brokers: options.brokers, logLevel: logLevel.NOTHING });
		this.topic = topicName(options.topicPrefix, DEAD_LETTER_TOPIC);
		this.replayGroup = topicName(options.topicPrefix, "dead-letter-replay");
	}

	/**
	 * Reads the pending dead letters (from the replay group's position to the end now) in order,
	 * partition by partition; `each` runs for every message before the next is read. With `commit`,
	 * the group's position moves past a message once `each` is done with it.
	 */
	private async read(groupId: string, commit: boolean, each: (letter: DeadLetter) => Promise<void>): Promise<void> {
		const { brokers, timeoutMs = 30_000 } = this.options;
		const reading = { brokers, topics: [this.topic], groupId, resumeGroup: this.replayGroup, commit, timeoutMs };
		await readTopicsToNow(reading, async (message, _topic, partition) => {
			const headers = textHeaders(message.headers);
			await each({
				partition,
				offset: message.offset,
				topic: headers[DEAD_LETTER_HEADERS.topic] ?? "",
				group: headers[DEAD_LETTER_HEADERS.group] ?? "",
				key: message.key?.toString() ?? null,
				...describeEvent(message.value),
				deadAt: new Date(Number(message.timestamp)),
				value: message.value,
				headers,
			});
		});
	}

	/** The dead letters no replay has taken yet, oldest first per partition; looking changes nothing. */
	async list(): Promise<DeadLetter[]> {
		const letters: DeadLetter[] = [];
		// A throwaway group that commits nothing, so looking never moves the replay's position.
		await this.read(`${this.replayGroup}-peek-${process.pid}-${Date.now()}`, false, async (letter) => {
			letters.push(letter);
		});
		return letters;
	}

	/**
	 * Sends every pending dead letter back to the topic it failed on, addressed to the group that
	 * failed it, and returns them. Each is committed only once it is back on its topic: a crash
	 * mid-replay sends a message again (handlers are idempotent), never loses one.
	 */
	async replay(): Promise<{ replayed: DeadLetter[]; unroutable: DeadLetter[] }> {
		const producer = this.kafka.producer({ allowAutoTopicCreation: false });
		await producer.connect();
		const replayed: DeadLetter[] = [];
		const unroutable: DeadLetter[] = [];
		try {
			await this.read(this.replayGroup, true, async (letter) => {
				// Not written by the adapter (no origin headers): nowhere to send it back to.
				if (!letter.topic || !letter.group) {
					unroutable.push(letter);
					return;
				}
				const {
					[DEAD_LETTER_HEADERS.topic]: _topic,
					[DEAD_LETTER_HEADERS.group]: _group,
					[DEAD_LETTER_HEADERS.partition]: _partition,
					[DEAD_LETTER_HEADERS.redeliveries]: _redeliveries,
					...original
				} = letter.headers;
				await producer.send({
					topic: letter.topic,
					messages: [
						{ key: letter.key, value: letter.value, headers: { ...original, [DEAD_LETTER_HEADERS.addressedGroup]: letter.group } },
					],
				});
				replayed.push(letter);
			});
		} finally {
			await producer.disconnect();
		}
		return { replayed, unroutable };
	}
}

export function deadLetterTopic(options: DeadLetterOptions): Pick<DeadLetterTopic, "topic" | "list" | "replay"> {
	return new DeadLetterTopic(options);
}
