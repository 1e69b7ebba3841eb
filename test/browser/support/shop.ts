/** What a shopper does in the app, step by step, as the tests need it. */
import type { Page } from "playwright-core";

export interface Address {
	line1: string;
	city: string;
	postalCode: string;
	/** As the list shows it. */
	country: string;
}

export const ADDRESS: Address = { line1: "1 Tea Street", city: "Leeds", postalCode: "LS1 1AA", country: "United Kingdom" };
/** The same address as the API takes it: the country by its ISO code. */
export const shippingAddress = (name: string) => ({ ...ADDRESS, name, country: "GB" });
export const GOOD_CARD = "4242 4242 4242 4242";
export const DECLINED_CARD = "4000 0000 0000 0002";

/** Fills the checkout's address step; a customer's name is prefilled from the account, a guest gives a name and an email. */
export async function fillAddress(
	page: Page,
	{ address = ADDRESS, name, email }: { address?: Address; name?: string; email?: string } = {},
): Promise<void> {
	if (name !== undefined) await page.getByLabel("Full name").fill(name);
	await page.getByLabel("Street address").fill(address.line1);
	await page.getByLabel("City").fill(address.city);
	await page.getByLabel("Postal code").fill(address.postalCode);
	await page.getByLabel("Country").selectOption({ label: address.country });
	if (email !== undefined) await page.getByLabel("Email").fill(email);
}

/** From the address step to the payment step, on the shipping method the checkout picks first. */
export async function continueToPayment(page: Page): Promise<void> {
	await page.getByRole("button", { name: "Continue to shipping" }).click();
	await page.getByRole("button", { name: /^Continue to payment/ }).click();
	await page.getByLabel("Card number").waitFor();
}

/** Pays on the payment step. */
export async function pay(page: Page, card = GOOD_CARD): Promise<void> {
	await page.getByLabel("Card number").fill(card);
	await page.getByRole("button", { name: /^Pay / }).click();
}

/** Adds a product from its page, checks out with a good card, and returns the new order's id. */
export async function orderThroughTheApp(page: Page, productId: string, quantity: number): Promise<string> {
	await page.goto(`/products/${productId}`);
	await page.getByLabel("Quantity").fill(String(quantity));
	await page.getByRole("button", { name: "Add to cart", exact: true }).click();
	await page
		.getByText(/added to your cart\.$|is in your cart\.$/)
		.first()
		.waitFor();
	await page.getByRole("link", { name: /^Cart/ }).click();
	await page.getByRole("link", { name: "Go to checkout" }).click();
	await fillAddress(page);
	await continueToPayment(page);
	await pay(page);
	await page.waitForURL(/\/orders\/[\w-]+$/);
	return decodeURIComponent(new URL(page.url()).pathname.split("/").pop() ?? "");
}

export { shortId } from "../../../frontend/src/lib/format";
