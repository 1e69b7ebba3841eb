/** The catalogue's search, filter, sort and page live in the URL, so any view can be linked and reloaded. */
import type { ProductQuery, ProductSort } from "../api/types";

export const CATEGORIES = [
	{ value: "tea", label: "Tea" },
	{ value: "coffee", label: "Coffee" },
	{ value: "brewing", label: "Brewing" },
	{ value: "accessories", label: "Accessories" },
] as const;

export const SORTS: readonly { value: ProductSort; label: string }[] = [
	{ value: "name", label: "Name, A to Z" },
	{ value: "-name", label: "Name, Z to A" },
	{ value: "price", label: "Price, low to high" },
	{ value: "-price", label: "Price, high to low" },
	{ value: "newest", label: "Newest first" },
];

export const DEFAULT_SORT: ProductSort = "name";
export const PAGE_SIZE = 12;

export interface CatalogueQuery {
	q: string;
	category: string;
	sort: ProductSort;
	page: number;
}

const isSort = (value: string | null): value is ProductSort => SORTS.some((sort) => sort.value === value);

export function parseCatalogueQuery(search: string): CatalogueQuery {
	const params = new URLSearchParams(search);
	const page = Number(params.get("page"));
	const sort = params.get("sort");
	return {
		q: params.get("q")?.trim() ?? "",
		category: params.get("category") ?? "",
		sort: isSort(sort) ? sort : DEFAULT_SORT,
		page: Number.isInteger(page) && page > 1 ? page : 1,
	};
}

/** The URL of a catalogue view, leaving out defaults so the plain shop stays at "/". */
export function catalogueUrl(query: Partial<CatalogueQuery>): string {
	const params = new URLSearchParams();
	if (query.q) params.set("q", query.q);
	if (query.category) params.set("category", query.category);
	if (query.sort && query.sort !== DEFAULT_SORT) params.set("sort", query.sort);
	if (query.page && query.page > 1) params.set("page", String(query.page));
	const search = params.toString();
	return search ? `/?${search}` : "/";
}

export function toProductQuery(query: CatalogueQuery): ProductQuery {
	return {
		q: query.q || undefined,
		category: query.category || undefined,
		sort: query.sort,
		page: query.page,
		pageSize: PAGE_SIZE,
	};
}
