/**
 * What a fresh clone holds is what git tracks: a file the app or the demo catalogue points at must
 * be committed, and no ignore rule may hide a source file (a `public/` rule once hid every product
 * picture, and the tests passed on the machines that had the files).
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { DEMO_CATALOGUE, demoImageUrl } from "../../lib/operator/demo-catalogue";

const ROOT = path.resolve(__dirname, "..", "..");
const FRONTEND = path.join(ROOT, "frontend");
const SOURCE_FOLDERS = [
	"frontend",
	"public",
	"services",
	"lib",
	"middlewares",
	"mixins",
	"scripts",
	"test",
	"k8s",
	"docs",
	"bench",
	"types",
];
/** The web app's bundle, which `npm run build:web` writes into public/ (frontend/vite.config.ts): the page names it. */
const BUNDLE = ["/assets/app.js", "/assets/app.css"];

function git(...args: string[]): string[] {
	return execFileSync("git", args, { cwd: ROOT, encoding: "utf8" })
		.split("\n")
		.filter((line) => line !== "");
}

const tracked = new Set(git("ls-files", "--", "public"));

/** The tracked file the gateway serves for a root-absolute URL of the app: public/ holds them as they are. */
function sourceOf(url: string): string | undefined {
	const candidate = path.join("public", url);
	return tracked.has(candidate) ? candidate : undefined;
}

/** Root-absolute links of the page (`href="/…"`, `src="/…"`). */
function indexLinks(): string[] {
	const html = readFileSync(path.join(ROOT, "public", "index.html"), "utf8");
	return [...html.matchAll(/\s(?:href|src)="(\/[^"]*)"/g)].map((match) => match[1] as string);
}

/** Static files the app's code names by URL, such as the placeholder picture. */
function assetUrlsInCode(): string[] {
	const urls = new Set<string>();
	for (const entry of readdirSync(path.join(FRONTEND, "src"), { withFileTypes: true, recursive: true })) {
		if (!entry.isFile() || !entry.name.endsWith(".ts")) continue;
		const code = readFileSync(path.join(entry.parentPath, entry.name), "utf8");
		for (const match of code.matchAll(/["'`](\/[\w./-]+\.(?:svg|png|jpe?g|webp|gif|ico|css|woff2?))["'`]/g)) urls.add(match[1] as string);
	}
	return [...urls];
}

describe("a fresh clone", () => {
	it("has every file the page links to, or builds it (the bundle)", () => {
		const links = indexLinks();
		expect(links).toContain("/favicon.svg");
		expect(links.filter((url) => !sourceOf(url) && !BUNDLE.includes(url))).toEqual([]);
		const vite = readFileSync(path.join(FRONTEND, "vite.config.ts"), "utf8");
		for (const built of BUNDLE) expect(vite).toContain(`"${path.basename(built)}"`);
	});

	it("has the picture of every demo product", () => {
		const missing = DEMO_CATALOGUE.map((product) => demoImageUrl(product.sku)).filter((url) => !sourceOf(url));
		expect(missing).toEqual([]);
	});

	it("has every static file the app's code names, the placeholder picture among them", () => {
		const urls = assetUrlsInCode();
		expect(urls).toContain("/images/products/placeholder.svg");
		expect(urls.filter((url) => !sourceOf(url))).toEqual([]);
	});

	it("ignores nothing under a source folder but the run outputs it names one by one", () => {
		// Such as bench/results.json, which a bench run leaves, or public/assets/, which the web build
		// writes: a rule naming one path hides no source.
		const outputs = readFileSync(path.join(ROOT, ".gitignore"), "utf8")
			.split("\n")
			.filter((rule) => /^\/?[\w-]+(\/[\w.-]+)+\/?$/.test(rule))
			.map((rule) => rule.replace(/^\//, ""));
		const ignored = git("ls-files", "--others", "--ignored", "--exclude-standard", "--", ...SOURCE_FOLDERS);
		expect(
			ignored.filter((file) => !outputs.some((output) => file === output || (output.endsWith("/") && file.startsWith(output)))),
		).toEqual([]);
	});
});
