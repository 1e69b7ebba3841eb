import { channel } from "node:diagnostics_channel";
import { Adapters } from "@moleculer/channels";

/**
 * Where the channels' Kafka clients (kafkajs) tell each request they send to the broker, by API
 * name, and each batch of records a fetch brought: what `npm run bench` counts as broker requests
 * (middlewares/cost-counters.ts). The transporter's client (@platformatic/kafka) reports the same
 * on its own diagnostics channels.
 */
export const KAFKAJS_REQUESTS = channel("agora:kafkajs:request");
export const KAFKAJS_RECORD_BATCHES = channel("agora:kafkajs:record-batch");

const reportRequest = ({ payload }: { payload: { apiName: string } }) => {
	if (KAFKAJS_REQUESTS.hasSubscribers) KAFKAJS_REQUESTS.publish(payload.apiName);
};

type Subscription = Parameters<InstanceType<typeof Adapters.Kafka>["subscribe"]>[0];

/** The channels' Kafka adapter, reporting the requests its clients make. */
export class AgoraKafkaAdapter extends Adapters.Kafka {
	override async tryConnect(): Promise<void> {
		await super.tryConnect();
		this.producer.on(this.producer.events.REQUEST, reportRequest);
	}

	override async subscribe(chan: Subscription): Promise<void> {
		await super.subscribe(chan);
		const consumer = this.consumers.get(chan.id);
		if (!consumer) return;
		consumer.on(consumer.events.REQUEST, reportRequest);
		consumer.on(consumer.events.START_BATCH_PROCESS, () => {
			if (KAFKAJS_RECORD_BATCHES.hasSubscribers) KAFKAJS_RECORD_BATCHES.publish(chan.id);
		});
	}
}

// The typings declare an adapter instance here; the registry holds classes, which it instantiates per broker.
Adapters.register("AgoraKafka", AgoraKafkaAdapter as unknown as InstanceType<typeof Adapters.Base>);
