import type { ServiceBroker } from "moleculer";
import type { ChannelBroker, ChannelHandlerSchema } from "../../types/moleculer";
import { PUSH_CHANNEL, type Push } from "../contracts/realtime";

/**
 * Sends a push to every gateway. It goes as a message on the pushes channel, which each gateway
 * reads in full. A Moleculer broadcast would reach only the gateways the sender knows at that
 * moment. A realtime pod that has just started does not know them all yet, nor does a cluster
 * that is rejoining after a Kafka outage, and their browsers would never get those pushes.
 * Every push has the same key, so all share one partition (however many the topic has) and each
 * gateway emits them in the order they were sent.
 */
export function sendPush(broker: ServiceBroker, push: Push): Promise<void> {
	return (broker as ChannelBroker).sendToChannel(PUSH_CHANNEL, push, { key: PUSH_CHANNEL });
}

/**
 * A gateway's subscription to the pushes channel. Each gateway process has a consumer group of its
 * own (`perProcess`), so each one reads every push sent since it started. After an outage it goes
 * on from where it stopped. A push Kafka delivers twice is emitted once (`PushThrottle`).
 */
export function pushChannel<TThis>(emit: (this: TThis, push: Push) => void): ChannelHandlerSchema<TThis> {
	return {
		kafka: { perProcess: true },
		handler(ctx) {
			emit.call(this, ctx.params as Push);
		},
	};
}
