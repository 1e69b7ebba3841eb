import type { Context, ServiceSchema, ServiceSettingSchema } from "moleculer";
import type { ProductSnapshot } from "../lib/contracts/events";
import { DEMO_CATALOGUE, demoImageUrl } from "../lib/operator/demo-catalogue";
import { call } from "../lib/platform/actions";
import { isShopError, shopError } from "../lib/platform/shop-error";
import type { Entity } from "../lib/platform/store";
import { type DbMethods, type DbVars, dbMixin } from "../mixins/db.mixin";
import { type DomainEventMethods, domainEventsMixin } from "../mixins/domain-events.mixin";

/** A stored product: what its events carry, and when it was made and last changed. */
export interface Product extends Entity, ProductSnapshot {
	createdAt: Date;
	updatedAt: Date;
}

interface ProductFields {
	name?: string;
	sku?: string;
	price?: number;
	currency?: string;
	category?: string;
	description?: string;
	imageUrl?: string | null;
}

interface ListParams {
	q?: string;
	category?: string;
	page: number;
	pageSize: number;
	sort: keyof typeof SORTS;
}

interface ProductMethods extends DbMethods, DomainEventMethods {
	findProduct(id: string): Promise<Product>;
	withStock(ctx: Context, products: Product[]): Promise<(Product & { stock: number })[]>;
	insertProduct(ctx: Context, fields: Required<ProductFields>, stock: number, lowStockThreshold: number): Promise<Product>;
}

const SORTS = {
	newest: ["-createdAt"],
	price: ["price", "name"],
	"-price": ["-price", "name"],
	name: ["name"],
	"-name": ["-name"],
} as const;

const NAME = { type: "string", trim: true, min: 1, max: 200 } as const;
const SKU = { type: "string", trim: true, min: 1, max: 64, pattern: /^[A-Za-z0-9][A-Za-z0-9._-]*$/ } as const;
const PRICE = { type: "number", integer: true, min: 0, max: 100_000_000 } as const;
const CURRENCY = { type: "string", length: 3, uppercase: true, pattern: /^[A-Za-z]{3}$/ } as const;
const CATEGORY = { type: "string", trim: true, lowercase: true, min: 1, max: 50 } as const;
const DESCRIPTION = { type: "string", trim: true, max: 5_000 } as const;
// Same-origin paths or http(s) URLs only: never `javascript:` or data URLs in an <img src>.
const IMAGE_URL = { type: "string", max: 2_000, pattern: /^(\/(?!\/)[^\s]*|https?:\/\/[^\s]+)$/, nullable: true } as const;
const STOCK = { type: "number", integer: true, min: 0, max: 1_000_000 } as const;

const LIST_PARAMS = {
	q: { type: "string", trim: true, max: 200, optional: true },
	category: { ...CATEGORY, optional: true },
	page: { type: "number", integer: true, min: 1, max: 100_000, convert: true, default: 1 },
	pageSize: { type: "number", integer: true, min: 1, max: 100, convert: true, default: 20 },
	sort: { type: "enum", values: Object.keys(SORTS), default: "newest" },
} as const;

export interface Page<T> {
	rows: T[];
	total: number;
	page: number;
	pageSize: number;
	totalPages: number;
}

function escapeRegExp(text: string): string {
	return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

const ProductsService: ServiceSchema<ServiceSettingSchema, ProductMethods, DbVars> = {
	name: "products",
	mixins: [
		dbMixin({
			name: "products",
			fields: {
				name: { type: String, required: true },
				sku: { type: String, required: true },
				price: { type: Number, required: true },
				currency: { type: String, required: true },
				category: { type: String, required: true },
				description: { type: String, default: "" },
				imageUrl: { type: String, default: null },
				createdAt: { type: Date, required: true },
				updatedAt: { type: Date, required: true },
			},
			// One per sort of `list` (newest, price up and down, name), with and without the category filter.
			indexes: [
				{ fields: { sku: 1 }, unique: true },
				{ fields: { createdAt: -1 } },
				{ fields: { price: 1, name: 1 } },
				{ fields: { price: -1, name: 1 } },
				{ fields: { name: 1 } },
				{ fields: { category: 1, createdAt: -1 } },
				{ fields: { category: 1, price: 1, name: 1 } },
				{ fields: { category: 1, price: -1, name: 1 } },
				{ fields: { category: 1, name: 1 } },
			],
			search: ["name", "description"],
		}),
		domainEventsMixin,
	],
	dependencies: ["inventory"],

	actions: {
		list: {
			auth: "public",
			params: LIST_PARAMS,
			async handler(ctx: Context<ListParams>) {
				const page = await ctx.call<Page<Product>, ListParams>("products.search", ctx.params);
				return { ...page, rows: await this.withStock(ctx, page.rows) };
			},
		},

		/** The catalogue query behind `list`, cached; stock is live, so `list` adds it after. */
		search: {
			visibility: "public",
			params: LIST_PARAMS,
			cache: { keys: ["q", "category", "page", "pageSize", "sort"], ttl: 60 },
			async handler(ctx: Context<ListParams>): Promise<Page<Product>> {
				const { q, category, page, pageSize, sort } = ctx.params;
				const query: Record<string, unknown> = {};
				if (category) query.category = category;
				if (q) {
					const pattern = new RegExp(escapeRegExp(q), "i");
					query.$or = [{ name: { $regex: pattern } }, { description: { $regex: pattern } }];
				}
				const [docs, total] = await Promise.all([
					this.adapter.find({ query, sort: [...SORTS[sort]], limit: pageSize, offset: (page - 1) * pageSize }),
					this.adapter.count({ query }),
				]);
				const rows = docs.map((doc) => this.toEntity<Product>(doc));
				return { rows, total, page, pageSize, totalPages: Math.ceil(total / pageSize) };
			},
		},

		get: {
			auth: "public",
			params: { id: { type: "string", max: 64 } },
			async handler(ctx: Context<{ id: string }>) {
				const [product] = await this.withStock(ctx, [await this.findProduct(ctx.params.id)]);
				return product;
			},
		},

		/** Internal: the catalogue entries an order is about to buy, by id, without stock. */
		getMany: {
			visibility: "public",
			params: { ids: { type: "array", items: "string", max: 100 } },
			cache: { keys: ["ids"], ttl: 60 },
			async handler(ctx: Context<{ ids: string[] }>) {
				const docs = await this.findByIds(ctx.params.ids);
				return docs.map((doc) => this.toEntity<Product>(doc));
			},
		},

		create: {
			auth: "admin",
			params: {
				name: NAME,
				sku: SKU,
				price: PRICE,
				currency: { ...CURRENCY, default: "USD" },
				category: CATEGORY,
				description: { ...DESCRIPTION, default: "" },
				imageUrl: { ...IMAGE_URL, optional: true, default: null },
				stock: { ...STOCK, default: 0 },
				lowStockThreshold: { ...STOCK, default: 5 },
				// Only the fields above are stored; anything else sent is dropped.
				$$strict: "remove",
			},
			async handler(
				ctx: Context<Required<ProductFields> & { stock: number; lowStockThreshold: number }, { $statusCode?: number; $location?: string }>,
			) {
				const { stock, lowStockThreshold, ...fields } = ctx.params;
				const product = await this.insertProduct(ctx, { ...fields, imageUrl: fields.imageUrl ?? null }, stock, lowStockThreshold);
				ctx.meta.$statusCode = 201;
				ctx.meta.$location = `/api/products/${product.id}`;
				const [withStock] = await this.withStock(ctx, [product]);
				return withStock;
			},
		},

		/** Fills an empty catalogue with the demo products. `SEED_DEMO` runs it once the node has started. */
		seedDemo: {
			visibility: "public",
			async handler(ctx: Context) {
				if ((await this.adapter.count()) > 0) return { seeded: 0 };
				let seeded = 0;
				for (const { stock, lowStockThreshold, ...demo } of DEMO_CATALOGUE) {
					try {
						await this.insertProduct(ctx, { ...demo, currency: "USD", imageUrl: demoImageUrl(demo.sku) }, stock, lowStockThreshold);
						seeded++;
					} catch (err) {
						// Another products node seeded it first.
						if (!isShopError(err, "SKU_TAKEN")) throw err;
					}
				}
				this.logger.info(`Seeded the demo catalogue: ${seeded} products.`);
				return { seeded };
			},
		},

		update: {
			auth: "admin",
			params: {
				id: { type: "string", max: 64 },
				name: { ...NAME, optional: true },
				sku: { ...SKU, optional: true },
				price: { ...PRICE, optional: true },
				currency: { ...CURRENCY, optional: true },
				category: { ...CATEGORY, optional: true },
				description: { ...DESCRIPTION, optional: true },
				imageUrl: { ...IMAGE_URL, optional: true },
				lowStockThreshold: { ...STOCK, optional: true },
				stock: { type: "forbidden", messages: { forbidden: "Stock changes go through POST /api/inventory/:productId/adjust" } },
				$$strict: "remove",
			},
			async handler(ctx: Context<ProductFields & { id: string; lowStockThreshold?: number }>) {
				const { id, lowStockThreshold, ...fields } = ctx.params;
				const current = await this.findProduct(id);
				const change = { ...fields, updatedAt: new Date() };
				const product: Product = { ...current, ...change };
				try {
					await this.changeOnce(`update:${this.newId()}`, { _id: id }, change, [this.domainEvent("product.updated", product, id)]);
				} catch (err) {
					if (this.isDuplicateKey(err)) throw shopError("SKU_TAKEN", "Another product has this SKU", { field: "sku" });
					throw err;
				}
				if (lowStockThreshold !== undefined) await call(ctx, "inventory.setThreshold", { productId: id, lowStockThreshold });
				await this.clearCache();
				const [withStock] = await this.withStock(ctx, [product]);
				return withStock;
			},
		},

		remove: {
			auth: "admin",
			params: { id: { type: "string", max: 64 } },
			async handler(ctx: Context<{ id: string }, { $statusCode?: number }>) {
				const { id } = await this.findProduct(ctx.params.id);
				await this.removeOnce(`${id}:removed`, { _id: id }, [this.domainEvent("product.deleted", { id }, id)]);
				await this.clearCache();
				ctx.meta.$statusCode = 204;
				return null;
			},
		},
	},

	methods: {
		async findProduct(id: string) {
			const doc = await this.adapter.findById(id);
			if (!doc) throw shopError("PRODUCT_NOT_FOUND", "Product not found", { id });
			return this.toEntity<Product>(doc);
		},

		async withStock(ctx: Context, products: Product[]) {
			const stock = await call(ctx, "inventory.availability", { productIds: products.map((product) => product.id) });
			return products.map((product) => ({ ...product, stock: stock[product.id]?.available ?? 0 }));
		},

		/**
		 * The stock record comes first: a product is never on sale without one. If the product then
		 * cannot be stored (its SKU is taken), the stock record stays unused under an id nobody has.
		 */
		async insertProduct(ctx: Context, fields: Required<ProductFields>, stock: number, lowStockThreshold: number) {
			const now = new Date();
			const id = this.newId();
			await call(ctx, "inventory.init", { productId: id, available: stock, lowStockThreshold });
			const product: Product = { id, ...fields, createdAt: now, updatedAt: now };
			try {
				await this.insertOnce({ _id: id, ...fields, createdAt: now, updatedAt: now }, [this.domainEvent("product.created", product, id)]);
			} catch (err) {
				if (this.isDuplicateKey(err)) throw shopError("SKU_TAKEN", "A product with this SKU already exists", { field: "sku" });
				throw err;
			}
			await this.clearCache();
			return product;
		},
	},
};

export default ProductsService;
