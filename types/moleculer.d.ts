/**
 * Moleculer 0.15's schema types have no catch-all key, so the properties that mixins and
 * middlewares read from a service schema (moleculer-db, @moleculer/channels) and the one the
 * gateway reads from an action (`auth`) are declared here, once. The augmented modules are named
 * by path because moleculer's package exports only its index.
 */
import type { Context, ServiceBroker } from "moleculer";
import type { EventOrigin } from "../lib/platform/request-context";

/** Who may call an action through the gateway; operators in the REPL are trusted. */
export type ActionAccess = "public" | "user" | "customer" | "admin";

/** A channel's own Kafka settings, read by the Kafka adapter (lib/platform/kafka-channels.ts). */
export interface ChannelKafkaOptions {
	fromBeginning?: boolean;
	partitionsConsumedConcurrently?: number;
	/**
	 * Every process reads the channel in full. Each one gets a consumer group of its own, named
	 * after the process. The group starts at the end of its topics when the process starts, and it
	 * is deleted when the process leaves.
	 */
	perProcess?: boolean;
}

export interface ChannelHandlerSchema<TThis> {
	group?: string;
	maxRetries?: number;
	maxInFlight?: number;
	kafka?: ChannelKafkaOptions;
	handler(this: TThis, ctx: Context<unknown>): Promise<void> | void;
}

export interface ChannelSendOptions {
	key?: string;
	headers?: Record<string, string>;
	/** The request the message belongs to: the channels middleware turns it into headers. */
	ctx?: EventOrigin;
}

/** The broker once the channels middleware has added its send method (an `export =` class cannot be augmented). */
export type ChannelBroker = ServiceBroker & {
	sendToChannel(channel: string, payload: unknown, opts?: ChannelSendOptions): Promise<void>;
	/** Connects after the services have started (the channels middleware's `started` hook). */
	channelAdapter: { connected: boolean };
};

declare module "../node_modules/moleculer/src/service" {
	interface ServiceSchema<TSettings, TMethods, TVars, TThis> {
		/** moleculer-db adapter instance */
		adapter?: unknown;
		/** moleculer-db-adapter-mongoose model definition */
		model?: unknown;
		/** Runs once the mixins are merged, before `created`: the schema can still be completed then. */
		merged?: (this: TThis, schema: ServiceSchema<TSettings, TMethods, TVars, TThis>) => void;
		/** moleculer-db hook, after the adapter connected */
		afterConnected?: (this: TThis) => Promise<void> | void;
		/** @moleculer/channels durable subscriptions, keyed by channel name */
		channels?: Record<string, ChannelHandlerSchema<TThis>>;
	}
	interface ActionSchema<TThis> {
		auth?: ActionAccess;
		/** Answers whether the service's storage is reachable: readiness (lib/platform/probes.ts) calls it. */
		storageProbe?: boolean;
	}
}
