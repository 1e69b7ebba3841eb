import { catalogueUrl, DEFAULT_SORT, PAGE_SIZE, parseCatalogueQuery, toProductQuery } from "../../frontend/src/lib/catalogue-query";

describe("web catalogue query in the URL", () => {
	it("reads search, category, sort and page, with safe defaults", () => {
		expect(parseCatalogueQuery("?q=%20green%20&category=tea&sort=-price&page=3")).toEqual({
			q: "green",
			category: "tea",
			sort: "-price",
			page: 3,
		});
		expect(parseCatalogueQuery("")).toEqual({ q: "", category: "", sort: DEFAULT_SORT, page: 1 });
		expect(parseCatalogueQuery("?sort=drop-table&page=-2")).toMatchObject({ sort: DEFAULT_SORT, page: 1 });
		expect(parseCatalogueQuery("?page=2.5").page).toBe(1);
	});

	it("writes short URLs that read back the same", () => {
		expect(catalogueUrl({})).toBe("/");
		expect(catalogueUrl({ q: "", category: "", sort: DEFAULT_SORT, page: 1 })).toBe("/");
		const url = catalogueUrl({ q: "jasmine tea", category: "tea", sort: "price", page: 2 });
		expect(url).toBe("/?q=jasmine+tea&category=tea&sort=price&page=2");
		expect(parseCatalogueQuery(url.slice(1))).toEqual({ q: "jasmine tea", category: "tea", sort: "price", page: 2 });
	});

	it("asks the API for one page of the view", () => {
		expect(toProductQuery(parseCatalogueQuery("?category=coffee"))).toEqual({
			q: undefined,
			category: "coffee",
			sort: DEFAULT_SORT,
			page: 1,
			pageSize: PAGE_SIZE,
		});
	});
});
