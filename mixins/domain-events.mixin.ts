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

/** The fields every document that carries its own events has (the journal's records, a stock ledger's lines). */
interface Carrier {
	id: string;
	events: OutgoingEvent[];
	origin?: RequestOrigin;
	/** Some events are not known to have reached the broker yet. */
	pending: boolean;
	/** A relay is sending them until then; another one leaves them alone. */
	claimedUntil: Date;
	createdAt: Date;
}

/**
 * A record of the journal: one decided change (id "order X leaves pending") with the change itself,
 * so that the relay can finish it if its writer died between record and change; or events published
 * on their own (id: the first event's id).
 */
interface JournalEntry extends Carrier {
	/** `update` (absolute values) applies to what `filter` matches, or `remove` removes it. */
	filter?: object;
	update?: object;
	remove?: true;
	/** A document to insert into the service's collection. */
	insert?: { _id: string } & Record<string, unknown>;
}

/** A carrier being sent, and where it is stored. */
interface Delivery {
	collection: string;
	record: JournalEntry;
}

export interface DomainEventMethods {
	/** A new event, for `publishEvents`, `changeOnce`, `insertOnce` or `insertCarrying`. */
	domainEvent<E extends DomainEventType>(type: E, data: EventPayloads[E], key?: string): OutgoingEvent<E>;
	/** Journals the events (one write), then sends them in this order; the relay sends them if the broker cannot take them now. */
	publishEvents(events: OutgoingEvent[]): Promise<void>;
	/**
	 * Applies `update` to the documents `filter` matches, and announces it with `events`, if this
	 * caller is the first to claim `decision` (a name for "this document leaves this state");
	 * true if it was.
	 */
	changeOnce(decision: string, filter: object, update: object, events?: OutgoingEvent[]): Promise<boolean>;
	/** Removes what `filter` matches and announces it, once per `decision`; true if this caller decided it. */
	removeOnce(decision: string, filter: object, events: OutgoingEvent[]): Promise<boolean>;
	/**
	 * Inserts `doc` into the service's collection and announces it. A duplicate key (another
	 * document holds a unique value) is thrown as the insert threw it, and nothing is announced.
	 */
	insertOnce(doc: { _id: string } & Record<string, unknown>, events: OutgoingEvent[]): Promise<void>;
	/** Inserts `doc` into `collection` (declared `outbox`) with `events` in the same document, then sends them. */
	insertCarrying(collection: string, doc: { _id: string } & Record<string, unknown>, events: OutgoingEvent[]): Promise<void>;
}

interface OutboxMethods extends DomainEventMethods, DbMethods {
	journal(): DbAdapter;
	record(entry: Omit<JournalEntry, "id" | keyof Omit<Carrier, "id" | "events">> & { id: string }): Promise<JournalEntry>;
	carrier(events: OutgoingEvent[]): Omit<Carrier, "id">;
	applyChange(entry: JournalEntry): Promise<void>;
	applyOrRetract(entry: JournalEntry): Promise<void>;
	deliver(delivery: Delivery): Promise<boolean>;
	startDelivery(delivery: Delivery): void;
	markSent(delivery: Delivery): void;
	flushSentMarks(): Promise<void>;
	relay(): Promise<void>;
}

interface OutboxVars extends DbVars {
	/** Carriers this process is sending now: the relay leaves them alone, and a stop waits for them. */
	sending: Map<string, Promise<boolean>>;
	/** Sent carriers whose marks are not written yet, per collection: written together, shortly. */
	sentMarks: Map<string, { ids: string[]; dropped: string[] }>;
	marksTimer: NodeJS.Timeout | null;
	relayTimer: NodeJS.Timeout;
}

/** The relay looks for unsent events this often... */
const RELAY_INTERVAL_MS = 5_000;
/** ...and takes over those older than this: younger ones are still being sent by their writer. */
const RELAY_AFTER_MS = 5_000;
/** How long a relay's claim on an entry lasts: long enough to send it, short enough to take over from a dead one. */
const CLAIM_MS = 30_000;
/**
 * Sent marks wait this long to be written together: nothing reads them sooner than the relay
 * (RELAY_AFTER_MS), so one write can mark every carrier sent meanwhile.
 */
const MARKS_DELAY_MS = 1_000;

/**
 * Publishes domain events through a transactional outbox. An event is first written in the same
 * document as the change it announces: a journal record (`<service>-journal`) that holds the
 * decided change and its events (`changeOnce`, `removeOnce`, `insertOnce`), or the new document
 * itself when it is one of a collection declared `outbox` (a stock ledger's line, `insertCarrying`).
 * Then the events are sent. If the broker is unreachable (a Kafka outage) or the process dies
 * before the send, the events stay pending, and a relay on every node of the service sends them
 * later, oldest first. So a change is never saved without its events being sent eventually;
 * consumers recognise the rare second copy by its id or business key.
 *
 * The event carries the request id of the action or message being handled (as message headers),
 * so the consumer's calls, events and log lines keep it.
 */
export const domainEventsMixin: Partial<ServiceSchema> = defineMixin<object, OutboxMethods, OutboxVars>({
	methods: {
		domainEvent<E extends DomainEventType>(type: E, data: EventPayloads[E], key?: string): OutgoingEvent<E> {
			return { event: { id: randomUUID(), type, at: new Date().toISOString(), data }, ...(key ? { key } : {}) };
		},

		async publishEvents(events: OutgoingEvent[]): Promise<void> {
			const [first] = events;
			if (first) this.startDelivery({ collection: journalName(this.name), record: await this.record({ id: first.event.id, events }) });
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
				await this.applyChange(this.toEntity<JournalEntry>(await this.journal().findById(decision)));
				return false;
			}
			await this.applyOrRetract(entry);
			this.startDelivery({ collection: journalName(this.name), record: entry });
			return true;
		},

		async removeOnce(decision: string, filter: object, events: OutgoingEvent[]): Promise<boolean> {
			let entry: JournalEntry;
			try {
				entry = await this.record({ id: decision, filter, remove: true, events });
			} catch (err) {
				if (!this.isDuplicateKey(err)) throw err;
				return false;
			}
			await this.applyChange(entry);
			this.startDelivery({ collection: journalName(this.name), record: entry });
			return true;
		},

		async insertOnce(doc, events): Promise<void> {
			const entry = await this.record({ id: `insert:${doc._id}`, insert: doc, events });
			await this.applyOrRetract(entry);
			this.startDelivery({ collection: journalName(this.name), record: entry });
		},

		/**
		 * Applies a change just recorded. If the store refuses it for good (a unique value taken by
		 * another document), nothing happened, so its record goes and nothing is announced; any other
		 * failure (the database away) leaves the record for the relay to finish.
		 */
		async applyOrRetract(entry: JournalEntry): Promise<void> {
			try {
				if (entry.insert) await this.adapter.insert(entry.insert);
				else await this.applyChange(entry);
			} catch (err) {
				if (this.isDuplicateKey(err)) await this.journal().removeById(entry.id);
				throw err;
			}
		},

		async insertCarrying(collection, doc, events): Promise<void> {
			const carried = { ...doc, ...this.carrier(events) };
			await this.collection(collection).insert(carried);
			if (events.length > 0) this.startDelivery({ collection, record: { ...carried, id: doc._id } });
		},

		journal(): DbAdapter {
			return this.collection(journalName(this.name));
		},

		carrier(events: OutgoingEvent[]): Omit<Carrier, "id"> {
			const ctx = currentContext();
			return {
				events,
				...(ctx ? { origin: requestOrigin(ctx) } : {}),
				pending: events.length > 0,
				claimedUntil: new Date(0),
				createdAt: new Date(),
			};
		},

		async record({ id, events, ...change }) {
			const entry: JournalEntry = { id, ...change, ...this.carrier(events) };
			const { id: _id, ...stored } = entry;
			await this.journal().insert({ _id, ...stored });
			return entry;
		},

		/**
		 * The change a journal record decided, applied again (the relay, or the loser of a race
		 * finishing the winner's change): every kind can be repeated harmlessly. An insert whose
		 * document is there already was done.
		 */
		async applyChange({ filter, update, remove, insert }: JournalEntry): Promise<void> {
			if (filter && update) await this.adapter.updateMany(filter, { $set: update });
			if (filter && remove) await this.adapter.removeMany(filter);
			if (insert && !(await this.adapter.findById(insert._id))) await this.adapter.insert(insert);
		},

		/**
		 * Sends in the background: the change is saved, so the caller's answer does not wait for the
		 * broker (during a Kafka outage a send can take tens of seconds to fail).
		 */
		startDelivery(delivery: Delivery): void {
			if (!delivery.record.pending) return;
			const key = `${delivery.collection}/${delivery.record.id}`;
			const sent = this.deliver(delivery).finally(() => this.sending.delete(key));
			this.sending.set(key, sent);
		},

		/**
		 * Sends the carrier's events in order and marks them sent; true if it did. Never throws: what
		 * could not be sent stays pending for the relay (the change it announces is saved either way).
		 */
		async deliver(delivery: Delivery): Promise<boolean> {
			const { record } = delivery;
			try {
				const broker = this.broker as ChannelBroker;
				for (const { event, key } of record.events) {
					await broker.sendToChannel(event.type, event, {
						...(key ? { key } : {}),
						...(record.origin ? { ctx: eventOrigin(record.origin, this) } : {}),
					});
				}
				this.markSent(delivery);
				return true;
			} catch (err) {
				this.logger.warn(`Events of ${record.id} not sent yet (${(err as Error).message}); the relay will send them.`);
				return false;
			}
		},

		/**
		 * A decision's record must stay (it is what makes the change happen once), and a ledger line
		 * is stock history; a journal record that only carried events is dropped.
		 */
		markSent({ collection, record }: Delivery): void {
			const marks = this.sentMarks.get(collection) ?? { ids: [], dropped: [] };
			const eventsOnly = collection === journalName(this.name) && !record.filter && !record.insert;
			(eventsOnly ? marks.dropped : marks.ids).push(record.id);
			this.sentMarks.set(collection, marks);
			this.marksTimer ??= setTimeout(() => {
				this.marksTimer = null;
				this.flushSentMarks().catch((err: Error) =>
					this.logger.warn(`Could not mark sent events (the relay may send them again): ${err.message}`),
				);
			}, MARKS_DELAY_MS);
		},

		/**
		 * One write per collection for every carrier sent meanwhile, where the store reads an id list
		 * through its index; one write per carrier on the test stand-in (FerretDB), which scans for it.
		 */
		async flushSentMarks(): Promise<void> {
			const batches = [...this.sentMarks];
			this.sentMarks.clear();
			const sent = { $set: { pending: false, events: [] } };
			for (const [collection, { ids, dropped }] of batches) {
				const outbox = this.collection(collection);
				if (this.storeTraits.idListIndexed) {
					if (ids.length > 0) await outbox.updateMany({ _id: { $in: ids } }, sent);
					if (dropped.length > 0) await outbox.removeMany({ _id: { $in: dropped } });
				} else {
					for (const id of ids) await outbox.updateMany({ _id: id }, sent);
					for (const id of dropped) await outbox.removeById(id);
				}
			}
		},

		/** Sends what waits in each outbox, oldest first, and stops at the first failure to keep that order. */
		async relay(): Promise<void> {
			if (!(this.broker as ChannelBroker).channelAdapter?.connected) return;
			const now = Date.now();
			let sent = 0;
			for (const collection of this.outboxes) {
				const outbox = this.collection(collection);
				const waiting = await outbox.find({
					query: { pending: true, createdAt: { $lt: new Date(now - RELAY_AFTER_MS) } },
					sort: ["createdAt"],
					limit: 100,
				});
				for (const doc of waiting) {
					const record = this.toEntity<JournalEntry>(doc);
					if (this.sending.has(`${collection}/${record.id}`)) continue;
					const claimed = await outbox.updateMany(
						{ _id: record.id, pending: true, claimedUntil: { $lt: new Date(now) } },
						{ $set: { claimedUntil: new Date(now + CLAIM_MS) } },
					);
					if (claimed === 0) continue;
					// The writer may have died between its record and its change: finish the change first.
					if (collection === journalName(this.name))
						try {
							await this.applyChange(record);
						} catch (err) {
							if (!this.isDuplicateKey(err)) throw err;
							// Refused for good (a unique value taken meanwhile): it never happened, nothing to announce.
							await this.journal().removeById(record.id);
							continue;
						}
					if (!(await this.deliver({ collection, record }))) return;
					sent++;
				}
			}
			if (sent > 0) this.logger.info(`Relay sent the events of ${sent} record(s) that waited.`);
		},
	},

	created() {
		this.sending = new Map();
		this.sentMarks = new Map();
		this.marksTimer = null;
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
		if (this.marksTimer) clearTimeout(this.marksTimer);
		this.marksTimer = null;
		await this.flushSentMarks().catch((err: Error) => this.logger.warn(`Could not mark sent events at stop: ${err.message}`));
	},
});
