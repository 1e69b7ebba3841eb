import type { Context, Errors, Service, ServiceSchema, ServiceSettingSchema } from "moleculer";
import mongoose from "mongoose";
import { type AccountSnapshot, type AnyDomainEvent, type DomainEventType, type OrderSnapshot, onEvent } from "../../lib/contracts/events";
import { ADMINS_ROOM, PUSH_EVENT, type Push, STATS_EVENT, STATS_PUSH_INTERVAL_MS, Throttle } from "../../lib/contracts/realtime";
import {
	accountFacts,
	addFigures,
	DAY_MS,
	emptySum,
	type Fact,
	type Figures,
	HOUR_MS,
	hourOf,
	orderFacts,
	type ProductFigures,
	type SalesAnswer,
	type SalesQuery,
	type StatsPush,
	topProducts,
	totals,
} from "../../lib/contracts/sales-figures";
import { topicName } from "../../lib/platform/dead-letters";
import { settings } from "../../lib/platform/settings";
import { invalidFields } from "../../lib/platform/shop-error";
import type { DbAdapter } from "../../lib/platform/store";
import { readTopicsToNow } from "../../lib/platform/topic-replay";
import { type DbMethods, type DbVars, dbMixin } from "../../mixins/db.mixin";

/** A stored hour: the sum of its facts, and how many facts that sum holds. */
interface HourBucket extends Figures {
	id: string;
	at: Date;
	products: ProductFigures[];
	facts: number;
}

/** One pass of the refresher: per hour, the facts it adds (none: check the hour), and the handlers waiting for it. */
interface Pass {
	hours: Map<number, Fact[]>;
	done: Promise<void>;
	settle(err?: unknown): void;
}

interface InsightsVars extends DbVars {
	/** The pass that collects hours now; it starts when the running one ends. */
	next: Pass | null;
	running: Promise<void> | null;
	/**
	 * Announcements of today's totals, at most as often as a gateway passes them on: each one reads
	 * today's buckets and reaches every gateway, and under light load every event has a pass of its own.
	 */
	announcer: Throttle;
}

interface InsightsMethods extends DbMethods {
	facts(): DbAdapter;
	record(facts: Fact[], eventId: string): Promise<{ added: Fact[]; hours: number[] }>;
	project(facts: Fact[], eventId: string): Promise<void>;
	refresh(hours: Iterable<number>, added?: Fact[]): Promise<void>;
	runPasses(): void;
	addToHour(hour: number, added: Fact[]): Promise<Set<string> | null>;
	recompute(hour: number): Promise<Set<string>>;
	forgetCounted(hour: number, counted: Set<string>): void;
	figuresBetween(from: Date, to: Date): Promise<HourBucket[]>;
	announce(): Promise<void>;
	replayTopics(): Promise<{ source: string; read: number; hours: Set<number> }>;
	replayStores(ctx: Context): Promise<{ source: string; read: number; hours: Set<number> }>;
}

const FACTS = "insights-facts";
const MAX_RANGE_DAYS = 92;
/** Orders and accounts asked for at a time when a rebuild reads the stores. */
const SCAN_PAGE = 500;
/** Full ISO 8601 dates: a day, or a day and time with an optional zone. */
const ISO_DATE =
	/^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])(T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,9})?)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)?)?$/;
/** The channels whose events carry the facts; payment verdicts arrive as the order's `order.updated`. */
const ORDER_CHANNELS = ["order.created", "order.updated", "order.cancelled"] as const satisfies readonly DomainEventType[];
const ACCOUNT_CHANNELS = ["user.registered"] as const satisfies readonly DomainEventType[];

const { Mixed } = mongoose.Schema.Types;
const FIGURE_FIELDS = {
	orders: { type: Number, required: true },
	revenue: { type: Number, required: true },
	paid: { type: Number, required: true },
	cancelled: { type: Number, required: true },
	failed: { type: Number, required: true },
	newCustomers: { type: Number, required: true },
	products: Mixed,
};

function invalid(field: string, message: string, type = "range"): Errors.ValidationError {
	return invalidFields(message, [{ field, message, type }]);
}

/** The date of an ISO_DATE string; JavaScript alone would roll 2026-02-30 over into March. */
function parseDate(field: string, value: string): Date {
	const [year = 0, month = 0, day = 0] = value.slice(0, 10).split("-").map(Number);
	const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
	const at = new Date(value);
	if (month < 1 || month > 12 || day < 1 || day > daysInMonth || Number.isNaN(at.getTime()))
		throw invalid(field, `${value} is not a date`, "date");
	return at;
}

/** The facts of a domain event, or none for an event this model does not read. */
function factsOf(event: AnyDomainEvent): Fact[] {
	switch (event.type) {
		case "order.created":
		case "order.updated":
		case "order.cancelled":
			return orderFacts(event.data);
		case "user.registered":
			return accountFacts(event.data);
		default:
			return [];
	}
}

type InsightsThis = Service & InsightsMethods & InsightsVars;

/** Stores an event's facts and recomputes their hours: the handler of every channel this model reads. */
async function projectEvent(this: InsightsThis, _data: unknown, event: AnyDomainEvent): Promise<void> {
	await this.project(factsOf(event), event.id);
}

/**
 * The sales read model: per-hour figures (orders, revenue, cancellations, failures, new customers,
 * units and revenue per product), fed by the durable order and account events.
 *
 * Each event is turned into facts ("order X was paid at T", see lib/contracts/sales-figures.ts) that are
 * stored under their own key: the unique key is what makes a redelivered or replayed event change
 * nothing (FerretDB's unique indexes hold where its conditional updates do not). The new facts are
 * then added to their hour's bucket, checked against the number of facts the hour has; when that
 * check fails (another node wrote meanwhile, a crash between the two steps) the bucket is recomputed
 * from all its facts and written as absolute values, so several nodes may share the consumer group.
 * A handler returns once its hours hold its facts, so an event is acknowledged only when the
 * figures hold it. Passes are batched: the events that arrive while one pass runs share the next.
 */
const InsightsService: ServiceSchema<ServiceSettingSchema, InsightsMethods, InsightsVars> = {
	name: "insights",
	mixins: [
		dbMixin(
			{
				name: "insights",
				fields: { at: { type: Date, required: true }, facts: { type: Number, required: true }, ...FIGURE_FIELDS },
				indexes: [{ fields: { at: 1 } }],
			},
			[
				{
					name: FACTS,
					fields: {
						eventId: { type: String, required: true },
						at: { type: Date, required: true },
						hour: { type: Date, required: true },
						...FIGURE_FIELDS,
					},
					indexes: [{ fields: { hour: 1 } }],
				},
			],
		),
	],

	channels: {
		"order.created": onEvent("order.created", "insights", projectEvent),
		"order.updated": onEvent("order.updated", "insights", projectEvent),
		"order.cancelled": onEvent("order.cancelled", "insights", projectEvent),
		"user.registered": onEvent("user.registered", "insights", projectEvent),
	},

	actions: {
		sales: {
			auth: "admin",
			params: {
				from: {
					type: "string",
					pattern: ISO_DATE,
					max: 40,
					messages: { stringPattern: "Use an ISO 8601 date, e.g. 2026-01-31T00:00:00Z" },
				},
				to: { type: "string", pattern: ISO_DATE, max: 40, messages: { stringPattern: "Use an ISO 8601 date, e.g. 2026-01-31T00:00:00Z" } },
				bucket: { type: "enum", values: ["hour", "day"], default: "hour" },
			},
			async handler(ctx: Context<SalesQuery>): Promise<SalesAnswer> {
				const from = parseDate("from", ctx.params.from);
				const to = parseDate("to", ctx.params.to);
				const length = to.getTime() - from.getTime();
				if (length <= 0) throw invalid("to", "to must be after from");
				if (length > MAX_RANGE_DAYS * DAY_MS) throw invalid("to", `A range spans at most ${MAX_RANGE_DAYS} days`);
				const before = new Date(from.getTime() - length);
				const hours = await this.figuresBetween(before, to);

				const step = ctx.params.bucket === "day" ? DAY_MS : HOUR_MS;
				const buckets = Array.from({ length: Math.ceil(length / step) }, (_, index) => ({
					at: new Date(from.getTime() + index * step).toISOString(),
					orders: 0,
					revenue: 0,
					cancelled: 0,
				}));
				const current = emptySum();
				const previous = emptySum();
				for (const hour of hours) {
					const offset = hour.at.getTime() - from.getTime();
					addFigures(offset >= 0 ? current : previous, hour);
					const bucket = offset >= 0 ? buckets[Math.floor(offset / step)] : undefined;
					if (!bucket) continue;
					bucket.orders += hour.orders;
					bucket.revenue += hour.revenue;
					bucket.cancelled += hour.cancelled;
				}
				return { totals: totals(current), previous: totals(previous), buckets, topProducts: topProducts(current.products.values()) };
			},
		},

		/** Operators (`insights-rebuild`): drops the figures and builds them again from the source of truth. */
		rebuild: {
			visibility: "public",
			async handler(ctx: Context) {
				await Promise.all([this.adapter.removeMany({}), this.facts().removeMany({})]);
				const { source, read, hours } = settings().channelsBrokers ? await this.replayTopics() : await this.replayStores(ctx);
				await this.refresh(hours);
				const facts = await this.facts().count({});
				this.logger.info(`Rebuilt the sales figures from ${read} ${source}: ${facts} fact(s) in ${hours.size} hour(s).`);
				return { source, read, facts, hours: hours.size };
			},
		},
	},

	methods: {
		facts(): DbAdapter {
			return this.collections[FACTS] as DbAdapter;
		},

		/**
		 * Stores the facts not stored yet. Answers those it stored, and the hours of all of them: a
		 * fact stored before may be a crashed writer's that no bucket holds yet, so its hour is checked.
		 */
		async record(facts: Fact[], eventId: string): Promise<{ added: Fact[]; hours: number[] }> {
			const added: Fact[] = [];
			for (const fact of facts) {
				const { key, ...fields } = fact;
				try {
					await this.facts().insert({ _id: key, eventId, hour: hourOf(fact.at), ...fields });
					added.push(fact);
				} catch (err) {
					if (!this.isDuplicateKey(err)) throw err;
				}
			}
			return { added, hours: facts.map((fact) => hourOf(fact.at).getTime()) };
		},

		async project(facts: Fact[], eventId: string): Promise<void> {
			if (facts.length === 0) return;
			const { added, hours } = await this.record(facts, eventId);
			await this.refresh(hours, added);
		},

		/** Resolves once a pass that started after this call has brought the hours up to date, `added` facts included. */
		refresh(hours: Iterable<number>, added: Fact[] = []): Promise<void> {
			if (!this.next) {
				let settle: Pass["settle"] = () => {};
				const done = new Promise<void>((resolve, reject) => {
					settle = (err) => (err ? reject(err) : resolve());
				});
				this.next = { hours: new Map(), done, settle };
			}
			const pass = this.next;
			for (const hour of hours) if (!pass.hours.has(hour)) pass.hours.set(hour, []);
			for (const fact of added) pass.hours.get(hourOf(fact.at).getTime())?.push(fact);
			const { done } = pass;
			this.runPasses();
			return done;
		},

		runPasses(): void {
			if (this.running) return;
			this.running = (async () => {
				while (this.next) {
					const pass = this.next;
					this.next = null;
					try {
						for (const [hour, added] of pass.hours) {
							const counted = await this.addToHour(hour, added);
							if (counted) this.forgetCounted(hour, counted);
						}
						pass.settle();
					} catch (err) {
						pass.settle(err);
						continue;
					}
					this.announcer.call();
				}
				this.running = null;
			})();
		},

		/**
		 * Adds the facts this node just stored to their hour's bucket: one read and one write, however
		 * full the hour. The write holds only if the bucket still has the facts it was read with, and
		 * the bucket must then hold exactly as many facts as the hour has; anything else (the first
		 * facts of an hour, another node's write in between, a fact a crashed writer stored but never
		 * added, FerretDB letting two conditional writes through) recomputes the hour from its facts.
		 * Answers the keys of the facts a recompute counted, or null if it added `added` alone.
		 */
		async addToHour(hour: number, added: Fact[]): Promise<Set<string> | null> {
			const id = new Date(hour).toISOString();
			const doc = added.length > 0 ? await this.adapter.findById(id) : null;
			if (doc) {
				const stored = this.toEntity<HourBucket>(doc);
				const sum = emptySum();
				addFigures(sum, { ...stored, products: stored.products ?? [] });
				for (const fact of added) addFigures(sum, fact);
				const { products, ...figures } = sum;
				const bucket = { facts: stored.facts + added.length, ...figures, products: [...products.values()] };
				const written = await this.adapter.updateMany({ _id: id, facts: stored.facts }, { $set: bucket });
				const present = written > 0 ? await this.facts().count({ query: { hour: new Date(hour) } }) : -1;
				if (present === bucket.facts) return null;
			}
			return this.recompute(hour);
		},

		/**
		 * Writes the hour as the sum of its facts. Facts are only ever added, so a sum of more facts is
		 * newer, and a writer holding fewer never overwrites it. FerretDB may still let two such
		 * conditional writes through at once (the older sum last): so every writer looks again after
		 * its write and starts over while the bucket holds fewer facts than the hour has. The last
		 * writer always looks last, so the bucket ends up holding every fact. Answers the keys of the
		 * facts it counted.
		 */
		async recompute(hour: number): Promise<Set<string>> {
			const at = new Date(hour);
			const id = at.toISOString();
			for (;;) {
				const facts = (await this.facts().find({ query: { hour: at } })).map((doc) => this.toEntity<Fact & { id: string }>(doc));
				if (facts.length === 0) return new Set();
				const sum = emptySum();
				for (const fact of facts) addFigures(sum, fact);
				const { products, ...figures } = sum;
				const bucket = { at, facts: facts.length, ...figures, products: [...products.values()] };
				if ((await this.adapter.updateMany({ _id: id, facts: { $lt: facts.length } }, { $set: bucket })) === 0) {
					try {
						await this.adapter.insert({ _id: id, ...bucket });
					} catch (err) {
						if (!this.isDuplicateKey(err)) throw err;
					}
				}
				const [stored, present] = await Promise.all([this.adapter.findById(id), this.facts().count({ query: { hour: at } })]);
				if (stored && this.toEntity<HourBucket>(stored).facts >= present) return new Set(facts.map((fact) => fact.id));
			}
		},

		/**
		 * A recompute reads every fact of the hour stored so far, also those the next pass is to add
		 * (stored while this one ran): adding them again would count them twice.
		 */
		forgetCounted(hour: number, counted: Set<string>): void {
			const queued = this.next?.hours.get(hour);
			if (queued)
				this.next?.hours.set(
					hour,
					queued.filter((fact) => !counted.has(fact.key)),
				);
		},

		async figuresBetween(from: Date, to: Date): Promise<HourBucket[]> {
			const docs = await this.adapter.find({ query: { at: { $gte: from, $lt: to } } });
			return docs.map((doc) => {
				const bucket = this.toEntity<HourBucket>(doc);
				return { ...bucket, at: new Date(bucket.at), products: bucket.products ?? [] };
			});
		},

		/** Tells every gateway today's totals; each passes them to its admins at most once a second. */
		async announce(): Promise<void> {
			const from = new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS);
			const to = new Date(from.getTime() + DAY_MS);
			const sum = emptySum();
			for (const hour of await this.figuresBetween(from, to)) addFigures(sum, hour);
			const payload: StatsPush = { from: from.toISOString(), to: to.toISOString(), totals: totals(sum) };
			await this.broker.broadcast(PUSH_EVENT, { event: STATS_EVENT, rooms: [ADMINS_ROOM], payload } satisfies Push);
		},

		/** Reads every order and account event Kafka keeps, as a consumer group of its own that starts at the beginning. */
		async replayTopics() {
			const { channelsBrokers, topicPrefix } = settings();
			const hours = new Set<number>();
			const read = await readTopicsToNow(
				{
					brokers: channelsBrokers ?? [],
					topics: [...ORDER_CHANNELS, ...ACCOUNT_CHANNELS].map((type) => topicName(topicPrefix, type)),
					groupId: topicName(topicPrefix, `insights-rebuild-${Date.now()}`),
				},
				async ({ value }) => {
					// Read back from Kafka: each of these topics carries its own event type.
					const event = JSON.parse(value?.toString() ?? "null") as AnyDomainEvent | null;
					if (!event?.id || !event.type) return;
					for (const hour of (await this.record(factsOf(event), event.id)).hours) hours.add(hour);
				},
			);
			return { source: "events on Kafka", read, hours };
		},

		/** The embedded mode keeps no event log: the orders and accounts stores are the source. */
		async replayStores(ctx: Context) {
			const hours = new Set<number>();
			let read = 0;
			for (const [action, factsFor] of [
				["orders.scan", (order: unknown) => orderFacts(order as OrderSnapshot)],
				["users.scan", (account: unknown) => accountFacts(account as AccountSnapshot)],
			] as const) {
				for (let offset = 0; ; offset += SCAN_PAGE) {
					const page = await ctx.call<unknown[], { offset: number; limit: number }>(action, { offset, limit: SCAN_PAGE });
					for (const entity of page) {
						const id = (entity as { id: string }).id;
						for (const hour of (await this.record(factsFor(entity), `rebuild:${id}`)).hours) hours.add(hour);
					}
					read += page.length;
					if (page.length < SCAN_PAGE) break;
				}
			}
			return { source: "orders and accounts in the stores", read, hours };
		},
	},

	created() {
		this.next = null;
		this.running = null;
		this.announcer = new Throttle(STATS_PUSH_INTERVAL_MS, () => {
			this.announce().catch((err: Error) => this.logger.warn("Could not announce the new sales figures:", err.message));
		});
	},

	async stopped() {
		await this.running;
		this.announcer.stop();
	},
};

export default InsightsService;
