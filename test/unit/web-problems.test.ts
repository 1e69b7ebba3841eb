import { fieldErrors, humanMessage, missingMessage, outOfStockItems, problemMessage, stockMessage } from "../../frontend/src/lib/problems";
import type { ErrorBody } from "../../lib/contracts/errors";

describe("web error answers", () => {
	it("maps a 422's field problems to form fields in words for people, first problem first", () => {
		const body = {
			name: "ValidationError",
			message: "Parameters validation error!",
			code: 422,
			data: [
				{
					field: "address.line1",
					message: "The 'address.line1' field length must be greater than or equal to 1 characters long.",
					type: "stringMin",
					expected: 1,
				},
				{ field: "address.line1", message: "The 'address.line1' field is required.", type: "required" },
				{
					field: "address.postalCode",
					message: "The 'address.postalCode' field length must be less than or equal to 20 characters long.",
					type: "stringMax",
					expected: 20,
				},
				{ field: "address.country", message: "The 'address.country' field is required.", type: "required" },
				{ field: "payment.cardNumber", message: "A card number is 12 to 19 digits", type: "stringPattern" },
				{
					field: "password",
					message: "The 'password' field length must be greater than or equal to 8 characters long.",
					type: "stringMin",
					expected: 8,
				},
				{
					field: "items[0].quantity",
					message: "The 'items[0].quantity' field must be less than or equal to 1000.",
					type: "numberMax",
					expected: 1000,
				},
				{ field: "price", message: "The 'price' field must be an integer.", type: "numberInteger" },
			],
		};
		expect(fieldErrors(body)).toEqual({
			"address.line1": "Enter your street address",
			"address.postalCode": "Keep the postal code to 20 characters or fewer",
			"address.country": "Choose your country",
			"payment.cardNumber": "Enter the card number as 12 to 19 digits",
			password: "Use at least 8 characters for the password",
			"items[0].quantity": "Enter a quantity of 1000 or less",
			price: "Enter a price such as 12.90",
		});
	});

	it("keeps what a service wrote for people, and never a validator's path", () => {
		const card = { field: "payment.cardNumber", message: "Use a test card: 4242424242424242 (succeeds)", type: "card" };
		expect(humanMessage(card)).toBe(card.message);
		expect(humanMessage({ field: "address.city", message: "The 'address.city' field is odd.", type: "somethingNew" })).toBe(
			"Check the city",
		);
		expect(missingMessage("address.postalCode")).toBe("Enter your postal code");
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
		} satisfies ErrorBody;
		expect(outOfStockItems(body)).toEqual([{ productId: "p1", name: "Sencha", available: 2 }]);
		expect(outOfStockItems({ ...body, data: [{ productId: "p2" }] })).toEqual([
			{ productId: "p2", name: "This item", available: undefined },
		]);
		// Another conflict's data names a product too (a stock adjustment below zero): not a shortage.
		expect(outOfStockItems({ ...body, type: "NEGATIVE_STOCK" })).toEqual([]);
	});

	it("says how much of a product is left, by the name the shopper knows", () => {
		expect(stockMessage({ productId: "p1", name: "Sencha", available: 2 })).toBe("Sorry, only 2 of Sencha are left.");
		expect(stockMessage({ productId: "p1", name: "Sencha", available: 1 })).toBe("Sorry, only 1 of Sencha is left.");
		expect(stockMessage({ productId: "p1", name: "This item", available: 0 }, "Sencha")).toBe("Sorry, Sencha is sold out.");
		expect(stockMessage({ productId: "p1", name: "Sencha", available: undefined })).toBe("Sorry, there is not enough Sencha in stock.");
	});

	it("words every refusal for people, never with a code or an internal name", () => {
		const stock = {
			name: "x",
			message: "Not enough stock of p1",
			code: 409,
			type: "OUT_OF_STOCK",
			data: { productId: "p1", available: 0 },
		} as const;
		expect(problemMessage(stock, "Could not add it.", { p1: "Sencha" })).toBe("Sorry, Sencha is sold out.");
		const invalid = {
			name: "ValidationError",
			message: "Parameters validation error!",
			code: 422,
			type: "VALIDATION_ERROR",
			data: [{ field: "email", message: "The 'email' field must be a valid e-mail.", type: "email" }],
		} as const;
		expect(problemMessage(invalid, "Could not save it.")).toBe("Enter an email address such as name@example.com.");
		expect(problemMessage({ name: "x", message: "Service 'carts' is not available", code: 503, type: "SERVICE_UNAVAILABLE" }, "No.")).toBe(
			"The shop is busy right now. Try again in a moment.",
		);
		expect(problemMessage({ name: "NetworkError", message: "Agora can't be reached.", code: 0 }, "No.")).toBe("Agora can't be reached.");
		expect(problemMessage({ name: "x", message: "Cart not found", code: 404, type: "CART_NOT_FOUND" }, "No.")).toBe(
			"This cart was checked out or closed in another window. Here is your cart as it is now.",
		);
		expect(problemMessage({ name: "x", message: "Cart c1 not found", code: 404, type: "NOT_FOUND" }, "Your cart could not be found.")).toBe(
			"Your cart could not be found.",
		);
	});
});
