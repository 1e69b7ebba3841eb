import { orderBody } from "../support/commerce.suite";
import { adminToken, newCustomer } from "../support/http";
import {
	type AppWindow,
	checkedWindows,
	type OpenOptions,
	overflowsHorizontally,
	PHONE,
	seededAgoraWithBrowser,
	seriousA11yViolations,
	waitForLive,
} from "./support/browser";

const shop = seededAgoraWithBrowser();
const openChecked = checkedWindows();
const open = (options?: OpenOptions) => openChecked(shop, options);

/** A figure of today's tiles, as the page shows it. */
const kpi = (window: AppWindow, label: string) => window.page.locator(`[data-kpi="${label}"]`);

test("an admin's overview shows a new order placed through the API, without a reload", async () => {
	const admin = await open({ token: await adminToken(shop.api) });
	const charts: string[] = [];
	admin.page.on("request", (request) => {
		if (/sales-chart-[\w-]+\.js$/.test(request.url())) charts.push(request.url());
	});
	await admin.page.goto("/admin");
	await admin.page.getByRole("heading", { name: "Orders and revenue" }).waitFor();
	await admin.page.locator("agora-sales-chart canvas").waitFor();
	await waitForLive(admin.page, "connected");
	const ordersBefore = Number(await kpi(admin, "Orders").textContent());
	expect(charts).toHaveLength(1);

	const shopper = await newCustomer(shop.api, "Dashboard Dora");
	const tea = (await shop.api.get("/products?q=Jasmine")).body.rows[0];
	const placed = await shop.api.post("/orders", orderBody([{ productId: tea.id, quantity: 1 }]), { token: shopper.token });
	expect(placed.status).toBe(201);

	// A generous bound: the point is that it arrives without a reload, not how fast.
	await admin.page.locator(`[data-kpi="Orders"]`, { hasText: new RegExp(`^${ordersBefore + 1}$`) }).waitFor({ timeout: 10_000 });
	await admin.page.locator(`[data-kpi="New customers"]`, { hasText: /^[1-9]\d*$/ }).waitFor({ timeout: 10_000 });

	// The chart's figures are a table too: the new order is in the hour it was placed.
	await admin.page.getByText("Figures per hour as a table").click();
	const rows = admin.page.getByRole("table", { name: /per hour/ }).locator("tbody tr");
	expect(await rows.count()).toBe(24);
	const hourOrders = await rows.evaluateAll((trs) => trs.reduce((sum, tr) => sum + Number(tr.querySelector("td")?.textContent ?? 0), 0));
	expect(hourOrders).toBeGreaterThanOrEqual(1);
	await admin.page.getByRole("table").filter({ hasText: "Units" }).getByText(tea.name).waitFor({ timeout: 10_000 });

	// 30 days, by the day, with the keyboard.
	const days = admin.page.getByRole("button", { name: "30 days" });
	await days.focus();
	await admin.page.keyboard.press("Enter");
	expect(await days.getAttribute("aria-pressed")).toBe("true");
	await admin.page
		.getByRole("table", { name: /per day/ })
		.locator("tbody tr")
		.nth(29)
		.waitFor({ state: "attached" });

	expect(await admin.page.evaluate("performance.getEntriesByType('navigation').length")).toBe(1);
});

test("an order placed while the admin was offline shows once the connection is back", async () => {
	const admin = await open({ token: await adminToken(shop.api) });
	await admin.page.goto("/admin");
	await admin.page.locator("agora-sales-chart canvas").waitFor();
	await waitForLive(admin.page, "connected");
	const ordersBefore = Number(await kpi(admin, "Orders").textContent());

	// Chromium's offline mode keeps an open WebSocket, so a push can still arrive and ask for the
	// figures, which the offline network refuses; the page must show them once it is back.
	admin.expectFailure({ method: "GET", path: "/api/stats/sales", status: "failed" });
	await admin.context.setOffline(true);
	await waitForLive(admin.page, "offline");
	const shopper = await newCustomer(shop.api, "Offline Olga");
	const tea = (await shop.api.get("/products?q=Jasmine")).body.rows[0];
	expect((await shop.api.post("/orders", orderBody([{ productId: tea.id, quantity: 1 }]), { token: shopper.token })).status).toBe(201);
	await admin.context.setOffline(false);
	await waitForLive(admin.page, "connected");
	await admin.page.locator(`[data-kpi="Orders"]`, { hasText: new RegExp(`^${ordersBefore + 1}$`) }).waitFor({ timeout: 10_000 });
	expect(await admin.page.evaluate("performance.getEntriesByType('navigation').length")).toBe(1);
});

test("the overview is readable at 360 px, without serious accessibility problems", async () => {
	const admin = await open({ token: await adminToken(shop.api), viewport: PHONE });
	await admin.page.goto("/admin");
	await admin.page.locator("agora-sales-chart canvas").waitFor();
	await kpi(admin, "Cancellation rate").waitFor();
	expect(await overflowsHorizontally(admin.page)).toBe(false);
	expect(await seriousA11yViolations(admin.page)).toEqual([]);
});

test("the shop's pages do not download the chart library", async () => {
	const visitor = await open();
	const scripts: string[] = [];
	visitor.page.on("request", (request) => {
		if (request.resourceType() === "script") scripts.push(new URL(request.url()).pathname);
	});
	await visitor.page.goto("/");
	await visitor.page.getByRole("heading", { level: 1 }).first().waitFor();
	const tea = (await shop.api.get("/products?q=Jasmine")).body.rows[0];
	await visitor.page.goto(`/products/${tea.id}`);
	await visitor.page.getByRole("button", { name: "Add to cart", exact: true }).waitFor();
	expect(scripts.length).toBeGreaterThan(0);
	expect(scripts.filter((path) => path.includes("sales-chart"))).toEqual([]);
});
