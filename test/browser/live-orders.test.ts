import { adminToken } from "../support/http";
import { type AppWindow, type OpenOptions, openApp, seededAgoraWithBrowser, waitForLive } from "./support/browser";
import { orderThroughTheApp, shortId } from "./support/shop";

const shop = seededAgoraWithBrowser();

const windows: AppWindow[] = [];

async function open(options?: OpenOptions): Promise<AppWindow> {
	const window = await openApp(shop.browser, shop.agora.url, options);
	windows.push(window);
	return window;
}

afterEach(() => {
	for (const { errors } of windows) expect(errors).toEqual([]);
});

test("a shopper's orders and the admin board follow each other live, without reloads", async () => {
	const jasmine = (await shop.api.get("/products?q=Jasmine")).body.rows[0];
	const startingStock: number = jasmine.stock;

	const admin = await open({ token: await adminToken(shop.api) });
	await admin.page.goto("/admin/orders");
	await admin.page.getByRole("heading", { name: /^Pending/ }).waitFor();
	await waitForLive(admin.page, "connected");

	// A new shopper signs up through the app.
	const shopper = await open();
	await shopper.page.goto("/login");
	await shopper.page.getByRole("button", { name: "Create an account" }).click();
	await shopper.page.getByLabel("Your name").fill("Mina Shopper");
	await shopper.page.getByLabel("Email").fill(`mina-${Date.now()}@example.com`);
	await shopper.page.getByLabel("Password").fill("correct-horse");
	await shopper.page.getByRole("button", { name: "Create account" }).click();
	await shopper.page.waitForURL((url) => url.pathname === "/");
	await waitForLive(shopper.page, "connected");

	// Another tab watches the product's stock.
	const watcher = await open();
	await watcher.page.goto(`/products/${jasmine.id}`);
	await watcher.page.getByText(`In stock (${startingStock})`).waitFor();
	await waitForLive(watcher.page, "connected");

	// 1. The shopper orders: the board shows it, and the stock drops everywhere.
	const first = await orderThroughTheApp(shopper.page, jasmine.id, 2);
	await admin.page.getByRole("article", { name: `Order ${shortId(first)}` }).waitFor();
	await admin.page.getByText(`New order ${shortId(first)}`).waitFor();
	await watcher.page.getByText(`In stock (${startingStock - 2})`).waitFor();

	// 2. Once paid, the admin starts processing it: the shopper's order page follows.
	await admin.page.getByRole("button", { name: `Start processing ${shortId(first)}` }).click();
	await shopper.page.locator('li[aria-current="step"]', { hasText: "Processing" }).waitFor();
	await shopper.page.getByText(`Order ${shortId(first)} is now processing.`).waitFor();
	// Processing has started: a customer can no longer cancel.
	expect(await shopper.page.getByRole("button", { name: "Cancel order" }).count()).toBe(0);

	// 3. A second order, cancelled by the shopper: the admin sees it flagged, the stock comes back.
	const second = await orderThroughTheApp(shopper.page, jasmine.id, 1);
	await watcher.page.getByText(`In stock (${startingStock - 3})`).waitFor();
	await admin.page.getByRole("article", { name: `Order ${shortId(second)}` }).waitFor();
	await shopper.page.getByRole("button", { name: "Cancel order" }).click();
	await shopper.page.getByRole("button", { name: "Yes, cancel it" }).click();
	await shopper.page.getByText("This order was cancelled").waitFor();

	await admin.page.locator('agora-order-card[status="cancelled"]', { hasText: shortId(second) }).waitFor();
	await admin.page.getByText(`Order ${shortId(second)} was cancelled.`).waitFor();
	await watcher.page.getByText(`In stock (${startingStock - 2})`).waitFor();

	// Nothing above needed a reload: every page is still the one first loaded.
	for (const { page } of [admin, shopper, watcher])
		expect(await page.evaluate("performance.getEntriesByType('navigation').length")).toBe(1);
});
