/** Drives Debian's Chromium with playwright-core: never a downloaded browser. */
import { readFileSync } from "node:fs";
import type { Browser, BrowserContext, Locator, Page, Request } from "playwright-core";
import { chromium } from "playwright-core";
import { type Agora, startAgora } from "../../support/agora";
import { type Client, client } from "../../support/http";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 360, height: 740 };
/** A larger phone, as the checkout and thumb-reach checks use. */
export const BIG_PHONE = { width: 390, height: 844 };

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

/**
 * A request of the app's own origin that a test means to fail: a wrong password's 401, a form the
 * server refuses, a socket cut off by a deliberate restart. Anything else that fails is an error.
 */
export interface ExpectedFailure {
	method: string;
	/** The request's path, exactly (no query). */
	path: string;
	/** The HTTP status, or "failed" for a request that got no answer (refused, aborted, offline). */
	status: number | "failed";
}

export interface AppWindow {
	context: BrowserContext;
	page: Page;
	/**
	 * What went wrong on any page this window visited: uncaught exceptions, console errors, and
	 * requests of the app's origin that failed (4xx, 5xx, no answer) without being expected.
	 * A passing flow must leave none.
	 */
	errors: Error[];
	/** Declares one more failure as expected, from now on (e.g. before stopping the server). */
	expectFailure(failure: ExpectedFailure): void;
}

export interface OpenOptions {
	/** Signed in as this token's user from the first page load on. */
	token?: string;
	/** Lines put in the server cart first: the account's (with `token`), or a guest cart this browser keeps. */
	cart?: { productId: string; quantity: number }[];
	viewport?: { width: number; height: number };
	expectedFailures?: ExpectedFailure[];
}

/**
 * Opens app windows for a test file, as `openApp` does; after each test, every window it opened
 * must have seen no failed request and no console error, and is closed.
 */
export function checkedWindows(): (session: BrowserSession, options?: OpenOptions) => Promise<AppWindow> {
	const windows: AppWindow[] = [];
	afterEach(async () => {
		for (const { errors, context } of windows.splice(0)) {
			expect(errors).toEqual([]);
			await context.close();
		}
	});
	return async (session, options = {}) => {
		const window = await openApp(session.browser, session.agora.url, options);
		windows.push(window);
		return window;
	};
}

/** A fresh browser profile (its own storage and socket) with one page of the app. */
export async function openApp(
	browser: Browser,
	baseURL: string,
	{ token, cart, viewport = DESKTOP, expectedFailures = [] }: OpenOptions = {},
): Promise<AppWindow> {
	const context = await browser.newContext({ baseURL, viewport });
	context.setDefaultTimeout(20_000);
	const guestCart = cart && (await seedCart(baseURL, cart, token));
	// Storage is seeded as the app itself keeps it (see frontend/src/state), before any script runs.
	const seed = [
		token && `localStorage.setItem("agora.token", ${JSON.stringify(token)});`,
		guestCart && `localStorage.setItem("agora.cart", ${JSON.stringify(JSON.stringify(guestCart))});`,
	];
	const content = seed.filter(Boolean).join("\n");
	if (content)
		await context.addInitScript({
			content: `if (!sessionStorage.getItem("seeded")) { ${content} sessionStorage.setItem("seeded", "1"); }`,
		});
	const page = await context.newPage();
	const errors: Error[] = [];
	const expected = [...expectedFailures];
	const origin = new URL(baseURL).origin;
	const own = (url: string) => URL.canParse(url) && new URL(url).origin === origin;
	const isExpected = (method: string, url: string, status: number | "failed") => {
		const { pathname } = new URL(url);
		return expected.some((failure) => failure.method === method && failure.path === pathname && failure.status === status);
	};
	page.on("pageerror", (error) => errors.push(error));
	page.on("response", (response) => {
		const request = response.request();
		if (response.status() >= 400 && own(response.url()) && !isExpected(request.method(), response.url(), response.status()))
			errors.push(new Error(`${request.method()} ${response.url()} answered ${response.status()}`));
	});
	// Loading another document cancels what the last one still had in flight: not a failure. Such
	// a request started before the next document was asked for, or while it was on its way.
	let navigations = 0;
	let navigating = false;
	const leavable = new WeakMap<Request, number>();
	page.on("request", (request) => {
		if (request.isNavigationRequest() && request.frame() === page.mainFrame()) {
			navigations++;
			navigating = true;
		} else leavable.set(request, navigating ? navigations - 1 : navigations);
	});
	page.on("framenavigated", (frame) => {
		if (frame === page.mainFrame()) navigating = false;
	});
	page.on("requestfailed", (request) => {
		const left = request.failure()?.errorText === "net::ERR_ABORTED" && (leavable.get(request) ?? navigations) < navigations;
		if (!left && own(request.url()) && !isExpected(request.method(), request.url(), "failed"))
			errors.push(new Error(`${request.method()} ${request.url()} failed: ${request.failure()?.errorText}`));
	});
	// Every console error counts, a Content-Security-Policy refusal among them. The browser's own
	// line about a failed load of the app's origin is the request above, judged there.
	page.on("console", (message) => {
		if (message.type() !== "error") return;
		const text = message.text();
		if (text.startsWith("Failed to load resource") && own(message.location().url)) return;
		const socket = /^WebSocket connection to '([^']+)' failed/.exec(text)?.[1];
		if (socket && own(socket.replace(/^ws/, "http")) && isExpected("GET", socket.replace(/^ws/, "http"), "failed")) return;
		errors.push(new Error(`console error: ${text}`));
	});
	return { context, page, errors, expectFailure: (failure) => expected.push(failure) };
}

/**
 * Fills a server cart through the API: the account's one open cart with `token`, else a new guest
 * cart, whose id and secret are answered for the browser to keep.
 */
async function seedCart(
	baseURL: string,
	lines: { productId: string; quantity: number }[],
	token: string | undefined,
): Promise<{ id: string; secret: string } | null> {
	const api = client(baseURL);
	const opened = await api.post("/carts", undefined, { token });
	if (opened.status !== 200 && opened.status !== 201) throw new Error(`POST /carts answered ${opened.status}`);
	const { id, secret } = opened.body;
	const headers: Record<string, string> = secret ? { "cart-secret": secret } : {};
	for (const { productId, quantity } of lines) {
		const res = await api.request("PUT", `/carts/${id}/items/${productId}`, { token, headers, body: { quantity } });
		if (res.status !== 200) throw new Error(`PUT /carts/${id}/items/${productId} answered ${res.status}`);
	}
	return token ? null : { id, secret };
}

/**
 * The pictures of the page (shadow roots included) that are shown but did not load. Each is
 * scrolled into view first, so lazy ones load too.
 */
export async function brokenImages(page: Page): Promise<string[]> {
	return (await page.evaluate(`(async () => {
		const images = [];
		const visit = (root) => {
			for (const element of root.querySelectorAll("*")) {
				if (element.tagName === "IMG") images.push(element);
				if (element.shadowRoot) visit(element.shadowRoot);
			}
		};
		visit(document);
		const broken = [];
		for (const image of images) {
			if (image.getClientRects().length === 0) continue;
			image.scrollIntoView({ block: "nearest" });
			await image.decode().catch(() => undefined);
			if (image.naturalWidth === 0) broken.push(image.currentSrc || image.src);
		}
		window.scrollTo(0, 0);
		return broken;
	})()`)) as string[];
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

/**
 * A function to run in the page with an element or value, written as source: the test program
 * has no DOM types (and a string alone is evaluated as an expression, never called).
 */
export function inPage<R>(parameter: string, body: string): (argument: unknown) => R {
	return new Function(parameter, body) as (argument: unknown) => R;
}

/**
 * Whether a tap at the middle of the element lands on it, through every shadow root on the way:
 * nothing (a toast, a clipping edge) sits on top of it, and it is within the window.
 */
export async function tappable(target: Locator): Promise<boolean> {
	return await target.evaluate(
		inPage<boolean>(
			"element",
			`const box = element.getBoundingClientRect();
		const x = box.left + box.width / 2;
		const y = box.top + box.height / 2;
		if (x < 0 || y < 0 || x > innerWidth || y > innerHeight) return false;
		let hit = document.elementFromPoint(x, y);
		while (hit && hit.shadowRoot) {
			const inner = hit.shadowRoot.elementFromPoint(x, y);
			if (!inner || inner === hit) break;
			hit = inner;
		}
		return hit === element || element.contains(hit);`,
		),
	);
}

/** The text a person sees on the page, shadow roots included. */
export async function visibleText(page: Page): Promise<string> {
	return (await page.evaluate(`(() => {
		const parts = [];
		// innerText leaves shadow trees out: each tree's own text, then the trees inside it.
		const visit = (root) => {
			for (const child of root.children) parts.push(child.innerText ?? "");
			for (const element of root.querySelectorAll("*")) if (element.shadowRoot) visit(element.shadowRoot);
		};
		visit(document.body);
		return parts.join("\\n");
	})()`)) as string;
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

/** A file's seeded embedded Agora (with `env` besides) and headless Chromium: started before its tests, stopped after. */
export function seededAgoraWithBrowser(env: Record<string, string> = {}): BrowserSession {
	const session = {} as BrowserSession;
	beforeAll(async () => {
		session.agora = await startAgora({ env: { SEED_DEMO: "1", ...env } });
		session.api = client(session.agora.url);
		session.browser = await launchBrowser();
	});
	afterAll(async () => {
		await session.browser?.close();
		await session.agora?.stop();
	});
	return session;
}
