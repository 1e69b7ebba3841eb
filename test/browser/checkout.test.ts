/**
 * The checkout walk in a real browser: a guest buying on a phone with shipping and tax, the held
 * stock's countdown, the confirmation that survives a reload and follows the order live; a guest
 * cart merging on sign-in; a declined card; a hold that runs out.
 */
import type { Page } from "playwright-core";
import { taxOn } from "../../lib/contracts/checkout";
import { formatMoney } from "../../lib/contracts/money";
import { adminToken, type Client, newCustomer } from "../support/http";
import { eventually } from "../support/wait";
import {
	BIG_PHONE,
	checkedWindows,
	overflowsHorizontally,
	seededAgoraWithBrowser,
	seriousA11yViolations,
	tappable,
	visibleText,
	waitForLive,
} from "./support/browser";
import { ADDRESS, continueToPayment, DECLINED_CARD, fillAddress, GOOD_CARD, pay, shortId } from "./support/shop";

interface Product {
	id: string;
	name: string;
	price: number;
	stock: number;
}

// The demo shop's terms for the United Kingdom (lib/contracts/checkout.ts): standard shipping 9.00, tax 20 %.
const GB_STANDARD = 900;
const GB_TAX = 2000;

/** Raw codes and internal names that must never reach a shopper's screen. */
const NOT_FOR_PEOPLE = /OUT_OF_STOCK|CART_NOT_FOUND|VALIDATION_ERROR|\b4\d\d\b|cardNumber|address\.[a-z]/;

const open = checkedWindows();

async function product(api: Client, q: string): Promise<Product> {
	return (await api.get(`/products?q=${encodeURIComponent(q)}`)).body.rows[0];
}

/** Adds a product from the catalogue's card, and waits until the cart has it. */
async function addFromCatalogue(page: Page, name: string): Promise<void> {
	await page.getByRole("button", { name: `Add to cart: ${name}` }).click();
	await page.getByText(`${name} is in your cart.`).first().waitFor();
}

/** Seconds left that the countdown shows. */
async function countdownSeconds(page: Page): Promise<number> {
	const text = (await page.locator("agora-hold-countdown time").textContent()) ?? "";
	const [minutes, seconds] = text.split(":").map(Number);
	return (minutes ?? 0) * 60 + (seconds ?? 0);
}

describe("with the demo shop's terms", () => {
	const shop = seededAgoraWithBrowser();

	it("a guest buys on a phone with shipping and tax, sees the hold count down, and keeps the confirmation after a reload", async () => {
		const tea = await product(shop.api, "Sencha");
		const { page } = await open(shop, { viewport: BIG_PHONE });
		await page.goto("/");
		await addFromCatalogue(page, tea.name);
		await addFromCatalogue(page, tea.name);
		await page.getByRole("link", { name: /^Cart/ }).click();
		await page.locator(`li[data-product-id="${tea.id}"]`).getByText("In stock").waitFor();
		expect(await page.getByLabel(`Quantity of ${tea.name}`).inputValue()).toBe("2");
		expect(await overflowsHorizontally(page)).toBe(false);
		await page.getByRole("link", { name: "Go to checkout" }).click();

		// Address and email: no account needed.
		await page.getByText("Checking out as a guest.").waitFor();
		await fillAddress(page, { name: "Gail Guest", email: "gail@example.com" });
		expect(await overflowsHorizontally(page)).toBe(false);
		await page.getByRole("button", { name: "Continue to shipping" }).click();

		// Shipping to the UK: the first method is chosen, and shipping and tax are added to the total.
		const subtotal = 2 * tea.price;
		const tax = taxOn(subtotal + GB_STANDARD, GB_TAX);
		const total = subtotal + GB_STANDARD + tax;
		const summary = page.getByRole("complementary", { name: "Order summary" });
		await summary.getByText(formatMoney(total, "USD")).waitFor();
		const shown = (await summary.textContent()) ?? "";
		for (const part of [
			"Subtotal",
			formatMoney(subtotal, "USD"),
			"Shipping (Standard)",
			formatMoney(GB_STANDARD, "USD"),
			"Tax (20%)",
			formatMoney(tax, "USD"),
		])
			expect(shown).toContain(part);
		expect(await page.getByRole("radio", { name: /Standard/ }).isChecked()).toBe(true);
		expect(await tappable(page.getByRole("radio", { name: /Express/ }))).toBe(true);
		expect(await overflowsHorizontally(page)).toBe(false);

		// Holding starts the countdown; asking again extends it.
		await page.getByRole("button", { name: `Continue to payment · ${formatMoney(total, "USD")}` }).click();
		await page.getByRole("timer").waitFor();
		const left = await countdownSeconds(page);
		expect(left).toBeGreaterThan(500);
		expect(left).toBeLessThanOrEqual(600);
		expect((await shop.api.get(`/inventory/${tea.id}`)).body.held).toBe(2);
		await eventually(async () => expect(await countdownSeconds(page)).toBeLessThan(left));
		await page.getByRole("button", { name: "Keep them longer" }).click();
		await eventually(async () => expect(await countdownSeconds(page)).toBeGreaterThanOrEqual(left));
		expect(await seriousA11yViolations(page)).toEqual([]);
		expect(await overflowsHorizontally(page)).toBe(false);
		const payButton = page.getByRole("button", { name: `Pay ${formatMoney(total, "USD")}` });
		await payButton.scrollIntoViewIfNeeded();
		expect(await tappable(payButton)).toBe(true);

		// Paid: the confirmation, with the same figures.
		await pay(page, GOOD_CARD);
		await page.waitForURL(/\/orders\/[\w-]+$/);
		const orderId = decodeURIComponent(new URL(page.url()).pathname.split("/").pop() ?? "");
		await page.getByRole("heading", { name: `Order ${shortId(orderId)}` }).waitFor();
		await page.locator('li[aria-current="step"]', { hasText: "Confirmed" }).waitFor();
		await page.getByText("Updates on this order go to gail@example.com").waitFor();
		expect(await page.locator("table.items").textContent()).toContain(formatMoney(total, "USD"));
		expect(await overflowsHorizontally(page)).toBe(false);
		const admin = await adminToken(shop.api);
		const order = (await shop.api.get(`/orders/${orderId}`, { token: admin })).body;
		expect(order).toMatchObject({ userId: null, email: "gail@example.com", subtotal, total, tax: { amount: tax, rate: GB_TAX } });
		expect(order.shippingAddress).toMatchObject({ name: "Gail Guest", country: "GB" });
		// The cart is done with: the header counts nothing.
		await page.getByRole("link", { name: /^Cart.*, 0 items/ }).waitFor();

		// A reload still shows the order, and it follows the order live.
		await page.reload();
		await page.getByRole("heading", { name: `Order ${shortId(orderId)}` }).waitFor();
		await page.locator('li[aria-current="step"]', { hasText: "Confirmed" }).waitFor();
		await waitForLive(page, "connected");
		expect((await shop.api.patch(`/orders/${orderId}/status`, { status: "processing" }, { token: admin })).status).toBe(200);
		await page.locator('li[aria-current="step"]', { hasText: "Processing" }).waitFor();
		expect(await page.evaluate("performance.getEntriesByType('navigation').length")).toBe(1);
		expect(await visibleText(page)).not.toMatch(NOT_FOR_PEOPLE);
	});

	it("a guest's cart joins the account's cart on sign-in, and the account's cart follows price changes live", async () => {
		const [tea, mug] = [await product(shop.api, "Sencha"), await product(shop.api, "Kettle")];
		const customer = await newCustomer(shop.api, "Mara Merger");
		// Put in on another device, earlier.
		const account = (await shop.api.post("/carts", undefined, { token: customer.token })).body;
		expect(
			(await shop.api.request("PUT", `/carts/${account.id}/items/${mug.id}`, { token: customer.token, body: { quantity: 1 } })).status,
		).toBe(200);

		const { page } = await open(shop, { viewport: BIG_PHONE });
		await page.goto("/");
		await addFromCatalogue(page, tea.name);
		await page.getByRole("link", { name: /^Cart.*, 1 items/ }).waitFor();
		await page.getByRole("link", { name: "Sign in" }).click();
		await page.getByLabel("Email").fill(customer.email);
		await page.getByLabel("Password").fill("correct-horse");
		await page.getByRole("button", { name: "Sign in", exact: true }).click();
		await page.getByText("Welcome, Mara Merger.").waitFor();

		await page.getByRole("link", { name: /^Cart.*, 2 items/ }).click();
		for (const item of [tea, mug]) await page.locator(`li[data-product-id="${item.id}"]`).waitFor();
		expect(await page.evaluate("localStorage.getItem('agora.cart')")).toBeNull();
		const merged = (await shop.api.post("/carts", undefined, { token: customer.token })).body;
		expect(merged.items.map((line: { productId: string }) => line.productId).sort()).toEqual([tea.id, mug.id].sort());

		// The shop raises a price: the open cart shows it without a reload.
		await waitForLive(page, "connected");
		const admin = await adminToken(shop.api);
		expect((await shop.api.patch(`/products/${mug.id}`, { price: mug.price + 100 }, { token: admin })).status).toBe(200);
		await page
			.locator(`li[data-product-id="${mug.id}"]`)
			.getByText(formatMoney(mug.price + 100, "USD"))
			.first()
			.waitFor();
		expect((await shop.api.patch(`/products/${mug.id}`, { price: mug.price }, { token: admin })).status).toBe(200);
		expect(await page.evaluate("performance.getEntriesByType('navigation').length")).toBe(1);
	});

	it("a declined card is said in words for people, and the cart stays to pay another way", async () => {
		const tea = await product(shop.api, "Jasmine");
		const customer = await newCustomer(shop.api, "Dee Clined");
		const { page } = await open(shop, { token: customer.token, cart: [{ productId: tea.id, quantity: 1 }], viewport: BIG_PHONE });
		await page.goto("/checkout");
		await fillAddress(page, { address: ADDRESS });
		await continueToPayment(page);
		await pay(page, DECLINED_CARD);
		await page.getByRole("alert").getByText("Your card was declined, so nothing was charged.").waitFor();
		await page.getByText("This card was declined. Try another card.").waitFor();
		expect(new URL(page.url()).pathname).toBe("/checkout");
		expect(await visibleText(page)).not.toMatch(NOT_FOR_PEOPLE);
		// The items are still in the cart, held again, and the next card pays for them.
		await page.getByRole("link", { name: /^Cart.*, 1 items/ }).waitFor();
		await page.getByRole("timer").waitFor();
		await pay(page, GOOD_CARD);
		await page.waitForURL(/\/orders\/[\w-]+$/);
		await page.locator('li[aria-current="step"]', { hasText: "Confirmed" }).waitFor();
		const orders = (await shop.api.get("/orders", { token: customer.token })).body.rows;
		expect(orders.map((order: { status: string }) => order.status).sort()).toEqual(["confirmed", "failed"]);
	});
});

describe("with a short hold", () => {
	const shop = seededAgoraWithBrowser({ HOLD_TTL_SECONDS: "5" });

	it("says when the hold ran out, gives the units back, and holds them again on request", async () => {
		const tea = await product(shop.api, "Sencha");
		const { page } = await open(shop, { cart: [{ productId: tea.id, quantity: 1 }], viewport: BIG_PHONE });
		await page.goto("/checkout");
		await fillAddress(page, { name: "Tim Eout", email: "tim@example.com" });
		await continueToPayment(page);
		await page.getByRole("timer").waitFor();
		await page.getByRole("alert").getByText("Your hold ran out.").waitFor({ timeout: 15_000 });
		expect(await page.getByRole("button", { name: /^Pay / }).isDisabled()).toBe(true);
		await eventually(async () => expect((await shop.api.get(`/inventory/${tea.id}`)).body.held).toBe(0));

		await page.getByRole("button", { name: "Hold my items again" }).click();
		await page.getByRole("timer").waitFor();
		expect((await shop.api.get(`/inventory/${tea.id}`)).body.held).toBe(1);
		await pay(page, GOOD_CARD);
		await page.waitForURL(/\/orders\/[\w-]+$/);
		await page.locator('li[aria-current="step"]', { hasText: "Confirmed" }).waitFor();
	});
});
