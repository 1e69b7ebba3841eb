/**
 * Every main page, as a shopper and as an admin: no serious or critical axe violations, no
 * sideways scrolling at 360 px, no uncaught errors. With UPDATE_SCREENSHOTS=1 it also refreshes
 * the pictures in docs/screenshots (committed, so a normal run leaves them alone).
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { type Agora, startAgora } from "../support/agora";
import { adminToken, type Client, client, newCustomer } from "../support/http";
import { eventually } from "../support/wait";
import {
	type AppWindow,
	BIG_PHONE,
	brokenImages,
	inPage,
	launchBrowser,
	openApp,
	overflowsHorizontally,
	PHONE,
	seriousA11yViolations,
	tappable,
} from "./support/browser";
import { shippingAddress } from "./support/shop";

const SCREENSHOTS = path.resolve(__dirname, "..", "..", "docs", "screenshots");
const updateScreenshots = process.env.UPDATE_SCREENSHOTS === "1";

let agora: Agora;
let api: Client;
let browser: Browser;
let customerToken: string;
let admin: string;
let orderId: string;
const products: Record<string, { id: string; name: string; price: number; imageUrl: string; stock: number }> = {};

interface PageCase {
	name: string;
	who: "customer" | "admin" | "visitor";
	path: () => string;
	/** Something that is on the page only once its data has loaded. */
	ready: (page: Page) => Promise<void>;
	/** The file under docs/screenshots, for the pages the README shows. */
	screenshot?: string;
}

const PAGES: PageCase[] = [
	{
		name: "catalogue",
		who: "customer",
		path: () => "/",
		ready: (page) => page.getByRole("link", { name: "Airtight Storage Tin" }).waitFor(),
		screenshot: "catalogue",
	},
	{
		name: "product",
		who: "customer",
		path: () => `/products/${products.jasmine?.id}`,
		ready: (page) => page.getByRole("heading", { name: "Jasmine Pearls" }).waitFor(),
		screenshot: "product",
	},
	{ name: "cart", who: "customer", path: () => "/cart", ready: (page) => page.getByRole("link", { name: "Go to checkout" }).waitFor() },
	{
		name: "checkout",
		who: "customer",
		path: () => "/checkout",
		ready: (page) => page.getByRole("button", { name: "Continue to shipping" }).waitFor(),
		screenshot: "checkout",
	},
	{ name: "orders", who: "customer", path: () => "/orders", ready: (page) => page.getByText("Order ").first().waitFor() },
	{
		name: "order",
		who: "customer",
		path: () => `/orders/${orderId}`,
		ready: (page) => page.locator('li[aria-current="step"]', { hasText: "Processing" }).waitFor(),
		screenshot: "order",
	},
	{ name: "login", who: "visitor", path: () => "/login", ready: (page) => page.getByRole("heading", { name: "Sign in" }).waitFor() },
	{ name: "admin overview", who: "admin", path: () => "/admin", ready: (page) => page.getByText("to ship").waitFor() },
	{
		name: "admin orders board",
		who: "admin",
		path: () => "/admin/orders",
		ready: (page) => page.locator("agora-order-card").first().waitFor(),
		screenshot: "admin-orders",
	},
	{
		name: "admin products",
		who: "admin",
		path: () => "/admin/products",
		ready: (page) => page.getByRole("button", { name: "Edit Airtight Storage Tin" }).waitFor(),
	},
	{
		name: "admin inventory",
		who: "admin",
		path: () => "/admin/inventory",
		ready: (page) => page.getByRole("heading", { name: "Low stock" }).waitFor(),
		screenshot: "admin-inventory",
	},
	{
		name: "admin webhooks",
		who: "admin",
		path: () => "/admin/webhooks",
		ready: (page) => page.getByText("No webhooks yet").waitFor(),
	},
];

async function placeOrder(token: string, name: string, items: { productId: string; quantity: number }[]): Promise<string> {
	const placed = await api.post(
		"/orders",
		{ items, shippingAddress: shippingAddress(name), payment: { cardNumber: "4242424242424242" } },
		{ token },
	);
	expect(placed.status).toBe(201);
	await eventually(async () => expect((await api.get(`/orders/${placed.body.id}`, { token })).body.status).toBe("confirmed"));
	return placed.body.id;
}

async function moveTo(id: string, ...statuses: string[]): Promise<void> {
	for (const status of statuses) expect((await api.patch(`/orders/${id}/status`, { status }, { token: admin })).status).toBe(200);
}

beforeAll(async () => {
	agora = await startAgora({ env: { SEED_DEMO: "1" } });
	api = client(agora.url);
	browser = await launchBrowser();
	admin = await adminToken(api);
	for (const row of (await api.get("/products?pageSize=100")).body.rows) products[row.sku === "TEA-003" ? "jasmine" : row.sku] = row;
	const p = (key: string) => products[key]?.id ?? "";

	// A shop with some history, so the board and the lists have something to show.
	customerToken = (await newCustomer(api, "Mina Shopper")).token;
	const other = (await newCustomer(api, "Jon Tealover")).token;
	orderId = await placeOrder(customerToken, "Mina Shopper", [
		{ productId: p("jasmine"), quantity: 2 },
		{ productId: p("ACC-001"), quantity: 1 },
	]);
	await moveTo(orderId, "processing");
	await moveTo(await placeOrder(other, "Jon Tealover", [{ productId: p("COF-001"), quantity: 1 }]), "processing", "shipped");
	await moveTo(await placeOrder(other, "Jon Tealover", [{ productId: p("BRW-002"), quantity: 1 }]), "processing", "shipped", "delivered");
	await placeOrder(customerToken, "Mina Shopper", [{ productId: p("TEA-001"), quantity: 3 }]);
	await moveTo(await placeOrder(other, "Jon Tealover", [{ productId: p("COF-003"), quantity: 2 }]), "cancelled");
	expect((await api.post(`/inventory/${p("ACC-002")}/adjust`, { set: 2, reason: "Stock count" }, { token: admin })).status).toBe(200);
});

afterAll(async () => {
	await browser?.close();
	await agora?.stop();
});

async function open(who: PageCase["who"], viewport?: { width: number; height: number }): Promise<AppWindow> {
	const jasmine = products.jasmine;
	const cart = jasmine ? [{ productId: jasmine.id, quantity: 2 }] : [];
	const token = who === "customer" ? customerToken : who === "admin" ? admin : undefined;
	return openApp(browser, agora.url, { token, cart: who === "customer" ? cart : undefined, viewport });
}

describe.each(PAGES)("the $name page", (pageCase) => {
	it("has no serious accessibility violations, and fits a 360 px phone", async () => {
		const desktop = await open(pageCase.who);
		await desktop.page.goto(pageCase.path());
		await pageCase.ready(desktop.page);
		expect(await brokenImages(desktop.page)).toEqual([]);
		expect(await seriousA11yViolations(desktop.page)).toEqual([]);
		if (updateScreenshots && pageCase.screenshot) {
			mkdirSync(SCREENSHOTS, { recursive: true });
			await desktop.page.waitForLoadState("networkidle"); // pictures included
			await desktop.page.screenshot({ path: path.join(SCREENSHOTS, `${pageCase.screenshot}.png`) });
		}
		expect(desktop.errors).toEqual([]);
		await desktop.context.close();

		const phone = await open(pageCase.who, PHONE);
		await phone.page.goto(pageCase.path());
		await pageCase.ready(phone.page);
		expect(await brokenImages(phone.page)).toEqual([]);
		expect(await overflowsHorizontally(phone.page)).toBe(false);
		if (updateScreenshots && pageCase.screenshot === "catalogue") {
			await phone.page.waitForLoadState("networkidle");
			await phone.page.screenshot({ path: path.join(SCREENSHOTS, "catalogue-phone.png") });
		}
		expect(phone.errors).toEqual([]);
		await phone.context.close();
	});
});

test("the product editor dialog is accessible", async () => {
	const { page, context, errors } = await open("admin");
	await page.goto("/admin/products");
	await page.getByRole("button", { name: "New product" }).click();
	await page.getByRole("dialog", { name: "New product" }).waitFor();
	await page.getByLabel("Name").focus();
	expect(await seriousA11yViolations(page)).toEqual([]);
	await page.keyboard.press("Escape");
	await page.getByRole("dialog").waitFor({ state: "hidden" });
	expect(errors).toEqual([]);
	await context.close();
});

test("an admin is not offered a cart, and reaches every admin tab on a 360 px phone", async () => {
	const { page, context, errors } = await open("admin", PHONE);
	await page.goto("/");
	await page.getByRole("link", { name: "Airtight Storage Tin" }).waitFor();
	expect(await page.getByRole("link", { name: /^Cart/ }).count()).toBe(0);
	expect(await page.getByRole("button", { name: /^Add to cart/ }).count()).toBe(0);
	await page.goto(`/products/${products.jasmine?.id}`);
	await page.getByRole("heading", { name: "Jasmine Pearls" }).waitFor();
	expect(await page.getByRole("button", { name: "Add to cart" }).count()).toBe(0);
	await page.goto("/cart");
	await page.getByText("Admin accounts cannot place orders").waitFor();

	await page.goto("/admin/inventory");
	await page.getByRole("heading", { name: "Low stock" }).waitFor();
	const tabs = page.getByRole("navigation", { name: "Admin" }).getByRole("link");
	const names = ["Overview", "Orders", "Products", "Inventory", "Webhooks"];
	expect(await tabs.allInnerTexts()).toEqual(names);
	for (const name of names) expect(await tappable(tabs.getByText(name, { exact: true }))).toBe(true);
	// The keyboard walks the tabs in order.
	await tabs.first().focus();
	for (const name of names.slice(1)) {
		await page.keyboard.press("Tab");
		expect(await page.evaluate("document.activeElement.shadowRoot.activeElement.shadowRoot.activeElement.textContent")).toBe(name);
	}
	expect(errors).toEqual([]);
	await context.close();
});

test("on a phone the cart's buttons are thumb-sized, and toasts leave the products' buttons free", async () => {
	const { page, context, errors } = await open("customer", BIG_PHONE);
	await page.goto("/cart");
	for (const name of ["One less Jasmine Pearls", "One more Jasmine Pearls"]) {
		const box = await page.getByRole("button", { name }).boundingBox();
		expect(box?.width).toBeGreaterThanOrEqual(44);
		expect(box?.height).toBeGreaterThanOrEqual(44);
	}

	// A shopper scrolls a product's button down to their thumb and taps it twice: the toasts that
	// follow cover none of the buttons on screen.
	await page.goto("/");
	const buttons = page.getByRole("button", { name: /^Add to cart/ });
	await buttons.first().waitFor();
	// Each card holds its whole button (a broken picture once pushed it past the card's edge).
	for (const card of await page.locator("agora-product-card").all()) {
		const [outer, inner] = [await card.boundingBox(), await card.getByRole("button").boundingBox()];
		if (!outer || !inner) throw new Error("a product card or its button is not rendered");
		expect(inner.x).toBeGreaterThanOrEqual(outer.x);
		expect(inner.x + inner.width).toBeLessThanOrEqual(outer.x + outer.width);
		expect(inner.y + inner.height).toBeLessThanOrEqual(outer.y + outer.height);
	}
	await buttons.first().evaluate(inPage("button", "button.scrollIntoView({ block: 'end' })"));
	await buttons.first().click();
	await buttons.first().click();
	await page.locator("agora-toast-region .toast").nth(1).waitFor();
	let onScreen = 0;
	for (const button of await buttons.all()) {
		const box = await button.boundingBox();
		if (!box || box.y < 0 || box.y + box.height > BIG_PHONE.height) continue;
		onScreen++;
		expect(await tappable(button)).toBe(true);
	}
	expect(onScreen).toBeGreaterThan(0);
	expect(errors).toEqual([]);
	await context.close();
});

test("the favicon and every product picture are served as SVG under the app's policy", async () => {
	const { page, context, errors } = await open("visitor");
	await page.goto("/login");
	const icon = await page.locator('link[rel="icon"]').getAttribute("href");
	const pictures = Object.values(products).map((product) => product.imageUrl);
	expect(pictures).toHaveLength(12);
	for (const url of [icon ?? "", ...pictures, "/images/products/placeholder.svg"]) {
		const res = await page.request.get(url);
		expect([url, res.status(), res.headers()["content-type"]]).toEqual([url, 200, "image/svg+xml"]);
		expect(res.headers()["content-security-policy"]).toContain("script-src 'self'");
		// Pictures draw with attributes only: nothing the policy would refuse if one is opened on its own.
		expect(await res.text()).not.toMatch(/<script|<style|style=|on\w+=/i);
	}
	expect(errors).toEqual([]);
	await context.close();
});
