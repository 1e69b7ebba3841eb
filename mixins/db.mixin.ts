import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { ServiceSchema } from "moleculer";
import DbService, { MemoryAdapter } from "moleculer-db";
import MongooseAdapter from "moleculer-db-adapter-mongoose";
import mongoose from "mongoose";
import { defineMixin } from "../lib/schema";
import { settings } from "../lib/settings";

export interface IndexSpec {
	fields: Record<string, 1 | -1>;
	unique?: boolean;
	/** Unique only among documents that have the field (e.g. optional idempotency keys). */
	sparse?: boolean;
}

export interface CollectionSpec {
	/** Collection (MongoDB) or file (`DATA_DIR/<name>.db`) name. */
	name: string;
	/** Field definitions, as mongoose takes them; `_id` is always a string UUID. */
	fields: mongoose.SchemaDefinition;
	indexes?: IndexSpec[];
}

/** A stored document as services see it: `id` instead of `_id`, plain JSON-able values. */
export type Entity = { id: string };

export interface FindFilters {
	query?: object;
	sort?: string[];
	limit?: number;
	offset?: number;
}

/** The adapter methods services use; both adapters implement them the same way. */
export interface DbAdapter {
	find(filters: FindFilters): Promise<unknown[]>;
	findOne(query: object): Promise<unknown>;
	findById(id: string): Promise<unknown>;
	count(filters?: { query?: object }): Promise<number>;
	insert(doc: object): Promise<unknown>;
	updateById(id: string, update: object): Promise<unknown>;
	/** How many documents matched and changed: the primitive for atomic conditional updates. */
	updateMany(query: object, update: object): Promise<number>;
	removeById(id: string): Promise<unknown>;
	removeMany(query: object): Promise<number>;
	entityToObject(doc: unknown): Record<string, unknown>;
}

/** What the mixin adds to a service's `this`. */
export interface DbMethods {
	/** A stored document as plain JSON with `id`. */
	toEntity<T extends Entity>(doc: unknown): T;
	newId(): string;
	isDuplicateKey(err: unknown): boolean;
}

export interface DbVars {
	adapter: DbAdapter;
}

interface NedbStore {
	loadDatabase(): Promise<void>;
	ensureIndex(options: { fieldName?: string; unique?: boolean; sparse?: boolean }): Promise<void>;
}

/** The adapters' own handles, used only to prepare indexes. */
interface AdapterInternals {
	db: NedbStore;
	model: mongoose.Model<unknown>;
}

// moleculer-db's typings describe a class, but the package exports a mixin schema.
const DbServiceMixin = DbService as unknown as Partial<ServiceSchema>;

const GENERATED_ACTIONS = ["find", "count", "list", "create", "insert", "get", "update", "remove"] as const;

function hasProperty(err: unknown, key: string, value: unknown): boolean {
	return typeof err === "object" && err !== null && (err as Record<string, unknown>)[key] === value;
}

/**
 * Gives a service one collection through moleculer-db: MongoDB via mongoose when `MONGO_URI` is
 * set, else a NeDB file under `DATA_DIR`. Ids are string UUIDs in both, so a malformed id is just
 * "not found" rather than a cast error, and unique indexes behave the same.
 */
export function dbMixin(spec: CollectionSpec): Partial<ServiceSchema> {
	const { mongoUri, dataDir } = settings();
	const indexes = spec.indexes ?? [];
	let storage: Pick<ServiceSchema, "adapter" | "model">;

	if (mongoUri) {
		const schema = new mongoose.Schema(
			{ _id: { type: String, default: () => randomUUID() }, ...spec.fields },
			{ versionKey: false, minimize: false, strict: true },
		);
		for (const index of indexes) schema.index(index.fields, { unique: index.unique, sparse: index.sparse });
		storage = {
			adapter: new MongooseAdapter(mongoUri, { serverSelectionTimeoutMS: 5_000 }),
			model: { modelName: spec.name, schema },
		};
	} else {
		mkdirSync(dataDir, { recursive: true });
		storage = { adapter: new MemoryAdapter({ filename: path.join(dataDir, `${spec.name}.db`) }) };
	}

	return defineMixin<{ idField: string }, DbMethods, DbVars>({
		mixins: [DbServiceMixin],
		...storage,
		settings: { idField: "id" },
		actions: {
			// moleculer-db would publish generic CRUD actions; each service exposes its own instead.
			...Object.fromEntries(GENERATED_ACTIONS.map((name) => [name, false])),
			/** Whether this service's database answers; the gateway's `/api/ready` asks every one. */
			ready: {
				visibility: "public",
				async handler() {
					await this.adapter.count({ query: { _id: "readiness-probe" } });
					return true;
				},
			},
		},
		methods: {
			toEntity<T extends Entity>(doc: unknown): T {
				const { _id, ...rest } = this.adapter.entityToObject(doc);
				return { id: String(_id), ...rest } as T;
			},
			newId(): string {
				return randomUUID();
			},
			isDuplicateKey(err: unknown): boolean {
				return hasProperty(err, "code", 11000) || hasProperty(err, "errorType", "uniqueViolated");
			},
		},
		async afterConnected() {
			const adapter = this.adapter as DbAdapter & AdapterInternals;
			if (mongoUri) {
				await adapter.model.init();
				return;
			}
			await adapter.db.loadDatabase();
			// The NeDB that moleculer-db ships indexes single fields only; every unique business key
			// in Agora is one field, and the other indexes are only lookups.
			for (const index of indexes) {
				const [fieldName] = Object.keys(index.fields);
				await adapter.db.ensureIndex({ fieldName, unique: index.unique, sparse: index.sparse });
			}
		},
	});
}
