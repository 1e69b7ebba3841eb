/** Display formatting. Plain functions with no DOM, so the unit tests run them in Node. */

/** Intl formatters are costly to build and a list formats hundreds of values: keep one per setting. */
function memoize<Args extends string[], Result>(create: (...args: Args) => Result): (...args: Args) => Result {
	const cache = new Map<string, Result>();
	return (...args) => {
		const key = args.join("|");
		let value = cache.get(key);
		if (value === undefined) {
			value = create(...args);
			cache.set(key, value);
		}
		return value;
	};
}

// An empty locale means the browser's own.
const moneyFormat = memoize(
	(currency: string, locale: string) => new Intl.NumberFormat(locale || undefined, { style: "currency", currency }),
);
const dateTimeFormat = memoize(
	(locale: string) => new Intl.DateTimeFormat(locale || undefined, { dateStyle: "medium", timeStyle: "short" }),
);

/** Decimals of the currency's minor unit: 2 for USD, 0 for JPY. */
const minorDigits = memoize((currency: string) => moneyFormat(currency, "en").resolvedOptions().maximumFractionDigits ?? 2);

/** Formats an amount held in minor units (cents), as the API keeps money. */
export function formatMoney(minor: number, currency = "USD", locale = ""): string {
	return moneyFormat(currency, locale).format(minor / 10 ** minorDigits(currency));
}

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
