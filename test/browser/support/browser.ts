/** Drives Debian's Chromium with playwright-core: never a downloaded browser. */
import { readFileSync } from "node:fs";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { chromium } from "playwright-core";
import type { CartLine } from "../../../frontend/src/lib/cart";
import { type Agora, startAgora } from "../../support/agora";
import { type Client, client } from "../../support/http";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 360, height: 740 };

export function launchBrowser(): Promise<Browser> {
	return chromium.launch({
		executablePath: CHROMIUM,
		headless: true,
		args: [
			"--no-sandbox",
			"--disable-background-networking",
			"--disable-component-update",
			"--disable-sync",
			"--no-first-run",
			"--disable-gpu",
		],
	});
}

export interface AppWindow {
	context: BrowserContext;
	page: Page;
	/** Uncaught exceptions in the page: a passing flow must leave none. */
	errors: Error[];
}

export interface OpenOptions {
	/** Signed in as this token's user from the first page load on. */
	token?: string;
	cart?: CartLine[];
	viewport?: { width: number; height: number };
}

/** A fresh browser profile (its own storage and socket) with one page of the app. */
export async function openApp(
	browser: Browser,
	baseURL: string,
	{ token, cart, viewport = DESKTOP }: OpenOptions = {},
): Promise<AppWindow> {
	const context = await browser.newContext({ baseURL, viewport });
	context.setDefaultTimeout(20_000);
	// Storage is seeded as the app itself keeps it (see frontend/src/state), before any script runs.
	const seed = [
		token && `localStorage.setItem("agora.token", ${JSON.stringify(token)});`,
		cart && `localStorage.setItem("agora.cart", ${JSON.stringify(JSON.stringify(cart))});`,
	];
	const content = seed.filter(Boolean).join("\n");
	if (content)
		await context.addInitScript({
			content: `if (!sessionStorage.getItem("seeded")) { ${content} sessionStorage.setItem("seeded", "1"); }`,
		});
	const page = await context.newPage();
	const errors: Error[] = [];
	page.on("pageerror", (error) => errors.push(error));
	// Anything the Content-Security-Policy blocks is an error of the page too: the policy must fit the app.
	page.on("console", (message) => {
		if (message.type() === "error" && message.text().includes("Content Security Policy")) errors.push(new Error(message.text()));
	});
	return { context, page, errors };
}

/** Waits until the connection indicator shows `state` (connected, reconnecting, offline). */
export async function waitForLive(page: Page, state: "connected" | "reconnecting" | "offline"): Promise<void> {
	await page.locator(`agora-connection-indicator [data-state="${state}"]`).waitFor();
}

/** axe-core's violations of serious or critical impact on the current page, one line each. */
export async function seriousA11yViolations(page: Page): Promise<string[]> {
	// Evaluated through the DevTools protocol: a <script> tag would be (rightly) refused by the app's CSP.
	if (!(await page.evaluate("typeof axe !== 'undefined'")))
		await page.evaluate(readFileSync(require.resolve("axe-core/axe.min.js"), "utf8"));
	return (await page.evaluate(`axe.run(document, { resultTypes: ["violations"] }).then((result) =>
		result.violations
			.filter((violation) => violation.impact === "serious" || violation.impact === "critical")
			.map((violation) => violation.id + ": " + violation.help + " at " + violation.nodes.map((node) => JSON.stringify(node.target)).join(", ")))`)) as string[];
}

/** Whether the page is wider than the window (content that needs sideways scrolling). */
export async function overflowsHorizontally(page: Page): Promise<boolean> {
	return (await page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth")) as boolean;
}

export interface BrowserSession {
	agora: Agora;
	api: Client;
	browser: Browser;
}

/** A file's seeded embedded Agora and headless Chromium: started before its tests, stopped after. */
export function seededAgoraWithBrowser(): BrowserSession {
	const session = {} as BrowserSession;
	beforeAll(async () => {
		session.agora = await startAgora({ env: { SEED_DEMO: "1" } });
		session.api = client(session.agora.url);
		session.browser = await launchBrowser();
	});
	afterAll(async () => {
		await session.browser?.close();
		await session.agora?.stop();
	});
	return session;
}
