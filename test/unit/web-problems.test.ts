import { fieldErrors, outOfStockItems } from "../../frontend/src/lib/problems";

describe("web error answers", () => {
	it("maps a 422's field problems to form fields, first message first", () => {
		const body = {
			name: "ValidationError",
			message: "Parameters validation error!",
			code: 422,
			data: [
				{ field: "shippingAddress.city", message: "The 'shippingAddress.city' field is required.", type: "required" },
				{ field: "shippingAddress.city", message: "Too short", type: "stringMin" },
				{ field: "payment.cardNumber", message: "A card number is 12 to 19 digits", type: "stringPattern" },
			],
		};
		expect(fieldErrors(body)).toEqual({
			"shippingAddress.city": "The 'shippingAddress.city' field is required.",
			"payment.cardNumber": "A card number is 12 to 19 digits",
		});
	});

	it("puts a conflict about one field on that field", () => {
		expect(fieldErrors({ name: "x", message: "An account with this email already exists", code: 409, data: { field: "email" } })).toEqual({
			email: "An account with this email already exists",
		});
		expect(fieldErrors({ name: "x", message: "Nope", code: 401 })).toEqual({});
	});

	it("reads the items of an out-of-stock conflict", () => {
		const body = {
			name: "x",
			message: "Not enough stock",
			code: 409,
			type: "OUT_OF_STOCK",
			data: { productId: "p1", name: "Sencha", requested: 9, available: 2 },
		};
		expect(outOfStockItems(body)).toEqual([{ productId: "p1", name: "Sencha", available: 2 }]);
		expect(outOfStockItems({ ...body, data: [{ productId: "p2" }] })).toEqual([
			{ productId: "p2", name: "This item", available: undefined },
		]);
		expect(outOfStockItems({ ...body, code: 422 })).toEqual([]);
	});
});
