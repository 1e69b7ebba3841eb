import { formatDateTime, formatMoney, parseMoney, plural, shortId, toMajorUnits } from "../../frontend/src/lib/format";

describe("web money and display formatting", () => {
	it("formats minor units with the currency's own decimals", () => {
		expect(formatMoney(1290, "USD", "en-US")).toBe("$12.90");
		expect(formatMoney(0, "USD", "en-US")).toBe("$0.00");
		expect(formatMoney(123456789, "USD", "en-US")).toBe("$1,234,567.89");
		expect(formatMoney(1290, "EUR", "de-DE")).toBe("12,90\u00a0€");
		expect(formatMoney(500, "JPY", "en-US")).toBe("¥500");
	});

	it("turns cents into the number an admin edits and back, without float drift", () => {
		expect(toMajorUnits(1290)).toBe("12.90");
		expect(toMajorUnits(5)).toBe("0.05");
		expect(parseMoney("12.90")).toBe(1290);
		expect(parseMoney("0.29")).toBe(29);
		expect(parseMoney("12,5")).toBe(1250);
		expect(parseMoney(" 7 ")).toBe(700);
		expect(parseMoney("7.")).toBe(700);
		expect(parseMoney("500", "JPY")).toBe(500);
	});

	it("refuses what is not an amount", () => {
		for (const text of ["", "abc", "-1", "1.999", "1e3", "12.90 USD", "0x10"]) expect(parseMoney(text)).toBeNull();
		expect(parseMoney("1.5", "JPY")).toBeNull();
	});

	it("formats dates and ids for people", () => {
		expect(formatDateTime("2026-03-01T10:30:00Z", "en-GB")).toMatch(/1 Mar 2026/);
		expect(formatDateTime("not a date")).toBe("");
		expect(shortId("3f2a9c1e-0000-4000-8000-000000000000")).toBe("3F2A9C1E");
		expect(plural(1, "item")).toBe("1 item");
		expect(plural(3, "item")).toBe("3 items");
	});
});
