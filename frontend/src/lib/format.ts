/** Display formatting. Plain functions with no DOM, so the unit tests run them in Node. */
import { formatMoney, memoize, minorDigits } from "../../../lib/contracts/money";

export { formatMoney };

const dateTimeFormat = memoize(
	(locale: string) => new Intl.DateTimeFormat(locale || undefined, { dateStyle: "medium", timeStyle: "short" }),
);

/** The plain number an admin edits for a price ("12.90" for 1290 cents). */
export function toMajorUnits(minor: number, currency = "USD"): string {
	const digits = minorDigits(currency);
	return (minor / 10 ** digits).toFixed(digits);
}

/**
 * Reads a typed price into minor units, or null unless it is a non-negative amount with at most
 * the currency's decimals. Parsed as text because "0.29" * 100 is 28.999… in floating point.
 */
export function parseMoney(text: string, currency = "USD"): number | null {
	const digits = minorDigits(currency);
	const match = /^(\d{1,9})(?:[.,](\d*))?$/.exec(text.trim());
	if (!match) return null;
	const [, whole = "0", fraction = ""] = match;
	if (fraction.length > digits) return null;
	return Number(whole) * 10 ** digits + Number(fraction.padEnd(digits, "0") || "0");
}

export function formatDateTime(iso: string, locale = ""): string {
	const date = new Date(iso);
	return Number.isNaN(date.getTime()) ? "" : dateTimeFormat(locale).format(date);
}

/** Order ids are UUIDs; people read out and search for the first block. */
export function shortId(id: string): string {
	return id.slice(0, 8).toUpperCase();
}

export function plural(count: number, one: string, many = `${one}s`): string {
	return `${count} ${count === 1 ? one : many}`;
}
