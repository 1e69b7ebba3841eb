import { randomUUID } from "node:crypto";
import type { DatabaseSync, SQLInputValue, StatementSync } from "node:sqlite";
import type { CollectionSpec, DbAdapter, FindFilters } from "./store";

type Doc = Record<string, unknown>;

/**
 * Node 22 prints an ExperimentalWarning when `node:sqlite` loads. It says nothing a shop owner
 * can act on, so that one warning is dropped while the module loads; every other warning still
 * reaches stderr.
 */
function loadSqlite(): typeof import("node:sqlite") {
	const emitWarning = process.emitWarning;
	process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
		const message = typeof warning === "string" ? warning : warning.message;
		if (message.startsWith("SQLite is an experimental feature")) return;
		(emitWarning as (...args: unknown[]) => void).call(process, warning, ...rest);
	}) as typeof process.emitWarning;
	try {
		return require("node:sqlite") as typeof import("node:sqlite");
	} catch (err) {
		throw new Error(`The embedded store needs node:sqlite, built into Node 22.13 and later; this is Node ${process.versions.node}`, {
			cause: err,
		});
	} finally {
		process.emitWarning = emitWarning;
	}
}

/** A query or update this store cannot answer exactly: refused rather than answered wrongly. */
export class UnsupportedQueryError extends Error {
	constructor(message: string) {
		super(`SQLite store: ${message}`);
		this.name = "UnsupportedQueryError";
	}
}

/** A unique index refused the write; `isDuplicateKey` recognises it by `errorType`, as it did NeDB's. */
export class DuplicateKeyError extends Error {
	readonly errorType = "uniqueViolated";
	constructor(
		readonly collection: string,
		detail: string,
	) {
		super(`Duplicate key in ${collection}: ${detail}`);
		this.name = "DuplicateKeyError";
	}
}

/** SQLITE_CONSTRAINT_UNIQUE and SQLITE_CONSTRAINT_PRIMARYKEY. */
const UNIQUE_VIOLATIONS = new Set([2067, 1555]);

function isUniqueViolation(err: unknown): err is Error & { errcode: number } {
	// Checked by shape: the error may come from another realm (a test sandbox), where instanceof fails.
	return typeof err === "object" && err !== null && UNIQUE_VIOLATIONS.has((err as { errcode?: number }).errcode ?? 0);
}

/**
 * Dates are stored as `{"$$date": ms}` (NeDB's own form), so they come back as Dates and sort as
 * numbers. (Walking the value is about twice as fast as a JSON replacer or reviver.)
 */
function toStored(value: unknown): unknown {
	if (value instanceof Date) return { $$date: value.getTime() };
	if (Array.isArray(value)) return value.map(toStored);
	if (value === null || typeof value !== "object") return value;
	const stored: Record<string, unknown> = {};
	for (const key in value) stored[key] = toStored((value as Record<string, unknown>)[key]);
	return stored;
}

function fromStored(value: unknown): unknown {
	if (value === null || typeof value !== "object") return value;
	if (Array.isArray(value)) {
		for (let i = 0; i < value.length; i++) value[i] = fromStored(value[i]);
		return value;
	}
	const record = value as Record<string, unknown>;
	if (typeof record.$$date === "number") return new Date(record.$$date);
	for (const key in record) record[key] = fromStored(record[key]);
	return record;
}

function encode(value: unknown): string {
	return JSON.stringify(toStored(value));
}

function decode(text: string): Doc {
	return fromStored(JSON.parse(text)) as Doc;
}

/** A pattern that is plain text (with escaped metacharacters, as the catalogue search makes it): the text, else null. */
function literalText(pattern: RegExp): string | null {
	return /^(?:[^\\.*+?^${}()|[\]]|\\[.*+?^${}()|[\]\\/-])*$/.test(pattern.source) ? pattern.source.replace(/\\(.)/g, "$1") : null;
}

function regexOf(condition: unknown): RegExp | null {
	if (condition instanceof RegExp) return condition;
	if (isPlainObject(condition) && condition.$regex instanceof RegExp && Object.keys(condition).length === 1) return condition.$regex;
	return null;
}

const FIELD = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;
const COMPARISONS = { $lt: "<", $lte: "<=", $gt: ">", $gte: ">=" } as const;

function isPlainObject(value: unknown): value is Record<string, unknown> {
	return typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

/** Top-level fields declared as `Date` (or `{ type: Date }`): stored as `{"$$date": ms}`, queried by that number. */
function dateFieldsOf(spec: CollectionSpec): Set<string> {
	return new Set(
		Object.entries(spec.fields)
			.filter(([, definition]) => definition === Date || (isPlainObject(definition) && definition.type === Date))
			.map(([name]) => name),
	);
}

interface OpenDatabase {
	db: DatabaseSync;
	users: number;
}

/** One connection per file per process: every collection of the process shares it (and its WAL). */
const databases = new Map<string, OpenDatabase>();

/** Compiled `$regex` patterns, by source and flags (the catalogue search asks the same few again and again). */
const patterns = new Map<string, RegExp>();

function matches(source: unknown, flags: unknown, value: unknown): number {
	if (typeof value !== "string") return 0;
	const key = `${flags}/${source}`;
	let pattern = patterns.get(key);
	if (!pattern) {
		if (patterns.size >= 500) patterns.clear();
		pattern = new RegExp(String(source), String(flags));
		patterns.set(key, pattern);
	}
	return pattern.test(value) ? 1 : 0;
}

function openDatabase(file: string): DatabaseSync {
	const open = databases.get(file);
	if (open) {
		open.users++;
		return open.db;
	}
	const { DatabaseSync } = loadSqlite();
	const db = new DatabaseSync(file);
	// WAL: readers never wait for the writer. synchronous=NORMAL: a commit is in the operating
	// system before the call returns, so it survives the process being killed; only a power cut
	// may lose the last commits (never the file). FULL would fsync every commit, on the event loop.
	db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;");
	db.function("agora_regexp", { deterministic: true }, matches);
	databases.set(file, { db, users: 1 });
	return db;
}

function inTransaction<T>(db: DatabaseSync, work: () => T): T {
	db.exec("BEGIN IMMEDIATE");
	try {
		const result = work();
		db.exec("COMMIT");
		return result;
	} catch (err) {
		db.exec("ROLLBACK");
		throw err;
	}
}

function closeDatabase(file: string): void {
	const open = databases.get(file);
	if (!open || --open.users > 0) return;
	databases.delete(file);
	open.db.close();
}

/**
 * A moleculer-db adapter that keeps one collection as a table of a SQLite file (`node:sqlite`,
 * built into Node 22): one row per document, the document as JSON, and an expression index for
 * each index of the collection's spec. It answers the subset of MongoDB queries the services use
 * (equality, `$in`, `$nin`, `$ne`, `$lt`/`$lte`/`$gt`/`$gte`, `$regex`, `$or`/`$and`; updates
 * with `$set` of top-level fields) and refuses anything else with an UnsupportedQueryError.
 */
export class SqliteAdapter implements DbAdapter {
	private db?: DatabaseSync;
	private readonly table: string;
	private readonly dates: Set<string>;
	private readonly statements = new Map<string, StatementSync>();
	/** The FTS5 trigram table over the spec's `search` fields, if it has any. */
	private readonly searchTable?: string;

	constructor(
		readonly file: string,
		readonly spec: CollectionSpec,
	) {
		if (!/^[A-Za-z0-9_-]+$/.test(spec.name)) throw new Error(`Collection name "${spec.name}" is not a plain name`);
		this.table = `"${spec.name}"`;
		this.dates = dateFieldsOf(spec);
		if (spec.search?.length) this.searchTable = `"${spec.name}:search"`;
	}

	init(): void {}

	/** Opens the file and makes the table and the indexes of the spec (each named after its definition). */
	async connect(): Promise<void> {
		const db = openDatabase(this.file);
		this.db = db;
		db.exec(`CREATE TABLE IF NOT EXISTS ${this.table} (id TEXT PRIMARY KEY NOT NULL, doc TEXT NOT NULL)`);
		for (const index of this.spec.indexes ?? []) {
			const fields = Object.entries(index.fields);
			const name = `${this.spec.name}:${fields.map(([field, order]) => `${field}${order === -1 ? "-" : "+"}`).join(",")}${index.unique ? ":unique" : ""}${index.sparse ? ":sparse" : ""}`;
			const columns = fields.map(([field, order]) => `${this.expression(field)}${order === -1 ? " DESC" : ""}`).join(", ");
			const where = index.sparse ? ` WHERE ${fields.map(([field]) => `${this.expression(field)} IS NOT NULL`).join(" AND ")}` : "";
			db.exec(`CREATE ${index.unique ? "UNIQUE " : ""}INDEX IF NOT EXISTS "${name}" ON ${this.table} (${columns})${where}`);
		}
		if (this.searchTable) this.createSearchIndex(db, this.searchTable, this.spec.search ?? []);
	}

	/** A trigram index of the search fields, kept in step with the table by triggers (filled once when new). */
	private createSearchIndex(db: DatabaseSync, table: string, fields: string[]): void {
		for (const field of fields)
			if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(field)) throw new Error(`search field "${field}" of ${this.spec.name} is not a plain name`);
		const exists = db.prepare("SELECT 1 FROM sqlite_schema WHERE name = ?").get(table.slice(1, -1));
		if (exists) return;
		const values = (row: string) => fields.map((field) => `json_extract(${row}.doc, '$.${field}')`).join(", ");
		const trigger = (event: string) => `"${this.spec.name}:search:${event}"`;
		inTransaction(db, () =>
			db.exec(`CREATE VIRTUAL TABLE ${table} USING fts5(${fields.join(", ")}, tokenize = 'trigram');
			INSERT INTO ${table} (rowid, ${fields.join(", ")}) SELECT rowid, ${values(this.table)} FROM ${this.table};
			CREATE TRIGGER ${trigger("insert")} AFTER INSERT ON ${this.table} BEGIN
				INSERT INTO ${table} (rowid, ${fields.join(", ")}) VALUES (new.rowid, ${values("new")});
			END;
			CREATE TRIGGER ${trigger("delete")} AFTER DELETE ON ${this.table} BEGIN
				DELETE FROM ${table} WHERE rowid = old.rowid;
			END;
			CREATE TRIGGER ${trigger("update")} AFTER UPDATE ON ${this.table} BEGIN
				DELETE FROM ${table} WHERE rowid = old.rowid;
				INSERT INTO ${table} (rowid, ${fields.join(", ")}) VALUES (new.rowid, ${values("new")});
			END;`),
		);
	}

	async disconnect(): Promise<void> {
		if (!this.db) return;
		this.db = undefined;
		this.statements.clear();
		closeDatabase(this.file);
	}

	async find({ query = {}, sort, limit, offset }: FindFilters): Promise<Doc[]> {
		const params: SQLInputValue[] = [];
		let sql = `SELECT doc FROM ${this.table} WHERE ${this.where(query as Doc, params)}`;
		if (sort && sort.length > 0)
			sql += ` ORDER BY ${sort.map((key) => (key.startsWith("-") ? `${this.expression(key.slice(1))} DESC` : this.expression(key))).join(", ")}`;
		if ((limit ?? 0) > 0 || (offset ?? 0) > 0) {
			sql += " LIMIT ? OFFSET ?";
			params.push((limit ?? 0) > 0 ? (limit as number) : -1, offset ?? 0);
		}
		return this.statement(sql)
			.all(...params)
			.map((row) => decode(row.doc as string));
	}

	async findOne(query: object): Promise<Doc | null> {
		const [doc] = await this.find({ query, limit: 1 });
		return doc ?? null;
	}

	async findById(id: string): Promise<Doc | null> {
		const row = this.statement(`SELECT doc FROM ${this.table} WHERE id = ?`).get(id);
		return row ? decode(row.doc as string) : null;
	}

	async count({ query = {} }: { query?: object } = {}): Promise<number> {
		const params: SQLInputValue[] = [];
		const row = this.statement(`SELECT count(*) AS n FROM ${this.table} WHERE ${this.where(query as Doc, params)}`).get(...params);
		return Number(row?.n ?? 0);
	}

	/** Inserts the document as given (an `_id` is made if it has none) and returns it as stored. */
	async insert(doc: object): Promise<Doc> {
		const stored = { _id: randomUUID(), ...doc } as Doc;
		if (typeof stored._id !== "string") throw new UnsupportedQueryError(`_id must be a string, got ${typeof stored._id}`);
		const text = encode(stored);
		this.write(() => this.statement(`INSERT INTO ${this.table} (id, doc) VALUES (?, ?)`).run(stored._id as string, text));
		return decode(text);
	}

	/** The updated document, or null if there is none with this id. */
	async updateById(id: string, update: object): Promise<Doc | null> {
		const params: SQLInputValue[] = [];
		const set = this.setClause(update, params);
		const row = this.write(() => this.statement(`UPDATE ${this.table} SET doc = ${set} WHERE id = ? RETURNING doc`).get(...params, id));
		return row ? decode(row.doc as string) : null;
	}

	/** How many documents matched (and were updated), in one statement: a conditional update is atomic. */
	async updateMany(query: object, update: object): Promise<number> {
		const params: SQLInputValue[] = [];
		const set = this.setClause(update, params);
		const where = this.where(query as Doc, params);
		return Number(this.write(() => this.statement(`UPDATE ${this.table} SET doc = ${set} WHERE ${where}`).run(...params)).changes);
	}

	/** The removed document, or null. */
	async removeById(id: string): Promise<Doc | null> {
		const row = this.statement(`DELETE FROM ${this.table} WHERE id = ? RETURNING doc`).get(id);
		return row ? decode(row.doc as string) : null;
	}

	async removeMany(query: object): Promise<number> {
		const params: SQLInputValue[] = [];
		return Number(this.statement(`DELETE FROM ${this.table} WHERE ${this.where(query as Doc, params)}`).run(...params).changes);
	}

	/** Copies documents in (one transaction), skipping ids already there: repeating an import adds nothing. */
	importDocuments(docs: Doc[]): number {
		const db = this.connected();
		const insert = this.statement(`INSERT OR IGNORE INTO ${this.table} (id, doc) VALUES (?, ?)`);
		return inTransaction(db, () => docs.reduce((added, doc) => added + Number(insert.run(String(doc._id), encode(doc)).changes), 0));
	}

	/** SQLite's plan for a `find`, one line per step (for tests that check a query is served by an index). */
	explain({ query = {}, sort }: FindFilters): string[] {
		const params: SQLInputValue[] = [];
		let sql = `SELECT doc FROM ${this.table} WHERE ${this.where(query as Doc, params)}`;
		if (sort && sort.length > 0)
			sql += ` ORDER BY ${sort.map((key) => (key.startsWith("-") ? `${this.expression(key.slice(1))} DESC` : this.expression(key))).join(", ")}`;
		return this.connected()
			.prepare(`EXPLAIN QUERY PLAN ${sql}`)
			.all(...params)
			.map((row) => String(row.detail));
	}

	private connected(): DatabaseSync {
		if (!this.db) throw new Error(`SQLite store: ${this.spec.name} is not connected`);
		return this.db;
	}

	/** Prepared once per distinct SQL text; texts differ only by query shape, not by values. */
	private statement(sql: string): StatementSync {
		let statement = this.statements.get(sql);
		if (!statement) {
			if (this.statements.size >= 200) this.statements.clear();
			statement = this.connected().prepare(sql);
			this.statements.set(sql, statement);
		}
		return statement;
	}

	private write<T>(run: () => T): T {
		try {
			return run();
		} catch (err) {
			if (isUniqueViolation(err)) throw new DuplicateKeyError(this.spec.name, err.message);
			throw err;
		}
	}

	/** The SQL for a field's value; a date field's is its `$$date` number. Indexes use the same text, so the planner matches them. */
	private expression(field: string): string {
		if (field === "_id") return "id";
		if (!FIELD.test(field)) throw new UnsupportedQueryError(`field name "${field}" is not supported`);
		return `json_extract(doc, '$.${field}${this.dates.has(field) ? '."$$date"' : ""}')`;
	}

	private value(field: string, value: unknown): SQLInputValue {
		if (value instanceof Date) {
			if (!this.dates.has(field))
				throw new UnsupportedQueryError(`"${field}" is not a date field of ${this.spec.name}: cannot compare it with a Date`);
			return value.getTime();
		}
		if (this.dates.has(field) && value !== null)
			throw new UnsupportedQueryError(`"${field}" holds dates in ${this.spec.name}: compare it with a Date, not a ${typeof value}`);
		if (typeof value === "boolean") return value ? 1 : 0;
		if (typeof value === "string" || typeof value === "number" || value === null) return value;
		throw new UnsupportedQueryError(`cannot compare "${field}" with ${Array.isArray(value) ? "an array" : `a ${typeof value}`}`);
	}

	/** A WHERE clause for a MongoDB-style query; its values are appended to `params` in order. */
	private where(query: Doc, params: SQLInputValue[]): string {
		const clauses: string[] = [];
		for (const [key, condition] of Object.entries(query)) {
			if (key === "$or" || key === "$and") {
				if (!Array.isArray(condition) || condition.length === 0) throw new UnsupportedQueryError(`${key} needs a non-empty array`);
				if (key === "$or") {
					const candidates = this.textSearch(condition, params);
					if (candidates) clauses.push(candidates);
				}
				clauses.push(`(${condition.map((part) => `(${this.where(part as Doc, params)})`).join(key === "$or" ? " OR " : " AND ")})`);
			} else if (key.startsWith("$")) {
				throw new UnsupportedQueryError(`query operator ${key} is not supported`);
			} else if (condition instanceof RegExp) {
				clauses.push(this.regex(key, condition, params));
			} else if (isPlainObject(condition)) {
				clauses.push(...this.operators(key, condition, params));
			} else if (condition === null || condition === undefined) {
				clauses.push(`${this.expression(key)} IS NULL`);
			} else {
				clauses.push(`${this.expression(key)} = ?`);
				params.push(this.value(key, condition));
			}
		}
		return clauses.length > 0 ? clauses.join(" AND ") : "1";
	}

	/**
	 * For an `$or` of one plain-text `$regex` over search fields (the catalogue search): the rows
	 * the trigram index finds, which the regexes then check exactly. Null if the index cannot
	 * help (no search fields, another shape, or under 3 characters: trigrams need 3).
	 */
	private textSearch(branches: unknown[], params: SQLInputValue[]): string | null {
		if (!this.searchTable) return null;
		const fields: string[] = [];
		const texts = new Set<string>();
		for (const branch of branches) {
			if (!isPlainObject(branch) || Object.keys(branch).length !== 1) return null;
			const [[field, condition]] = Object.entries(branch) as [[string, unknown]];
			const pattern = regexOf(condition);
			const text = pattern && literalText(pattern);
			if (!this.spec.search?.includes(field) || text == null) return null;
			fields.push(field);
			texts.add(text);
		}
		const [text] = texts;
		if (texts.size !== 1 || text === undefined || [...text].length < 3) return null;
		params.push(`{${fields.join(" ")}} : "${text.replaceAll('"', '""')}"`);
		return `rowid IN (SELECT rowid FROM ${this.searchTable} WHERE ${this.searchTable} MATCH ?)`;
	}

	private operators(field: string, condition: Record<string, unknown>, params: SQLInputValue[]): string[] {
		if (Object.keys(condition).some((key) => !key.startsWith("$")))
			throw new UnsupportedQueryError(`an object as the value of "${field}" is not supported (exact sub-document match)`);
		const column = this.expression(field);
		const clauses: string[] = [];
		for (const [operator, operand] of Object.entries(condition)) {
			if (operator === "$options") continue;
			if (operator === "$eq") {
				if (operand === null) clauses.push(`${column} IS NULL`);
				else {
					clauses.push(`${column} = ?`);
					params.push(this.value(field, operand));
				}
			} else if (operator === "$ne") {
				if (operand === null) clauses.push(`${column} IS NOT NULL`);
				else {
					clauses.push(`${column} IS NOT ?`);
					params.push(this.value(field, operand));
				}
			} else if (operator in COMPARISONS) {
				if (operand === null) throw new UnsupportedQueryError(`${operator} null on "${field}" is not supported`);
				clauses.push(`${column} ${COMPARISONS[operator as keyof typeof COMPARISONS]} ?`);
				params.push(this.value(field, operand));
			} else if (operator === "$in" || operator === "$nin") {
				if (!Array.isArray(operand)) throw new UnsupportedQueryError(`${operator} on "${field}" needs an array`);
				const values = operand.filter((item) => item !== null).map((item) => this.value(field, item));
				const hasNull = values.length < operand.length;
				params.push(JSON.stringify(values));
				clauses.push(
					operator === "$in"
						? `(${column} IN (SELECT value FROM json_each(?))${hasNull ? ` OR ${column} IS NULL` : ""})`
						: `(${column} NOT IN (SELECT value FROM json_each(?))${hasNull ? ` AND ${column} IS NOT NULL` : ` OR ${column} IS NULL`})`,
				);
			} else if (operator === "$regex") {
				const options = condition.$options;
				if (options !== undefined && typeof options !== "string")
					throw new UnsupportedQueryError(`$options on "${field}" must be a string`);
				const pattern = operand instanceof RegExp ? operand : new RegExp(String(operand), options);
				clauses.push(this.regex(field, pattern, params));
			} else {
				throw new UnsupportedQueryError(`query operator ${operator} (on "${field}") is not supported`);
			}
		}
		if (clauses.length === 0) throw new UnsupportedQueryError(`an empty condition on "${field}" is not supported`);
		return clauses;
	}

	private regex(field: string, pattern: RegExp, params: SQLInputValue[]): string {
		if (this.dates.has(field)) throw new UnsupportedQueryError(`$regex on the date field "${field}"`);
		// g and y make a RegExp stateful between tests; a match needs neither.
		params.push(pattern.source, pattern.flags.replace(/[gy]/g, ""));
		return `agora_regexp(?, ?, ${this.expression(field)})`;
	}

	/** `json_set(doc, ...)` for a `$set` of top-level fields; the new values are appended to `params`. */
	private setClause(update: object, params: SQLInputValue[]): string {
		const operators = Object.keys(update);
		const unsupported = operators.filter((operator) => operator !== "$set");
		if (unsupported.length > 0 || operators.length === 0)
			throw new UnsupportedQueryError(`updates must be { $set: {...} }; got ${operators.join(", ") || "nothing"}`);
		const pairs: string[] = [];
		for (const [field, value] of Object.entries((update as { $set: Doc }).$set)) {
			if (value === undefined) continue;
			if (field === "_id" || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(field))
				throw new UnsupportedQueryError(`$set of "${field}" is not supported (top-level fields other than _id only)`);
			pairs.push(`'$.${field}', json(?)`);
			params.push(encode(value));
		}
		return pairs.length > 0 ? `json_set(doc, ${pairs.join(", ")})` : "doc";
	}
}
