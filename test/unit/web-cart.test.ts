import type { Product } from "../../frontend/src/api/types";
import {
	addToCart,
	cartTotals,
	clampQuantity,
	MAX_QUANTITY,
	orderItems,
	parseCart,
	refreshLine,
	removeLine,
	setQuantity,
} from "../../frontend/src/lib/cart";

const tea: Product = { id: "p1", name: "Sencha", sku: "TEA-001", price: 1290, currency: "USD", category: "tea" };
const mug: Product = { id: "p2", name: "Mug", sku: "ACC-001", price: 1800, currency: "USD", category: "accessories" };

describe("web cart maths", () => {
	it("adds products, merging repeats into one line", () => {
		let lines = addToCart([], tea);
		lines = addToCart(lines, mug, 2);
		lines = addToCart(lines, tea, 3);
		expect(lines.map((line) => [line.productId, line.quantity])).toEqual([
			["p1", 4],
			["p2", 2],
		]);
	});

	it("sums units and money", () => {
		const lines = addToCart(addToCart([], tea, 2), mug);
		expect(cartTotals(lines)).toEqual({ count: 3, subtotal: 2 * 1290 + 1800, currency: "USD" });
		expect(cartTotals([])).toEqual({ count: 0, subtotal: 0, currency: "USD" });
	});

	it("keeps quantities whole and between 1 and the maximum", () => {
		expect(clampQuantity(0)).toBe(1);
		expect(clampQuantity(-4)).toBe(1);
		expect(clampQuantity(2.7)).toBe(2);
		expect(clampQuantity(Number.NaN)).toBe(1);
		expect(clampQuantity(1_000)).toBe(MAX_QUANTITY);
		const lines = setQuantity(addToCart([], tea), "p1", 500);
		expect(lines[0]?.quantity).toBe(MAX_QUANTITY);
	});

	it("removes lines and leaves the input untouched", () => {
		const lines = addToCart(addToCart([], tea), mug);
		const fewer = removeLine(lines, "p1");
		expect(fewer.map((line) => line.productId)).toEqual(["p2"]);
		expect(lines).toHaveLength(2);
	});

	it("follows catalogue changes of name and price", () => {
		const lines = refreshLine(addToCart([], tea), { ...tea, name: "Sencha Superior", price: 1490 });
		expect(lines[0]).toMatchObject({ name: "Sencha Superior", price: 1490 });
	});

	it("sends only ids and quantities to the API", () => {
		expect(orderItems(addToCart([], tea, 2))).toEqual([{ productId: "p1", quantity: 2 }]);
	});

	it("reads back a saved cart and ignores anything malformed", () => {
		const saved = JSON.stringify(addToCart([], tea, 2));
		expect(parseCart(saved)).toEqual(addToCart([], tea, 2));
		expect(parseCart(null)).toEqual([]);
		expect(parseCart("{not json")).toEqual([]);
		expect(parseCart('{"lines": []}')).toEqual([]);
		expect(parseCart(JSON.stringify([{ productId: "x" }, { ...addToCart([], mug)[0], quantity: 0 }]))).toEqual([
			{ ...addToCart([], mug)[0], quantity: 1 },
		]);
	});
});
