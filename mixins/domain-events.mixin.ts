import { randomUUID } from "node:crypto";
import type { ServiceSchema } from "moleculer";
import type { DomainEvent, DomainEventType, EventPayloads } from "../lib/contracts/events";
import { currentContext, eventOrigin, type RequestOrigin, requestOrigin } from "../lib/platform/request-context";
import { defineMixin } from "../lib/platform/schema";
import { settings } from "../lib/platform/settings";
import type { DbAdapter } from "../lib/platform/store";
import type { ChannelBroker } from "../types/moleculer";
import { type DbMethods, type DbVars, journalName } from "./db.mixin";

/** An event to send, with the key that keeps one entity's events in order (one Kafka partition per key). */
export interface OutgoingEvent<E extends DomainEventType = DomainEventType> {
	event: DomainEvent<E>;
	key?: string;
}

/**
 * A record of the journal. Either one decided change (id "order X leaves pending"), with the
 * events that announce it, or events published on their own (id: the first event's id).
 */
interface JournalEntry {
	id: string;
	/** A decided change: `update` (absolute values) applies to what `filter` matches. */
	filter?: object;
	update?: object;
	events: OutgoingEvent[];
	origin?: RequestOrigin;
	/** Some events are not known to have reached the broker yet. */
	pending: boolean;
	/** A relay is sending them until then; another one leaves them alone. */
	claimedUntil: Date;
	createdAt: Date;
}

export interface DomainEventMethods {
	/** A new event, for `publishEvent` or `changeOnce`. */
	domainEvent<E extends DomainEventType>(type: E, data: EventPayloads[E], key?: string): OutgoingEvent<E>;
	/** Journals the event, then sends it; the relay sends it if the broker cannot take it now. */
	publishEvent<E extends DomainEventType>(type: E, data: EventPayloads[E], key?: string): Promise<DomainEvent<E>>;
	/** `publishEvent` for several events in one journal record (one write), sent in this order. */
	publishEvents(events: OutgoingEvent[]): Promise<void>;
	/**
	 * Applies `update` to the documents `filter` matches, and announces it with `events`, if this
	 * caller is the first to claim `decision` (a name for "this document leaves this state");
	 * true if it was.
	 */
	changeOnce(decision: string, filter: object, update: object, events?: OutgoingEvent[]): Promise<boolean>;
	/** Records `decision` with no change of its own (others look it up with `hasDecided`); true if this caller was the first. */
	decideOnce(decision: string): Promise<boolean>;
	hasDecided(decision: string): Promise<boolean>;
}

interface OutboxMethods extends DomainEventMethods, DbMethods {
	journal(): DbAdapter;
	record(entry: Omit<JournalEntry, "pending" | "claimedUntil" | "createdAt">): Promise<JournalEntry>;
	deliver(entry: JournalEntry): Promise<boolean>;
	startDelivery(entry: JournalEntry): void;
	markSent(entry: JournalEntry): Promise<void>;
	relay(): Promise<void>;
}

interface OutboxVars extends DbVars {
	/** Journal entries this process is sending now: the relay leaves them alone, and a stop waits for them. */
	sending: Map<string, Promise<boolean>>;
	relayTimer: NodeJS.Timeout;
}

/** The relay looks for unsent events this often... */
const RELAY_INTERVAL_MS = 2_000;
/** ...and takes over those older than this: younger ones are still being sent by their writer. */
const RELAY_AFTER_MS = 5_000;
/** How long a relay's claim on an entry lasts: long enough to send it, short enough to take over from a dead one. */
const CLAIM_MS = 30_000;

/**
 * Publishes domain events through a transactional outbox. An event is first written to the
 * service's journal (`<service>-journal`), in the same record as the change it announces where
 * there is one (`changeOnce`), then sent. If the broker is unreachable (a Kafka outage) or the
 * process dies before the send, the event stays in the journal, and a relay on every node of
 * the service sends it later, oldest first. So a change is never saved without its events being
 * sent eventually; consumers recognise the rare second copy by its id or business key.
 *
 * The event carries the request id of the action or message being handled (as message headers),
 * so the consumer's calls, events and log lines keep it.
 */
export const domainEventsMixin: Partial<ServiceSchema> = defineMixin<object, OutboxMethods, OutboxVars>({
	methods: {
		domainEvent<E extends DomainEventType>(type: E, data: EventPayloads[E], key?: string): OutgoingEvent<E> {
			return { event: { id: randomUUID(), type, at: new Date().toISOString(), data }, ...(key ? { key } : {}) };
		},

		async publishEvent<E extends DomainEventType>(type: E, data: EventPayloads[E], key?: string): Promise<DomainEvent<E>> {
			const outgoing = this.domainEvent(type, data, key);
			await this.publishEvents([outgoing]);
			return outgoing.event;
		},

		async publishEvents(events: OutgoingEvent[]): Promise<void> {
			const [first] = events;
			if (first) this.startDelivery(await this.record({ id: first.event.id, events }));
		},

		/*
		 * FerretDB does not apply conditional updates atomically (two racing `updateMany` calls
		 * on the same state can both match), but its unique indexes hold. So a state change is
		 * decided by inserting its journal record under a unique id; only that writer wins. The
		 * update sets absolute values, so applying it twice is harmless, and a loser applies the
		 * recorded one too: that finishes a change whose winner died between record and update
		 * (and the relay sends its events).
		 */
		async changeOnce(decision: string, filter: object, update: object, events: OutgoingEvent[] = []): Promise<boolean> {
			let entry: JournalEntry;
			try {
				entry = await this.record({ id: decision, filter, update, events });
			} catch (err) {
				if (!this.isDuplicateKey(err)) throw err;
				const recorded = this.toEntity<JournalEntry>(await this.journal().findById(decision));
				await this.adapter.updateMany(filter, { $set: recorded.update });
				return false;
			}
			await this.adapter.updateMany(filter, { $set: update });
			this.startDelivery(entry);
			return true;
		},

		async decideOnce(decision: string): Promise<boolean> {
			try {
				await this.record({ id: decision, events: [] });
				return true;
			} catch (err) {
				if (!this.isDuplicateKey(err)) throw err;
				return false;
			}
		},

		async hasDecided(decision: string): Promise<boolean> {
			return (await this.journal().findById(decision)) != null;
		},

		journal(): DbAdapter {
			const journal = this.collections[journalName(this.name)];
			if (!journal) throw new Error(`${this.name} publishes domain events, so it needs dbMixin (which keeps its journal)`);
			return journal;
		},

		async record({ id, ...fields }) {
			const ctx = currentContext();
			const entry: JournalEntry = {
				id,
				...fields,
				...(ctx ? { origin: requestOrigin(ctx) } : {}),
				pending: fields.events.length > 0,
				claimedUntil: new Date(0),
				createdAt: new Date(),
			};
			const { id: _id, ...stored } = entry;
			await this.journal().insert({ _id, ...stored });
			return entry;
		},

		/**
		 * Sends in the background: the change is saved, so the caller's answer does not wait for the
		 * broker (during a Kafka outage a send can take tens of seconds to fail).
		 */
		startDelivery(entry: JournalEntry): void {
			if (!entry.pending) return;
			const delivery = this.deliver(entry).finally(() => this.sending.delete(entry.id));
			this.sending.set(entry.id, delivery);
		},

		/**
		 * Sends the entry's events in order and marks them sent; true if it did. Never throws: what
		 * could not be sent stays pending for the relay (the change it announces is saved either way).
		 */
		async deliver(entry: JournalEntry): Promise<boolean> {
			try {
				const broker = this.broker as ChannelBroker;
				for (const { event, key } of entry.events) {
					await broker.sendToChannel(event.type, event, {
						...(key ? { key } : {}),
						...(entry.origin ? { ctx: eventOrigin(entry.origin, this) } : {}),
					});
				}
				await this.markSent(entry);
				return true;
			} catch (err) {
				this.logger.warn(`Events of ${entry.id} not sent yet (${(err as Error).message}); the relay will send them.`);
				return false;
			}
		},

		/**
		 * A decision's record must stay (it is what makes the change happen once); events sent alone
		 * need no record. One record by `_id` at a time: the test stand-in (FerretDB 1.24) pushes only
		 * equality filters down to its indexes, so `_id: {$in: [...]}` read the whole journal.
		 */
		async markSent(entry: JournalEntry): Promise<void> {
			try {
				if (entry.update) await this.journal().updateMany({ _id: entry.id }, { $set: { pending: false, events: [] } });
				else await this.journal().removeById(entry.id);
			} catch (err) {
				this.logger.warn(`Could not mark the events of ${entry.id} as sent (the relay may send them again): ${(err as Error).message}`);
			}
		},

		/** Sends what waits in the journal, oldest first, and stops at the first failure to keep that order. */
		async relay(): Promise<void> {
			if (!(this.broker as ChannelBroker).channelAdapter?.connected) return;
			const now = Date.now();
			const waiting = await this.journal().find({
				query: { pending: true, createdAt: { $lt: new Date(now - RELAY_AFTER_MS) } },
				sort: ["createdAt"],
				limit: 100,
			});
			let sent = 0;
			for (const doc of waiting) {
				const entry = this.toEntity<JournalEntry>(doc);
				if (this.sending.has(entry.id)) continue;
				const claimed = await this.journal().updateMany(
					{ _id: entry.id, pending: true, claimedUntil: { $lt: new Date(now) } },
					{ $set: { claimedUntil: new Date(now + CLAIM_MS) } },
				);
				if (claimed === 0) continue;
				// The writer may have died between its record and its update: finish the change first.
				if (entry.filter && entry.update) await this.adapter.updateMany(entry.filter, { $set: entry.update });
				if (!(await this.deliver(entry))) break;
				sent++;
			}
			if (sent > 0) this.logger.info(`Relay sent the events of ${sent} journal record(s) that waited.`);
		},
	},

	created() {
		this.sending = new Map();
	},

	started() {
		if (!settings().backgroundLoops) return;
		this.relayTimer = setInterval(() => {
			this.relay().catch((err: Error) => this.logger.warn("Journal relay run failed:", err.message));
		}, RELAY_INTERVAL_MS);
		this.relayTimer.unref();
	},

	async stopped() {
		clearInterval(this.relayTimer);
		await Promise.allSettled(this.sending.values());
	},
});
