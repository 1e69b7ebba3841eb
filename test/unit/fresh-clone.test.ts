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
const SOURCE_FOLDERS = ["frontend", "services", "lib", "middlewares", "mixins", "scripts", "test", "k8s", "docs", "bench", "types"];

function git(...args: string[]): string[] {
	return execFileSync("git", args, { cwd: ROOT, encoding: "utf8" })
		.split("\n")
		.filter((line) => line !== "");
}

const tracked = new Set(git("ls-files", "--", "frontend"));

/** Where Vite takes a root-absolute URL of the app from: frontend/ itself, or frontend/public/ as is. */
function sourceOf(url: string): string | undefined {
	const candidates = [path.join("frontend", url), path.join("frontend", "public", url)];
	return candidates.find((candidate) => tracked.has(candidate));
}

/** Root-absolute links of index.html (`href="/…"`, `src="/…"`). */
function indexLinks(): string[] {
	const html = readFileSync(path.join(FRONTEND, "index.html"), "utf8");
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
	it("has every file index.html links to", () => {
		const links = indexLinks();
		expect(links).toContain("/favicon.svg");
		expect(links.filter((url) => !sourceOf(url))).toEqual([]);
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
		// Such as bench/results.json, which a bench run leaves: a rule naming one file hides no source.
		const runOutputs = new Set(
			readFileSync(path.join(ROOT, ".gitignore"), "utf8")
				.split("\n")
				.filter((rule) => /^[\w-]+(\/[\w.-]+)+$/.test(rule)),
		);
		const ignored = git("ls-files", "--others", "--ignored", "--exclude-standard", "--", ...SOURCE_FOLDERS);
		expect(ignored.filter((file) => !runOutputs.has(file))).toEqual([]);
	});
});
