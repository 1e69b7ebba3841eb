import { COUNTRIES } from "../../frontend/src/lib/countries";

describe("the checkout's countries", () => {
	it("are every ISO 3166-1 country once, by a name the server accepts (1 to 56 characters)", () => {
		expect(COUNTRIES).toHaveLength(249);
		expect(new Set(COUNTRIES).size).toBe(COUNTRIES.length);
		expect(COUNTRIES.filter((name) => name.trim() !== name || name.length < 1 || name.length > 56)).toEqual([]);
		expect(COUNTRIES).toEqual(expect.arrayContaining(["United Kingdom", "United States", "Germany", "Japan", "Côte d’Ivoire"]));
	});

	it("are in alphabetical order, so a shopper finds theirs", () => {
		expect([...COUNTRIES].sort((a, b) => a.localeCompare(b, "en"))).toEqual(COUNTRIES);
		expect(COUNTRIES[0]).toBe("Afghanistan");
	});
});
