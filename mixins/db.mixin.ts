import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, renameSync } from "node:fs";
import path from "node:path";
import { type Context, Errors, type Logger, type ServiceSchema } from "moleculer";
import DbService, { MemoryAdapter } from "moleculer-db";
import MongooseAdapter from "moleculer-db-adapter-mongoose";
import mongoose from "mongoose";
import type { ErrorType } from "../lib/contracts/errors";
import { defineMixin } from "../lib/platform/schema";
import { type Settings, settings } from "../lib/platform/settings";
import { SqliteAdapter } from "../lib/platform/sqlite-adapter";
import type { CollectionSpec, DbAdapter, Entity, StoreTraits } from "../lib/platform/store";

/** What the mixin adds to a service's `this`. */
export interface DbMethods {
	/** A stored document (of any of the service's collections) as plain data with `id`. */
	toEntity<T extends Entity>(doc: unknown): T;
	newId(): string;
	isDuplicateKey(err: unknown): boolean;
	/** Drops cached reads of this service on every node. */
	clearCache(): Promise<void>;
	/** The service's documents with these ids (those that exist). */
	findByIds(ids: string[]): Promise<unknown[]>;
	/** Another collection the service owns (`extra` of dbMixin, or its journal). */
	collection(name: string): DbAdapter;
}

export interface DbVars {
	adapter: DbAdapter;
	collections: Record<string, DbAdapter>;
	/** What the store behind this service does well; known once it has connected. */
	storeTraits: StoreTraits;
	/** The collections whose documents carry their own pending events: the journal, and those declared `outbox`. */
	outboxes: string[];
}

interface AdapterLifecycle {
	init(broker: unknown, service: object): void;
	connect(): Promise<void>;
	disconnect(): Promise<void>;
}

interface MongooseModelSpec {
	modelName: string;
	schema: mongoose.Schema;
}

/** The mongoose adapter's own handle, used only to prepare indexes. */
interface AdapterInternals {
	model: mongoose.Model<unknown>;
}

// moleculer-db's typings describe a class, but the package exports a mixin schema.
const DbServiceMixin = DbService as unknown as Partial<ServiceSchema>;

const GENERATED_ACTIONS = ["find", "count", "list", "create", "insert", "get", "update", "remove"] as const;

/** The driver's errors for "cannot reach the database" (as opposed to a bad query). */
const UNREACHABLE = [
	mongoose.mongo.MongoNetworkError,
	mongoose.mongo.MongoServerSelectionError,
	mongoose.mongo.MongoNotConnectedError,
	mongoose.mongo.MongoTopologyClosedError,
];

/** A 503 the client may retry, instead of a 500 or a hang, while the database is down. */
export class DatabaseUnavailableError extends Errors.MoleculerRetryableError {
	constructor() {
		super("The database is unreachable; try again shortly", 503, "DATABASE_UNAVAILABLE" satisfies ErrorType);
		this.name = "DatabaseUnavailableError";
	}
}

function hasProperty(err: unknown, key: string, value: unknown): boolean {
	return typeof err === "object" && err !== null && (err as Record<string, unknown>)[key] === value;
}

/**
 * Whether `err` says the database cannot be reached: one of the driver's errors for it, or Node's
 * EPIPE, which the driver passes on unwrapped when it writes to a connection the database closed
 * (a database restart under load answered a client 500 with it).
 */
export function databaseUnreachable(err: unknown): boolean {
	return UNREACHABLE.some((type) => err instanceof type) || hasProperty(err, "code", "EPIPE");
}

/**
 * mongoose hands back documents, the SQLite adapter plain objects. (The mongoose adapter's own
 * converter is asynchronous, so it cannot serve both.)
 */
function plainDocument(doc: unknown): Record<string, unknown> {
	const maybeModel = doc as { toJSON?: () => Record<string, unknown> };
	return typeof maybeModel.toJSON === "function" ? maybeModel.toJSON() : (doc as Record<string, unknown>);
}

/** The name of a service's journal: its decided changes and the events waiting to be sent. */
export const journalName = (service: string) => `${service}-journal`;

/**
 * The fields of a document that carries the events announcing it (mixins/domain-events.mixin.ts):
 * written in the same insert as the document, so a change is never stored without its events.
 */
const OUTBOX_FIELDS = {
	events: mongoose.Schema.Types.Mixed,
	origin: mongoose.Schema.Types.Mixed,
	pending: { type: Boolean, default: false },
	claimedUntil: { type: Date, default: () => new Date(0) },
	createdAt: { type: Date, default: () => new Date() },
};
const OUTBOX_INDEX = { fields: { pending: 1, createdAt: 1 } } as const;

/** A collection declared `outbox` gets the fields and the index the relay reads. */
function withOutbox(spec: CollectionSpec): CollectionSpec {
	if (!spec.outbox) return spec;
	return { ...spec, fields: { ...spec.fields, ...OUTBOX_FIELDS }, indexes: [...(spec.indexes ?? []), OUTBOX_INDEX] };
}

/** The journal every stored service keeps: decided changes, each with the change to apply again and its events. */
function journalSpec(service: string): CollectionSpec {
	const { Mixed } = mongoose.Schema.Types;
	return { name: journalName(service), fields: { filter: Mixed, update: Mixed, insert: Mixed, remove: Boolean }, outbox: true };
}

/**
 * FerretDB, the distributed mode's test stand-in, answers `buildInfo` with a `ferretdbVersion`:
 * it reads the whole collection for `_id: {$in: [...]}`, where MongoDB and SQLite use the id
 * index, and lets two racing conditional updates both through.
 */
async function traitsOf(adapter: DbAdapter): Promise<StoreTraits> {
	if (adapter instanceof SqliteAdapter) return { idListIndexed: true, atomicUpdates: true };
	const info = await (adapter as DbAdapter & AdapterInternals).model.db.db?.admin().command({ buildInfo: 1 });
	const ferretdb = Boolean(info && "ferretdbVersion" in info);
	return { idListIndexed: !ferretdb, atomicUpdates: !ferretdb };
}

/** The embedded mode's one database file in `DATA_DIR`: a table per collection. */
export const EMBEDDED_STORE = "agora.sqlite";

/** The moleculer-db adapter for one collection, and the model the mongoose adapter builds it from. */
function createStorage(
	spec: CollectionSpec,
	{ mongoUri, dataDir, costCountersDir }: Settings,
): {
	adapter: DbAdapter & AdapterLifecycle;
	model?: MongooseModelSpec;
} {
	if (mongoUri) {
		const schema = new mongoose.Schema(
			{ _id: { type: String, default: () => randomUUID() }, ...spec.fields },
			{ collection: spec.name, versionKey: false, minimize: false, strict: true },
		);
		// Only options that are set: FerretDB refuses `unique: null`.
		for (const { fields, ...options } of spec.indexes ?? []) schema.index(fields, options);
		return {
			// No buffering while disconnected: with the database down a query fails after the server
			// selection timeout, well within the request timeout, instead of waiting past it.
			// monitorCommands: the bench counts this pod's database commands (middlewares/cost-counters.ts).
			adapter: new MongooseAdapter(mongoUri, {
				serverSelectionTimeoutMS: 5_000,
				bufferCommands: false,
				monitorCommands: costCountersDir !== null,
			}) as unknown as DbAdapter & AdapterLifecycle,
			model: { modelName: spec.name, schema },
		};
	}
	mkdirSync(dataDir, { recursive: true });
	return { adapter: new SqliteAdapter(path.join(dataDir, EMBEDDED_STORE), spec) };
}

/**
 * Before SQLite, the embedded mode kept each collection in a NeDB file, `DATA_DIR/<name>.db`.
 * Such a file is copied into the collection's table once, then renamed `<name>.db.migrated`
 * (kept, not deleted). Copying skips ids already there, so a start killed halfway repeats it safely.
 */
async function migrateNedbFile(adapter: SqliteAdapter, spec: CollectionSpec, logger: Logger): Promise<void> {
	const file = path.join(path.dirname(adapter.file), `${spec.name}.db`);
	if (!existsSync(file)) return;
	const nedb = new MemoryAdapter({ filename: file });
	await nedb.connect();
	const docs = (await nedb.find({})) as Record<string, unknown>[];
	const added = adapter.importDocuments(docs);
	await nedb.disconnect();
	renameSync(file, `${file}.migrated`);
	logger.info(
		`Migrated ${spec.name} from NeDB: ${added} of ${docs.length} document(s) copied into ${adapter.file}; the old file is kept as ${file}.migrated`,
	);
}

/** Builds the collection's indexes (the SQLite adapter builds its own on connect, then takes in an old NeDB file). */
async function prepare(adapter: DbAdapter, spec: CollectionSpec, logger: Logger): Promise<void> {
	if (adapter instanceof SqliteAdapter) return migrateNedbFile(adapter, spec, logger);
	await (adapter as DbAdapter & AdapterInternals).model.init();
}

/**
 * Gives a service its collection through moleculer-db: MongoDB via mongoose when `MONGO_URI` is
 * set, else a table of the SQLite file `DATA_DIR/agora.sqlite` (lib/platform/sqlite-adapter.ts). Ids are
 * string UUIDs in both, so a malformed id is just "not found" rather than a cast error, and unique
 * indexes behave the same. The service must be
 * named like its main collection (cache invalidation is broadcast by that name). `extra` opens
 * further collections the service owns (e.g. a ledger), reachable as `this.collections[name]`.
 */
export function dbMixin(spec: CollectionSpec, extra: CollectionSpec[] = []): Partial<ServiceSchema> {
	extra = [...extra, journalSpec(spec.name)];

	return defineMixin<{ idField: string }, DbMethods, DbVars>({
		mixins: [DbServiceMixin],
		// The store is made when the service is, from the settings of the process that starts it:
		// moleculer-db's own `created` then finds it in the schema.
		merged(schema) {
			const main = createStorage(withOutbox(spec), settings());
			schema.adapter = main.adapter;
			schema.model = main.model;
		},
		settings: { idField: "id" },
		actions: {
			// moleculer-db would publish generic CRUD actions; each service exposes its own instead.
			...Object.fromEntries(GENERATED_ACTIONS.map((name) => [name, false])),
			/** Whether this service's database answers; readiness (lib/platform/probes.ts) asks it on every node that needs this service. */
			ready: {
				visibility: "public",
				storageProbe: true,
				async handler() {
					await this.adapter.count({ query: { _id: "readiness-probe" } });
					return true;
				},
			},
		},
		hooks: {
			error: {
				"*"(_ctx: Context, err: Error) {
					if (databaseUnreachable(err)) throw new DatabaseUnavailableError();
					throw err;
				},
			},
		},
		events: {
			// Another node of this service changed data: drop this node's cached reads too.
			[`cache.clean.${spec.name}`]() {
				return this.broker.cacher?.clean(`${spec.name}.**`);
			},
		},
		methods: {
			toEntity<T extends Entity>(doc: unknown): T {
				const { _id, ...rest } = plainDocument(doc);
				return { id: String(_id), ...rest } as T;
			},
			newId(): string {
				return randomUUID();
			},
			isDuplicateKey(err: unknown): boolean {
				return hasProperty(err, "code", 11000) || hasProperty(err, "errorType", "uniqueViolated");
			},
			async findByIds(ids: string[]): Promise<unknown[]> {
				if (this.storeTraits.idListIndexed) return this.adapter.find({ query: { _id: { $in: ids } } });
				const docs = await Promise.all(ids.map((id) => this.adapter.findById(id)));
				return docs.filter((doc) => doc != null);
			},
			collection(name: string): DbAdapter {
				const adapter = this.collections[name];
				if (!adapter) throw new Error(`${this.name} keeps no collection ${name}`);
				return adapter;
			},
			clearCache(): Promise<void> {
				this.broker.broadcast(`cache.clean.${spec.name}`);
				return this.broker.cacher?.clean(`${spec.name}.**`) ?? Promise.resolve();
			},
		},
		created() {
			this.collections = {};
			// Until the store has answered: what every store can do.
			this.storeTraits = { idListIndexed: false, atomicUpdates: false };
			this.outboxes = [spec, ...extra].filter((collection) => collection.outbox).map((collection) => collection.name);
			for (const collection of extra) {
				const storage = createStorage(withOutbox(collection), settings());
				// The adapters read the model definition and logger from the "service" they serve.
				storage.adapter.init(this.broker, { schema: { model: storage.model }, settings: {}, logger: this.logger });
				this.collections[collection.name] = storage.adapter;
			}
		},
		async afterConnected() {
			await prepare(this.adapter, spec, this.logger);
			this.storeTraits = await traitsOf(this.adapter);
			for (const collection of extra) {
				const adapter = this.collections[collection.name] as DbAdapter & AdapterLifecycle;
				await adapter.connect();
				await prepare(adapter, collection, this.logger);
			}
		},
		async stopped() {
			for (const adapter of Object.values(this.collections)) await (adapter as DbAdapter & AdapterLifecycle).disconnect();
		},
	});
}
