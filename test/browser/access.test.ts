import { adminToken, newCustomer } from "../support/http";
import { type AppWindow, BIG_PHONE, openApp, seededAgoraWithBrowser, visibleText } from "./support/browser";
import { ADDRESS, continueToPayment, fillAddress, pay } from "./support/shop";

/** What the server's validator writes: internal field paths and its stock phrases. */
const VALIDATOR_SPEAK = /address\.[a-z]|payment\.|cardNumber|postalCode|The '|characters long|field is required|must be/;

const shop = seededAgoraWithBrowser();

let window: AppWindow | undefined;

afterEach(async () => {
	expect(window?.errors).toEqual([]);
	await window?.context.close();
	window = undefined;
});

async function product(q: string) {
	return (await shop.api.get(`/products?q=${encodeURIComponent(q)}`)).body.rows[0];
}

/** The id of a customer's one open cart. */
async function cartId(token: string): Promise<string> {
	return (await shop.api.post("/carts", undefined, { token })).body.id;
}

describe("signing in", () => {
	it("says what went wrong, on the form and per field", async () => {
		const { email } = await newCustomer(shop.api);
		window = await openApp(shop.browser, shop.agora.url);
		const { page } = window;
		await page.goto("/login");
		await page.getByLabel("Email").fill(email);
		await page.getByLabel("Password").fill("not-the-password");
		window.expectFailure({ method: "POST", path: "/api/auth/login", status: 401 });
		await page.getByRole("button", { name: "Sign in", exact: true }).click();
		await page.getByRole("alert").getByText("Wrong email or password").waitFor();

		await page.getByRole("button", { name: "Create an account" }).click();
		await page.getByLabel("Your name").fill("Second Account");
		await page.getByLabel("Email").fill(email);
		await page.getByLabel("Password").fill("short");
		window.expectFailure({ method: "POST", path: "/api/auth/register", status: 422 });
		await page.getByRole("button", { name: "Create account" }).click();
		await page.locator('input[name="password"][aria-invalid="true"]').waitFor();
		// Focus moves to the first field in error, so keyboard users land on the problem.
		await page.locator('input[name="password"]:focus').waitFor();

		await page.getByLabel("Password").fill("long-enough-password");
		window.expectFailure({ method: "POST", path: "/api/auth/register", status: 409 });
		await page.getByRole("button", { name: "Create account" }).click();
		await page.getByText("An account with this email already exists").waitFor();
		expect(await page.locator('input[name="email"]').getAttribute("aria-invalid")).toBe("true");
	});

	it("sends a signed-out visitor to sign in, then back to the page asked for", async () => {
		const { email } = await newCustomer(shop.api, "Returning Customer");
		window = await openApp(shop.browser, shop.agora.url);
		const { page } = window;
		await page.goto("/orders");
		await page.waitForURL((url) => url.pathname === "/login" && url.searchParams.get("next") === "/orders");
		await page.getByLabel("Email").fill(email);
		await page.getByLabel("Password").fill("correct-horse");
		await page.getByRole("button", { name: "Sign in", exact: true }).click();
		await page.waitForURL((url) => url.pathname === "/orders");
		await page.getByText("No orders yet").waitFor();
	});
});

describe("admin pages", () => {
	it("are refused to a customer, who is sent back to the shop", async () => {
		const { token } = await newCustomer(shop.api);
		window = await openApp(shop.browser, shop.agora.url, { token });
		const { page } = window;
		for (const path of ["/admin", "/admin/orders", "/admin/products", "/admin/inventory"]) {
			await page.goto(path);
			await page.waitForURL((url) => url.pathname === "/");
			await page.getByText("That page is for admins only.").first().waitFor();
		}
		expect(await page.getByRole("link", { name: "Admin" }).count()).toBe(0);
	});
});

describe("checkout", () => {
	it("speaks to people on a phone: what to fill in, and what is wrong, never a validator's words", async () => {
		const { token } = await newCustomer(shop.api);
		const tea = await product("Sencha");
		window = await openApp(shop.browser, shop.agora.url, { token, cart: [{ productId: tea.id, quantity: 1 }], viewport: BIG_PHONE });
		const { page } = window;
		await page.goto("/checkout");

		// The browser and password managers are told what each field is.
		const field = (name: string) => page.locator(`[name="${name}"]`);
		const hints = {
			"address.name": "name",
			"address.line1": "address-line1",
			"address.city": "address-level2",
			"address.postalCode": "postal-code",
			"address.country": "country",
		};
		for (const [name, autocomplete] of Object.entries(hints)) {
			expect(await field(name).getAttribute("autocomplete")).toBe(autocomplete);
			expect(await field(name).getAttribute("required")).not.toBeNull();
		}
		expect(await page.locator('select[name="address.country"]').count()).toBe(1);

		// Everything empty: each field says what it needs.
		await page.getByLabel("Full name").fill("");
		await page.getByRole("button", { name: "Continue to shipping" }).click();
		await page.getByText("Please correct the highlighted fields.").waitFor();
		const asked = {
			"address.name": "Enter the name to deliver to",
			"address.line1": "Enter your street address",
			"address.city": "Enter your town or city",
			"address.postalCode": "Enter your postal code",
			"address.country": "Choose your country",
		};
		for (const [name, message] of Object.entries(asked)) {
			await page.locator(`[name="${name}"][aria-invalid="true"]`).waitFor();
			expect(await page.getByText(message, { exact: true }).isVisible()).toBe(true);
		}
		const shown = await visibleText(page);
		expect(shown).toContain("Enter your street address");
		expect(shown).not.toMatch(VALIDATOR_SPEAK);

		// A country the shop does not ship to is named as such.
		await page.getByLabel("Full name").fill("Mina Shopper");
		await fillAddress(page, { address: { ...ADDRESS, country: "Japan" } });
		await page.getByRole("button", { name: "Continue to shipping" }).click();
		await page.getByText("We do not ship to Japan yet. Choose another country.").waitFor();

		// Filled, but wrong in a way only the server checks: its answer is reworded per field.
		await fillAddress(page, { address: { ...ADDRESS, postalCode: "LS1 1AA LS1 1AA LS1 1AA" } });
		window.expectFailure({ method: "PUT", path: `/api/carts/${await cartId(token)}/shipping`, status: 422 });
		await page.getByRole("button", { name: "Continue to shipping" }).click();
		await page.getByText("Keep the postal code to 20 characters or fewer").waitFor();
		expect(await page.locator('[name="address.city"]').getAttribute("aria-invalid")).toBe("false");
		const answered = await visibleText(page);
		expect(answered).toContain("Keep the postal code to 20 characters or fewer");
		expect(answered).not.toMatch(VALIDATOR_SPEAK);

		// A card the shop does not take: the service's own sentence, on the card field.
		await fillAddress(page);
		await continueToPayment(page);
		expect(await field("payment.cardNumber").getAttribute("autocomplete")).toBe("cc-number");
		expect(await field("payment.cardNumber").getAttribute("inputmode")).toBe("numeric");
		await page.getByRole("button", { name: /^Pay / }).click();
		await page.getByText("Enter your card number", { exact: true }).waitFor();
		window.expectFailure({ method: "POST", path: `/api/carts/${await cartId(token)}/checkout`, status: 422 });
		await pay(page, "1234");
		await page.getByText("Use a test card").waitFor();
		expect(await page.locator('[name="payment.cardNumber"]').getAttribute("aria-invalid")).toBe("true");
		expect(await visibleText(page)).not.toMatch(VALIDATOR_SPEAK);
	});

	it("points at the item that ran out while the shopper was checking out", async () => {
		const { token } = await newCustomer(shop.api);
		const scoop = await product("Bamboo");
		window = await openApp(shop.browser, shop.agora.url, { token, cart: [{ productId: scoop.id, quantity: scoop.stock }] });
		const { page } = window;
		await page.goto("/checkout");
		await fillAddress(page);
		await page.getByRole("button", { name: "Continue to shipping" }).click();
		await page.getByRole("button", { name: /^Continue to payment/ }).waitFor();
		// Someone else buys one meanwhile: there is one fewer than the cart asks for.
		const admin = await adminToken(shop.api);
		expect((await shop.api.post(`/inventory/${scoop.id}/adjust`, { delta: -1, reason: "sold in the shop" }, { token: admin })).status).toBe(
			200,
		);
		window.expectFailure({ method: "POST", path: `/api/carts/${await cartId(token)}/hold`, status: 409 });
		await page.getByRole("button", { name: /^Continue to payment/ }).click();
		const left = `Sorry, only ${scoop.stock - 1} of ${scoop.name} ${scoop.stock - 1 === 1 ? "is" : "are"} left.`;
		await page.getByRole("alert").getByText(`${left} Change your cart to continue.`).waitFor();
		await page.locator(`tr[data-product-id="${scoop.id}"]`, { hasText: left }).waitFor();
		expect(new URL(page.url()).pathname).toBe("/checkout");
		expect(await visibleText(page)).not.toMatch(/OUT_OF_STOCK|409/);
	});
});

describe("deep links", () => {
	it("load any page of the app directly", async () => {
		window = await openApp(shop.browser, shop.agora.url);
		const { page } = window;
		const kettle = await product("Kettle");
		const res = await page.goto(`/products/${kettle.id}`);
		expect(res?.status()).toBe(200);
		await page.getByRole("heading", { name: kettle.name }).waitFor();
		await page.goto("/no/such/page");
		await page.getByText("This page does not exist").waitFor();
	});
});
