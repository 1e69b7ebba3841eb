/**
 * Money as people read it, for the web app, the REPL and the order emails alike: amounts are held
 * in minor units (cents) with a currency, and each currency has its own number of decimals.
 */

/** Intl formatters are costly to build and a list formats hundreds of values: keep one per setting. */
export function memoize<Args extends string[], Result>(create: (...args: Args) => Result): (...args: Args) => Result {
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

// An empty locale means the runtime's own (the browser's, in the web app).
const moneyFormat = memoize(
	(currency: string, locale: string) => new Intl.NumberFormat(locale || undefined, { style: "currency", currency }),
);

/** Decimals of the currency's minor unit: 2 for USD, 0 for JPY. */
export const minorDigits = memoize((currency: string) => moneyFormat(currency, "en").resolvedOptions().maximumFractionDigits ?? 2);

/** Formats an amount held in minor units (cents), as the API keeps money. */
export function formatMoney(minor: number, currency = "USD", locale = ""): string {
	return moneyFormat(currency, locale).format(minor / 10 ** minorDigits(currency));
}
