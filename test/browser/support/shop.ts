/** What a shopper does in the app, step by step, as the tests need it. */
import type { Page } from "playwright-core";

export interface Address {
	line1: string;
	city: string;
	postalCode: string;
	country: string;
}

export const ADDRESS: Address = { line1: "1 Tea Street", city: "Leeds", postalCode: "LS1 1AA", country: "United Kingdom" };
export const GOOD_CARD = "4242 4242 4242 4242";

/** Fills the checkout form; the name is prefilled from the account. */
export async function fillCheckout(
	page: Page,
	{ card = GOOD_CARD, address = ADDRESS }: { card?: string; address?: Address } = {},
): Promise<void> {
	await page.getByLabel("Street address").fill(address.line1);
	await page.getByLabel("City").fill(address.city);
	await page.getByLabel("Postal code").fill(address.postalCode);
	await page.getByLabel("Country").selectOption(address.country);
	await page.getByLabel("Card number").fill(card);
}

/** Adds a product from its page, checks out with a good card, and returns the new order's id. */
export async function orderThroughTheApp(page: Page, productId: string, quantity: number): Promise<string> {
	await page.goto(`/products/${productId}`);
	await page.getByLabel("Quantity").fill(String(quantity));
	await page.getByRole("button", { name: "Add to cart", exact: true }).click();
	await page.getByRole("link", { name: /^Cart/ }).click();
	await page.getByRole("link", { name: "Go to checkout" }).click();
	await fillCheckout(page);
	await page.getByRole("button", { name: "Place order" }).click();
	await page.waitForURL(/\/orders\/[\w-]+$/);
	return decodeURIComponent(new URL(page.url()).pathname.split("/").pop() ?? "");
}

export { shortId } from "../../../frontend/src/lib/format";
