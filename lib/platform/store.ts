/**
 * The storage contract: how a service describes a collection, and the adapter methods it uses.
 * MongoDB (through mongoose, `mixins/db.mixin.ts`) and the embedded SQLite store
 * (`lib/platform/sqlite-adapter.ts`) both implement it.
 */
import type mongoose from "mongoose";

export interface IndexSpec {
	fields: Record<string, 1 | -1>;
	unique?: boolean;
	/** Unique only among documents that have the field (e.g. optional idempotency keys). */
	sparse?: boolean;
}

export interface CollectionSpec {
	/** Collection (MongoDB) or table (in `DATA_DIR/agora.sqlite`) name. */
	name: string;
	/** Field definitions, as mongoose takes them; `_id` is always a string UUID. */
	fields: mongoose.SchemaDefinition;
	indexes?: IndexSpec[];
	/**
	 * Text fields that a case-insensitive substring search (`$or` of `$regex`es) looks through. The
	 * embedded store keeps a trigram index of them; MongoDB has no index for such a regex.
	 */
	search?: string[];
	/** Its documents carry the events announcing them, sent by the outbox relay (mixins/domain-events.mixin.ts). */
	outbox?: true;
}

/** What a store does well, for the few places where that changes the query. */
export interface StoreTraits {
	/** `_id: {$in: [...]}` is served by the id index (FerretDB 1.24 reads the whole collection for it instead). */
	idListIndexed: boolean;
	/** A conditional update matches and changes as one step: of two racing ones, one finds nothing (FerretDB 1.24 lets both through). */
	atomicUpdates: boolean;
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
}
