import { DEMO_SHIPPING_METHODS, DEMO_TAX_RATES } from "../../lib/contracts/checkout";
import { blankCart, cartView, type StoredCart, withQuantity } from "../../services/carts/model";

const TERMS = { methods: DEMO_SHIPPING_METHODS, taxRates: DEMO_TAX_RATES, currency: "USD" };
const NOW = Date.parse("2026-12-07T16:00:00.000Z");
const entry = (id: string, price: number) => ({ id, name: `Product ${id}`, price, currency: "USD" });

function cart(change: Partial<StoredCart>): StoredCart {
	return { ...blankCart("cart-1", { secretHash: "00" }, new Date(NOW)), ...change };
}

describe("how a cart is shown", () => {
	test("lines priced now, shipping and tax rounded half up, products no longer sold left out", () => {
		const shown = cartView(
			cart({
				items: [
					{ productId: "a", quantity: 2 },
					{ productId: "gone", quantity: 1 },
				],
				address: { name: "A", line1: "1 Street", city: "Berlin", postalCode: "10115", country: "DE" },
				method: "standard",
			}),
			new Map([["a", entry("a", 75)]]),
			{ a: { available: 4 } },
			TERMS,
			NOW,
		);
		expect(shown.items).toEqual([{ productId: "a", name: "Product a", price: 75, quantity: 2, available: 4 }]);
		// 19 % of 1050 is 199.5: 200.
		expect(shown).toMatchObject({
			subtotal: 150,
			shipping: { method: "standard", price: 900 },
			tax: { rate: 1900, amount: 200 },
			total: 1250,
		});
	});

	test("a live hold counts down and its units count as available to the cart; an expired one is null", () => {
		const held = cart({ items: [{ productId: "a", quantity: 2 }], hold: { holdId: "h", expiresAt: new Date(NOW + 90_500) } });
		const shown = cartView(held, new Map([["a", entry("a", 100)]]), { a: { available: 1 } }, TERMS, NOW);
		expect(shown.hold).toEqual({ expiresAt: new Date(NOW + 90_500).toISOString(), seconds: 91 });
		expect(shown.items[0]?.available).toBe(3);
		const later = cartView(held, new Map([["a", entry("a", 100)]]), { a: { available: 1 } }, TERMS, NOW + 91_000);
		expect(later.hold).toBeNull();
		expect(later.items[0]?.available).toBe(1);
	});

	test("without a method only the items count; a method the shop no longer ships there by is shown as not chosen", () => {
		const address = { name: "A", line1: "1 Street", city: "Tokyo", postalCode: "100", country: "JP" };
		const shown = cartView(
			cart({ items: [{ productId: "a", quantity: 1 }], address, method: "standard" }),
			new Map([["a", entry("a", 500)]]),
			{},
			TERMS,
			NOW,
		);
		expect(shown).toMatchObject({ subtotal: 500, shipping: null, tax: null, total: 500 });
	});
});

test("setting a line keeps its place, 0 removes it, a new product goes last", () => {
	const items = [
		{ productId: "a", quantity: 1 },
		{ productId: "b", quantity: 1 },
	];
	expect(withQuantity(items, "a", 3)).toEqual([
		{ productId: "a", quantity: 3 },
		{ productId: "b", quantity: 1 },
	]);
	expect(withQuantity(items, "a", 0)).toEqual([{ productId: "b", quantity: 1 }]);
	expect(withQuantity(items, "c", 2).map((line) => line.productId)).toEqual(["a", "b", "c"]);
});
