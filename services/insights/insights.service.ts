import type { Context, Errors, Service, ServiceSchema, ServiceSettingSchema } from "moleculer";
import { type AccountSnapshot, type AnyDomainEvent, type DomainEventType, type OrderSnapshot, onEvent } from "../../lib/contracts/events";
import { ADMINS_ROOM, STATS_EVENT, STATS_PUSH_INTERVAL_MS, Throttle } from "../../lib/contracts/realtime";
import {
	accountFacts,
	addFigures,
	DAY_MS,
	emptySum,
	type Fact,
	HOUR_MS,
	orderFacts,
	type SalesAnswer,
	type SalesQuery,
	type StatsPush,
	topProducts,
	totals,
} from "../../lib/contracts/sales-figures";
import { topicName } from "../../lib/platform/dead-letters";
import { sendPush } from "../../lib/platform/pushes";
import { settings } from "../../lib/platform/settings";
import { invalidFields } from "../../lib/platform/shop-error";
import { readTopicsToNow } from "../../lib/platform/topic-replay";
import { type DbMethods, type DbVars, dbMixin } from "../../mixins/db.mixin";
import { BUCKETS_SPEC, FACTS, FACTS_SPEC, SalesProjection } from "./projection";

interface InsightsVars extends DbVars {
	projection: SalesProjection;
	/**
	 * Announcements of today's totals, at most as often as a gateway passes them on: each one reads
	 * today's buckets and reaches every gateway, and under light load every event has a pass of its own.
	 */
	announcer: Throttle;
}

interface InsightsMethods extends DbMethods {
	announce(): Promise<void>;
	replayTopics(): Promise<{ source: string; read: number; hours: Set<number> }>;
	replayStores(ctx: Context): Promise<{ source: string; read: number; hours: Set<number> }>;
}

const MAX_RANGE_DAYS = 92;
/** Orders and accounts asked for at a time when a rebuild reads the stores. */
const SCAN_PAGE = 500;
/** Full ISO 8601 dates: a day, or a day and time with an optional zone. */
const ISO_DATE =
	/^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])(T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,9})?)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)?)?$/;
/** The channels whose events carry the facts; payment verdicts arrive as the order's `order.updated`. */
const ORDER_CHANNELS = ["order.created", "order.updated", "order.cancelled"] as const satisfies readonly DomainEventType[];
const ACCOUNT_CHANNELS = ["user.registered"] as const satisfies readonly DomainEventType[];

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
	await this.projection.project(factsOf(event), event.id);
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
	mixins: [dbMixin(BUCKETS_SPEC, [FACTS_SPEC])],

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
				const hours = await this.projection.figuresBetween(before, to);

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
				await this.projection.clear();
				const { source, read, hours } = settings().channelsBrokers ? await this.replayTopics() : await this.replayStores(ctx);
				await this.projection.refresh(hours);
				const facts = await this.collection(FACTS).count({});
				this.logger.info(`Rebuilt the sales figures from ${read} ${source}: ${facts} fact(s) in ${hours.size} hour(s).`);
				return { source, read, facts, hours: hours.size };
			},
		},
	},

	methods: {
		/** Tells every gateway today's totals; each passes them to its admins at most once a second. */
		async announce(): Promise<void> {
			const from = new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS);
			const to = new Date(from.getTime() + DAY_MS);
			const sum = emptySum();
			for (const hour of await this.projection.figuresBetween(from, to)) addFigures(sum, hour);
			const payload: StatsPush = { from: from.toISOString(), to: to.toISOString(), totals: totals(sum) };
			await sendPush(this.broker, { event: STATS_EVENT, rooms: [ADMINS_ROOM], payload });
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
					for (const hour of (await this.projection.record(factsOf(event), event.id)).hours) hours.add(hour);
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
						for (const hour of (await this.projection.record(factsFor(entity), `rebuild:${id}`)).hours) hours.add(hour);
					}
					read += page.length;
					if (page.length < SCAN_PAGE) break;
				}
			}
			return { source: "orders and accounts in the stores", read, hours };
		},
	},

	created() {
		this.announcer = new Throttle(STATS_PUSH_INTERVAL_MS, () => {
			this.announce().catch((err: Error) => this.logger.warn("Could not announce the new sales figures:", err.message));
		});
		this.projection = new SalesProjection({
			buckets: this.adapter,
			facts: this.collection(FACTS),
			traits: () => this.storeTraits,
			isDuplicateKey: (err) => this.isDuplicateKey(err),
			toEntity: (doc) => this.toEntity(doc),
			changed: () => this.announcer.call(),
		});
	},

	async stopped() {
		await this.projection.settled();
		this.announcer.stop();
	},
};

export default InsightsService;
