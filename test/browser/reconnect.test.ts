import type { Browser } from "playwright-core";
import { type Agora, startAgora } from "../support/agora";
import { adminToken, type Client, client, newCustomer } from "../support/http";
import { eventually } from "../support/wait";
import { type AppWindow, launchBrowser, openApp, waitForLive } from "./support/browser";
import { startServer, stopServer, waitUntilPushing } from "./support/server";
import { shippingAddress, shortId } from "./support/shop";

let agora: Agora;
let api: Client;
let browser: Browser;
let window: AppWindow | undefined;

beforeAll(async () => {
	agora = await startAgora({ env: { SEED_DEMO: "1" } });
	api = client(agora.url);
	browser = await launchBrowser();
});

afterAll(async () => {
	await window?.context.close();
	await browser?.close();
	await agora?.stop();
});

/** A paid order of a mug, placed over REST. */
async function confirmedOrder(token: string, product: { id: string }): Promise<string> {
	const placed = await api.post(
		"/orders",
		{
			items: [{ productId: product.id, quantity: 1 }],
			shippingAddress: shippingAddress("Ada"),
			payment: { cardNumber: "4242424242424242" },
		},
		{ token },
	);
	expect(placed.status).toBe(201);
	await eventually(async () => expect((await api.get(`/orders/${placed.body.id}`, { token })).body.status).toBe("confirmed"));
	return placed.body.id;
}

test("the order page catches up after going offline, and reconnects after the server restarts", async () => {
	const customer = await newCustomer(api, "Ada Lovelace");
	const admin = await adminToken(api);
	const mug = (await api.get("/products?q=Mug")).body.rows[0];
	const orderId = await confirmedOrder(customer.token, mug);
	const setStatus = async (status: string) =>
		expect((await api.patch(`/orders/${orderId}/status`, { status }, { token: admin })).status).toBe(200);

	window = await openApp(browser, agora.url, { token: customer.token });
	const { page, context } = window;
	await page.goto(`/orders/${orderId}`);
	await page.locator('li[aria-current="step"]', { hasText: "Confirmed" }).waitFor();
	await waitForLive(page, "connected");

	// Offline, the push is missed; back online, the catch-up replays it.
	await context.setOffline(true);
	await waitForLive(page, "offline");
	await setStatus("processing");
	await context.setOffline(false);
	await waitForLive(page, "connected");
	await page.locator('li[aria-current="step"]', { hasText: "Processing" }).waitFor();
	await page.getByText("Back online: 1 order changed while you were away.").waitFor();

	// The server goes away and comes back on the same port and data: the page reconnects by itself,
	// rejoins its rooms, and live pushes flow again.
	for (const method of ["GET", "POST"]) window.expectFailure({ method, path: "/socket.io/", status: "failed" });
	const port = await stopServer(agora);
	await waitForLive(page, "reconnecting");
	await startServer(agora, port);
	await waitUntilPushing(agora.url, admin, mug.id);
	await waitForLive(page, "connected");
	await setStatus("shipped");
	await page.locator('li[aria-current="step"]', { hasText: "Shipped" }).waitFor();
	await page.getByText(`Order ${shortId(orderId)} is now shipped.`).waitFor();

	expect(await page.evaluate("performance.getEntriesByType('navigation').length")).toBe(1);
	expect(window.errors).toEqual([]);
});
