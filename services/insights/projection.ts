/**
 * The sales read model's storage: facts ("order X was paid at T", lib/contracts/sales-figures.ts)
 * under their own key, so a redelivered or replayed event adds nothing, and per-hour buckets that
 * sum them. Handlers store their facts, then wait for a pass that adds them to their hours: the
 * events that arrive while one pass runs share the next, so a pass costs the same for one event or
 * fifty.
 */
import mongoose from "mongoose";
import { addFigures, emptySum, type Fact, type Figures, hourOf, type ProductFigures } from "../../lib/contracts/sales-figures";
import type { CollectionSpec, DbAdapter, Entity, StoreTraits } from "../../lib/platform/store";

/** A stored hour: the sum of its facts, and how many facts that sum holds. */
export interface HourBucket extends Figures {
	id: string;
	at: Date;
	products: ProductFigures[];
	facts: number;
}

/** One pass: per hour, the facts it adds (none: check the hour), and the handlers waiting for it. */
interface Pass {
	hours: Map<number, Fact[]>;
	done: Promise<void>;
	settle(err?: unknown): void;
}

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

export const FACTS = "insights-facts";

export const BUCKETS_SPEC: CollectionSpec = {
	name: "insights",
	fields: { at: { type: Date, required: true }, facts: { type: Number, required: true }, ...FIGURE_FIELDS },
	indexes: [{ fields: { at: 1 } }],
};

export const FACTS_SPEC: CollectionSpec = {
	name: FACTS,
	fields: {
		eventId: { type: String, required: true },
		at: { type: Date, required: true },
		hour: { type: Date, required: true },
		...FIGURE_FIELDS,
	},
	indexes: [{ fields: { hour: 1 } }],
};

/** What the projection needs of the insights service. */
export interface ProjectionHost {
	buckets: DbAdapter;
	facts: DbAdapter;
	traits(): StoreTraits;
	isDuplicateKey(err: unknown): boolean;
	toEntity<T extends Entity>(doc: unknown): T;
	/** After a pass has changed figures: today's totals may have moved. */
	changed(): void;
}

function bucketOf(at: Date, facts: number, sum: ReturnType<typeof emptySum>) {
	const { products, ...figures } = sum;
	return { at, facts, ...figures, products: [...products.values()] };
}

export class SalesProjection {
	/** The pass that collects hours now; it starts when the running one ends. */
	private next: Pass | null = null;
	private running: Promise<void> | null = null;
	/** Each hour's bucket as this node last wrote it: the next pass adds to it without reading it back. */
	private readonly written = new Map<number, HourBucket>();

	constructor(private readonly host: ProjectionHost) {}

	/**
	 * Stores the facts not stored yet. Answers those it stored, and the hours of all of them: a
	 * fact stored before may be a crashed writer's that no bucket holds yet, so its hour is checked.
	 */
	async record(facts: Fact[], eventId: string): Promise<{ added: Fact[]; hours: number[] }> {
		const added: Fact[] = [];
		for (const fact of facts) {
			const { key, ...fields } = fact;
			try {
				await this.host.facts.insert({ _id: key, eventId, hour: hourOf(fact.at), ...fields });
				added.push(fact);
			} catch (err) {
				if (!this.host.isDuplicateKey(err)) throw err;
			}
		}
		return { added, hours: facts.map((fact) => hourOf(fact.at).getTime()) };
	}

	/** Stores an event's facts and resolves once their hours hold them. */
	async project(facts: Fact[], eventId: string): Promise<void> {
		if (facts.length === 0) return;
		const { added, hours } = await this.record(facts, eventId);
		await this.refresh(hours, added);
	}

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
		this.runPasses();
		return pass.done;
	}

	async figuresBetween(from: Date, to: Date): Promise<HourBucket[]> {
		const docs = await this.host.buckets.find({ query: { at: { $gte: from, $lt: to } } });
		return docs.map((doc) => {
			const bucket = this.host.toEntity<HourBucket>(doc);
			return { ...bucket, at: new Date(bucket.at), products: bucket.products ?? [] };
		});
	}

	/** Drops everything (a rebuild starts from nothing). */
	async clear(): Promise<void> {
		this.written.clear();
		await Promise.all([this.host.buckets.removeMany({}), this.host.facts.removeMany({})]);
	}

	/** Waits for the pass under way. */
	async settled(): Promise<void> {
		await this.running;
	}

	private runPasses(): void {
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
				this.host.changed();
			}
			this.running = null;
		})();
	}

	/**
	 * Adds the facts this node just stored to their hour's bucket with one conditional write: it
	 * holds only if the bucket still has the facts it was read (or last written) with. On a store
	 * that applies conditional writes atomically that is enough; on the test stand-in (FerretDB),
	 * which may let two through, the bucket must then also hold exactly as many facts as the hour
	 * has. Anything else (the first facts of an hour, another node's write in between, a fact a
	 * crashed writer stored but never added) recomputes the hour from its facts. Answers the keys of
	 * the facts a recompute counted, or null if it added `added` alone.
	 */
	private async addToHour(hour: number, added: Fact[]): Promise<Set<string> | null> {
		const id = new Date(hour).toISOString();
		const stored = added.length > 0 ? (this.written.get(hour) ?? (await this.read(id))) : null;
		if (stored) {
			const sum = emptySum();
			addFigures(sum, { ...stored, products: stored.products ?? [] });
			for (const fact of added) addFigures(sum, fact);
			const bucket = bucketOf(stored.at, stored.facts + added.length, sum);
			const written = await this.host.buckets.updateMany({ _id: id, facts: stored.facts }, { $set: bucket });
			if (
				written > 0 &&
				(this.host.traits().atomicUpdates || (await this.host.facts.count({ query: { hour: new Date(hour) } })) === bucket.facts)
			) {
				this.written.set(hour, { id, ...bucket });
				return null;
			}
		}
		return this.recompute(hour);
	}

	private async read(id: string): Promise<HourBucket | null> {
		const doc = await this.host.buckets.findById(id);
		return doc ? this.host.toEntity<HourBucket>(doc) : null;
	}

	/**
	 * Writes the hour as the sum of its facts. Facts are only ever added, so a sum of more facts is
	 * newer, and a writer holding fewer never overwrites it. FerretDB may still let two such
	 * conditional writes through at once (the older sum last): so every writer looks again after
	 * its write and starts over while the bucket holds fewer facts than the hour has. The last
	 * writer always looks last, so the bucket ends up holding every fact. Answers the keys of the
	 * facts it counted.
	 */
	private async recompute(hour: number): Promise<Set<string>> {
		const at = new Date(hour);
		const id = at.toISOString();
		this.written.delete(hour);
		for (;;) {
			const facts = (await this.host.facts.find({ query: { hour: at } })).map((doc) => this.host.toEntity<Fact & { id: string }>(doc));
			if (facts.length === 0) return new Set();
			const sum = emptySum();
			for (const fact of facts) addFigures(sum, fact);
			const bucket = bucketOf(at, facts.length, sum);
			if ((await this.host.buckets.updateMany({ _id: id, facts: { $lt: facts.length } }, { $set: bucket })) === 0) {
				try {
					await this.host.buckets.insert({ _id: id, ...bucket });
				} catch (err) {
					if (!this.host.isDuplicateKey(err)) throw err;
				}
			}
			const [stored, present] = await Promise.all([this.read(id), this.host.facts.count({ query: { hour: at } })]);
			if (stored && stored.facts >= present) return new Set(facts.map((fact) => fact.id));
		}
	}

	/**
	 * A recompute reads every fact of the hour stored so far, also those the next pass is to add
	 * (stored while this one ran): adding them again would count them twice.
	 */
	private forgetCounted(hour: number, counted: Set<string>): void {
		const queued = this.next?.hours.get(hour);
		if (queued)
			this.next?.hours.set(
				hour,
				queued.filter((fact) => !counted.has(fact.key)),
			);
	}
}
