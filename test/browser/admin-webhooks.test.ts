import { orderBody } from "../support/commerce.suite";
import { adminToken, newCustomer } from "../support/http";
import { eventually } from "../support/wait";
import { startWebhookReceiver, type WebhookReceiver } from "../support/webhook-receiver";
import { openApp, overflowsHorizontally, PHONE, seededAgoraWithBrowser, seriousA11yViolations, tappable } from "./support/browser";

// The receiver is on 127.0.0.1, and a failing delivery is failed after its second try, a second later.
const shop = seededAgoraWithBrowser({ WEBHOOK_ALLOW_PRIVATE: "1", WEBHOOK_MAX_ATTEMPTS: "2", WEBHOOK_RETRY_SECONDS: "1" });
let receiver: WebhookReceiver;

beforeAll(async () => {
	receiver = await startWebhookReceiver();
});

afterAll(async () => {
	await receiver?.close();
});

test("an admin adds a webhook, keeps its secret, follows its deliveries, sends a failed one again and deletes it", async () => {
	const token = await adminToken(shop.api);
	const admin = await openApp(shop.browser, shop.agora.url, { token });
	const { page } = admin;
	await page.goto("/admin");
	await page.getByRole("link", { name: "Webhooks" }).click();
	await page.getByText("No webhooks yet").waitFor();

	// The form's own checks first: nothing is sent.
	for (const type of ["order.created", "order.updated", "order.cancelled"]) await page.getByLabel(type).uncheck();
	await page.getByRole("button", { name: "Add webhook" }).click();
	await page.getByText("Enter the URL that should receive the events").waitFor();
	await page.getByText("Choose at least one event").waitFor();

	// The server's: a host that does not exist, said in words.
	await page.getByLabel("Receiver URL").fill("https://no-such-host.invalid/hooks/agora");
	await page.getByLabel("order.created").check();
	admin.expectFailure({ method: "POST", path: "/api/webhooks", status: 422 });
	await page.getByRole("button", { name: "Add webhook" }).click();
	await page.getByText("No server named no-such-host.invalid could be found").waitFor();

	receiver.answer("/shop", 500);
	await page.getByLabel("Receiver URL").fill(`${receiver.url}/shop`);
	await page.getByRole("button", { name: "Add webhook" }).click();
	await page.getByRole("heading", { name: "Webhook added: copy its secret now" }).waitFor();
	const secret = await page.getByLabel(`Signing secret for ${receiver.url}/shop`).inputValue();
	expect(secret).toMatch(/^whsec_[0-9a-f]{48}$/);
	receiver.secrets.set("/shop", secret);
	await page.getByRole("button", { name: "I have saved the secret" }).click();
	expect(await page.getByText(secret).count()).toBe(0);
	expect(await page.getByLabel(/Signing secret/).count()).toBe(0);

	// An order's event fails at the receiver twice: the log says so, and offers to send it again.
	const shopper = await newCustomer(shop.api, "Webhook Wes");
	const tin = (await shop.api.get("/products?q=Airtight")).body.rows[0];
	expect((await shop.api.post("/orders", orderBody([{ productId: tin.id, quantity: 1 }]), { token: shopper.token })).status).toBe(201);
	await page.getByRole("link", { name: `Deliveries to ${receiver.url}/shop` }).click();
	await page.getByRole("link", { name: "Failed" }).click();
	const failed = page.getByRole("listitem", { name: "order.created, Failed" });
	await eventually(async () => {
		await page.getByRole("button", { name: "Refresh" }).click();
		expect(await failed.count()).toBe(1);
	});
	await failed.getByText("The receiver answered 500").waitFor();
	expect(await failed.locator("dd").first().textContent()).toBe("2");
	expect(new URL(page.url()).search).toBe("?status=failed");

	// At a phone's width the log fits and its retry button can be tapped.
	const phone = await openApp(shop.browser, shop.agora.url, { token, viewport: PHONE });
	await phone.page.goto(page.url());
	const phoneRetry = phone.page.getByRole("button", { name: "Send again now (order.created)" });
	await phoneRetry.waitFor();
	expect(await overflowsHorizontally(phone.page)).toBe(false);
	expect(await tappable(phoneRetry)).toBe(true);
	expect(await seriousA11yViolations(phone.page)).toEqual([]);
	await phone.page.goto("/admin/webhooks");
	await phone.page.getByRole("link", { name: `Deliveries to ${receiver.url}/shop` }).waitFor();
	expect(await overflowsHorizontally(phone.page)).toBe(false);
	expect(phone.errors).toEqual([]);
	await phone.context.close();

	receiver.answer("/shop", 204);
	await failed.getByRole("button", { name: "Send again now (order.created)" }).click();
	await page.getByText("The order.created event is being sent again.").waitFor();
	await page.getByRole("link", { name: "Delivered" }).click();
	const delivered = page.getByRole("listitem", { name: "order.created, Delivered" });
	await eventually(async () => {
		await page.getByRole("button", { name: "Refresh" }).click();
		expect(await delivered.count()).toBe(1);
	});
	await delivered.getByText("Answered 204").waitFor();
	const [call] = receiver.accepted("/shop");
	expect(call && receiver.verifies(call)).toBe(true);
	expect(await seriousA11yViolations(page)).toEqual([]);

	await page.getByRole("link", { name: "All webhooks" }).click();
	const row = page.getByRole("listitem").filter({ hasText: `${receiver.url}/shop` });
	await row.getByRole("button", { name: "Delete" }).click();
	await row.getByRole("button", { name: "Yes, delete" }).click();
	await page.getByText(`The webhook to ${receiver.url}/shop was deleted.`).waitFor();
	await page.getByText("No webhooks yet").waitFor();

	expect(admin.errors).toEqual([]);
});
