import type { Cart, CartLine } from "../../frontend/src/api/types";
import {
	buyable,
	clampQuantity,
	formatCountdown,
	holdDeadline,
	itemCount,
	lineNote,
	MAX_QUANTITY,
	parseGuestCartKey,
	quantityOf,
} from "../../frontend/src/lib/cart";

const line = (productId: string, quantity: number, available: number): CartLine => ({
	productId,
	name: productId,
	price: 1290,
	quantity,
	available,
});

const cartOf = (items: CartLine[], hold: Cart["hold"] = null): Cart => ({
	id: "c1",
	items,
	subtotal: 0,
	shipping: null,
	tax: null,
	total: 0,
	currency: "USD",
	hold,
	updatedAt: "2026-12-07T12:00:00.000Z",
});

describe("web cart", () => {
	it("counts units across lines, and each product's units", () => {
		const cart = cartOf([line("p1", 2, 10), line("p2", 3, 10)]);
		expect(itemCount(cart)).toBe(5);
		expect(itemCount(null)).toBe(0);
		expect(quantityOf(cart, "p2")).toBe(3);
		expect(quantityOf(cart, "p3")).toBe(0);
		expect(quantityOf(null, "p1")).toBe(0);
	});

	it("keeps typed quantities whole and between 1 and the maximum", () => {
		expect(clampQuantity(0)).toBe(1);
		expect(clampQuantity(-4)).toBe(1);
		expect(clampQuantity(2.7)).toBe(2);
		expect(clampQuantity(Number.NaN)).toBe(1);
		expect(clampQuantity(1_000)).toBe(MAX_QUANTITY);
	});

	it("says what each line's stock means for the shopper", () => {
		expect(lineNote(line("p", 2, 40), false)).toEqual({ tone: "ok", text: "In stock" });
		expect(lineNote(line("p", 2, 4), false)).toEqual({ tone: "low", text: "Only 4 left" });
		expect(lineNote(line("p", 3, 2), false)).toEqual({ tone: "problem", text: "Only 2 left: lower the quantity to check out" });
		expect(lineNote(line("p", 1, 0), false)).toEqual({ tone: "problem", text: "Sold out: remove it to check out" });
		// Held units are the shopper's, whatever is left on the shelf.
		expect(lineNote(line("p", 3, 0), true)).toEqual({ tone: "ok", text: "Held for you" });
	});

	it("lets a cart check out only when every line can be had", () => {
		expect(buyable(cartOf([line("p1", 2, 2)]))).toBe(true);
		expect(buyable(cartOf([line("p1", 2, 2), line("p2", 2, 1)]))).toBe(false);
		expect(buyable(cartOf([]))).toBe(false);
		expect(buyable(cartOf([line("p1", 2, 0)], { expiresAt: "2026-12-07T12:10:00.000Z", seconds: 600 }))).toBe(true);
	});

	it("counts a hold down from when its answer arrived, whatever the browser's clock says", () => {
		const hold = { expiresAt: "2000-01-01T00:10:00.000Z", seconds: 600 };
		expect(holdDeadline(hold, 1_000_000)).toBe(1_600_000);
		expect(formatCountdown(600_000)).toBe("10:00");
		expect(formatCountdown(545_001)).toBe("9:06");
		expect(formatCountdown(5_000)).toBe("0:05");
		expect(formatCountdown(-3_000)).toBe("0:00");
	});

	it("reads back a saved guest cart and ignores anything else (an older app's lines, a hand edit)", () => {
		expect(parseGuestCartKey(JSON.stringify({ id: "c1", secret: "s" }))).toEqual({ id: "c1", secret: "s" });
		expect(parseGuestCartKey(null)).toBeNull();
		expect(parseGuestCartKey("{not json")).toBeNull();
		expect(parseGuestCartKey(JSON.stringify([{ productId: "p1", quantity: 2 }]))).toBeNull();
		expect(parseGuestCartKey(JSON.stringify({ id: "c1" }))).toBeNull();
	});
});
