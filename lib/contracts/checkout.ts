/**
 * Shipping and tax: what a cart and an order add to their items. Pure arithmetic on integer minor
 * units, shared by the carts and orders services and the web app, so a cart shows exactly what the
 * order will charge.
 */
import type { ShippingCharge, TaxCharge } from "./orders";

/** A way to ship, with its price per destination country (ISO 3166-1 alpha-2). */
export interface ShippingMethod {
	id: string;
	name: string;
	/** Minor units, by country; a country missing here is not shipped to by this method. */
	prices: Record<string, number>;
	currency: string;
	/** Days to deliver, for people. */
	days: string;
}

/** Tax rates in basis points (1900 = 19 %) by destination country; a country missing here pays none. */
export type TaxRates = Record<string, number>;

/** The demo shop's methods and rates, used when SHIPPING_METHODS / TAX_RATES are not set. */
export const DEMO_SHIPPING_METHODS: readonly ShippingMethod[] = [
	{ id: "standard", name: "Standard", currency: "USD", days: "3-5", prices: { US: 500, CA: 900, GB: 900, DE: 900, FR: 900, NL: 900 } },
	{ id: "express", name: "Express", currency: "USD", days: "1-2", prices: { US: 1500, CA: 2500, GB: 2500, DE: 2500, FR: 2500, NL: 2500 } },
];
export const DEMO_TAX_RATES: TaxRates = { DE: 1900, FR: 2000, GB: 2000, NL: 2100, CA: 500, US: 0 };

/** The methods that ship to `country`, with their price there. */
export function methodsFor(methods: readonly ShippingMethod[], country: string) {
	return methods.flatMap((method) => {
		const price = method.prices[country.toUpperCase()];
		return price === undefined ? [] : [{ id: method.id, name: method.name, price, currency: method.currency, days: method.days }];
	});
}

/** Half up to the minor unit: a tax of 0.5 cent or more rounds to the next cent. */
export function taxOn(amount: number, rate: number): number {
	return Math.floor((rate * amount + 5_000) / 10_000);
}

export interface Totals {
	subtotal: number;
	shipping: ShippingCharge | null;
	tax: TaxCharge | null;
	total: number;
}

/**
 * What `items` cost sent by `method` to `country`: `tax.amount = round(rate * (subtotal +
 * shipping.price) / 10000)`, `total = subtotal + shipping + tax`. Without a method, neither
 * shipping nor tax is added (API clients that handle both themselves). Null when the method
 * does not ship there.
 */
export function totalsFor(
	items: readonly { price: number; quantity: number }[],
	method: ShippingMethod | null,
	country: string,
	rates: TaxRates,
): Totals | null {
	const subtotal = items.reduce((sum, line) => sum + line.price * line.quantity, 0);
	if (!method) return { subtotal, shipping: null, tax: null, total: subtotal };
	const destination = country.toUpperCase();
	const price = method.prices[destination];
	if (price === undefined) return null;
	const rate = rates[destination] ?? 0;
	const amount = taxOn(subtotal + price, rate);
	return {
		subtotal,
		shipping: { method: method.id, name: method.name, price },
		tax: { country: destination, rate, amount },
		total: subtotal + price + amount,
	};
}

const TEXT = (max: number) => ({ type: "string", trim: true, min: 1, max }) as const;
/** A shipping address, as a placement or a cart takes it; its country is narrowed by `shippingRules`. */
export const ADDRESS = {
	type: "object",
	strict: "remove",
	props: { name: TEXT(100), line1: TEXT(200), city: TEXT(100), postalCode: TEXT(20), country: TEXT(56) },
} as const;

/** Narrowed to the shop's methods when the service is made (`merged`). */
export const SHIPPING_METHOD = { type: "string", min: 1, max: 32 } as const;

/**
 * The address and shipping method rules of the shop's shipping settings: a method is one of its
 * methods, a country one that some method ships to (its ISO 3166-1 code). A shop takes no order
 * it cannot send, and the OpenAPI document lists both.
 */
export function shippingRules(methods: readonly ShippingMethod[]) {
	const countries = [...new Set(methods.flatMap((method) => Object.keys(method.prices)))].sort();
	return {
		shippingAddress: { ...ADDRESS, props: { ...ADDRESS.props, country: { type: "enum", values: countries } } },
		shippingMethod: { type: "enum", values: methods.map((method) => method.id) },
	} as const;
}
