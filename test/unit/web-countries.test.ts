import { COUNTRIES, countryName } from "../../frontend/src/lib/countries";

describe("the checkout's countries", () => {
	it("are every ISO 3166-1 country once, by its code and a name for people", () => {
		expect(COUNTRIES).toHaveLength(249);
		expect(new Set(COUNTRIES.map((country) => country.code)).size).toBe(COUNTRIES.length);
		expect(new Set(COUNTRIES.map((country) => country.name)).size).toBe(COUNTRIES.length);
		expect(COUNTRIES.filter(({ code }) => !/^[A-Z]{2}$/.test(code))).toEqual([]);
		expect(COUNTRIES.filter(({ name }) => name.trim() !== name || name.length < 1 || name.length > 56)).toEqual([]);
		expect(COUNTRIES).toEqual(
			expect.arrayContaining([
				{ code: "GB", name: "United Kingdom" },
				{ code: "US", name: "United States" },
				{ code: "DE", name: "Germany" },
				{ code: "CI", name: "Côte d’Ivoire" },
			]),
		);
	});

	it("are in alphabetical order of their names, so a shopper finds theirs", () => {
		const names = COUNTRIES.map((country) => country.name);
		expect([...names].sort((a, b) => a.localeCompare(b, "en"))).toEqual(names);
		expect(names[0]).toBe("Afghanistan");
	});

	it("name a code for people, and leave text that is no code as it is", () => {
		expect(countryName("GB")).toBe("United Kingdom");
		expect(countryName("United Kingdom")).toBe("United Kingdom");
	});
});
