import { adminToken } from "../support/http";
import { openApp, seededAgoraWithBrowser } from "./support/browser";

const shop = seededAgoraWithBrowser();

test("an admin creates, edits, restocks and deletes a product while a shopper watches", async () => {
	const admin = await openApp(shop.browser, shop.agora.url, { token: await adminToken(shop.api) });
	const shopper = await openApp(shop.browser, shop.agora.url);
	const { page } = admin;

	// Create: the form's own check, then the server's, then success.
	await page.goto("/admin/products");
	await page.getByRole("button", { name: "New product" }).click();
	const dialog = page.getByRole("dialog", { name: "New product" });
	await dialog.getByLabel("Name").fill("Matcha Whisk");
	await dialog.getByLabel("SKU").fill("ACC-004");
	await dialog.getByLabel("Price (USD)").fill("12.999");
	await dialog.getByRole("button", { name: "Create product" }).click();
	await dialog.getByText("Enter a price such as 12.90").waitFor();
	await dialog.getByLabel("Price (USD)").fill("22.50");
	await dialog.getByLabel("SKU").fill("ACC-001");
	admin.expectFailure({ method: "POST", path: "/api/products", status: 409 });
	await dialog.getByRole("button", { name: "Create product" }).click();
	await dialog.getByText("A product with this SKU already exists").waitFor();
	await dialog.getByLabel("SKU").fill("ACC-004");
	await dialog.getByLabel("Category").selectOption("accessories");
	await dialog.getByLabel("Units in stock").fill("9");
	await dialog.getByRole("button", { name: "Create product" }).click();
	await dialog.waitFor({ state: "hidden" });
	await page.getByRole("link", { name: "Matcha Whisk" }).waitFor();

	// The shopper's catalogue picks the new product up by itself, and its page follows every change.
	await shopper.page.goto("/?category=accessories");
	await shopper.page.getByRole("link", { name: "Matcha Whisk" }).click();
	await shopper.page.getByText("In stock (9)").waitFor();

	await page.getByRole("button", { name: "Edit Matcha Whisk" }).click();
	const editor = page.getByRole("dialog", { name: "Edit Matcha Whisk" });
	await editor.getByLabel("Price (USD)").fill("19.00");
	await editor.getByRole("button", { name: "Save changes" }).click();
	await editor.waitFor({ state: "hidden" });
	await shopper.page.getByText("$19.00").waitFor();

	// Stock set below its alert level: the inventory page flags it, the admin is told, the shopper sees it.
	await page.getByRole("link", { name: "Inventory" }).click();
	const adjust = page.getByRole("form", { name: "Adjust stock of Matcha Whisk" });
	await adjust.getByLabel("Change").selectOption("set");
	await adjust.getByLabel("Units").fill("2");
	await adjust.getByRole("button", { name: "Apply to Matcha Whisk" }).click();
	await page.getByText("Matcha Whisk: 2 left (alert at 5)").waitFor();
	await page.getByText("Low stock: Matcha Whisk has 2 left.").waitFor();
	await shopper.page.getByText("Only 2 left").waitFor();

	// Below zero is refused, and the optimistic number goes back.
	const whisk = (await shop.api.get("/products?q=Matcha")).body.rows[0];
	admin.expectFailure({ method: "POST", path: `/api/inventory/${whisk.id}/adjust`, status: 409 });
	await adjust.getByLabel("Change").selectOption("delta");
	await adjust.getByLabel("Units").fill("-3");
	await adjust.getByRole("button", { name: "Apply to Matcha Whisk" }).click();
	await page.getByText("Stock cannot go below zero").waitFor();
	await page.getByText("Matcha Whisk: 2 left (alert at 5)").waitFor();

	// Deleted: gone from the admin table, and the shopper's page says so.
	await page.getByRole("link", { name: "Products" }).click();
	const row = page.getByRole("row", { name: /Matcha Whisk/ });
	await row.getByRole("button", { name: "Delete" }).click();
	await row.getByRole("button", { name: "Yes, delete" }).click();
	await page.getByText("Matcha Whisk deleted.").waitFor();
	expect(await page.getByRole("link", { name: "Matcha Whisk" }).count()).toBe(0);
	await shopper.page.getByText("This product is no longer sold.").waitFor();

	for (const { errors } of [admin, shopper]) expect(errors).toEqual([]);
});
