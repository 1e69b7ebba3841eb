/**
 * Builds the web app (frontend/ -> public/assets/) with Vite. With --if-stale, as `npm start` runs
 * it, it builds only when the bundle is missing or older than one of its sources.
 * Prints one line either way.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";

const ROOT = path.resolve(__dirname, "..");
const FRONTEND = path.join(ROOT, "frontend");
// The app also bundles the contracts it shares with the server (lib/contracts imports nothing else).
const SOURCES = [FRONTEND, path.join(ROOT, "lib", "contracts")];
const OUTPUT = path.join(ROOT, "public", "assets", "app.js");

/** The newest modification time of a file, or of any file under a folder. */
function newestChange(source: string): number {
	const stat = statSync(source);
	if (!stat.isDirectory()) return stat.mtimeMs;
	let newest = 0;
	for (const entry of readdirSync(source, { withFileTypes: true, recursive: true })) {
		if (entry.isFile()) newest = Math.max(newest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
	}
	return newest;
}

function staleReason(): string | null {
	if (!existsSync(OUTPUT)) return "public/assets/app.js is missing";
	const built = statSync(OUTPUT).mtimeMs;
	const changed = SOURCES.find((source) => newestChange(source) > built);
	return changed ? `${path.relative(ROOT, changed)} changed since the last build` : null;
}

async function main(): Promise<void> {
	const reason = process.argv.includes("--if-stale") ? staleReason() : "a build was asked for";
	if (reason === null) {
		console.log("web app: public/assets/ is up to date, build skipped");
		return;
	}
	// Vite is ESM-only; this script runs as CommonJS under tsx.
	const { build } = await import("vite");
	const started = Date.now();
	await build({ configFile: path.join(FRONTEND, "vite.config.ts"), logLevel: "warn" });
	console.log(`web app: built into public/assets/ in ${Date.now() - started} ms (${reason})`);
}

main().catch((err: unknown) => {
	console.error(`web app: build failed: ${err instanceof Error ? err.message : String(err)}`);
	process.exit(1);
});
