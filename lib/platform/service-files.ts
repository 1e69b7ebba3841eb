import { existsSync, readdirSync } from "node:fs";
import path from "node:path";

/**
 * Where a service lives: `services/<name>.service.ts` for a small one, or
 * `services/<name>/<name>.service.ts` for one made of parts beside it. The extension is this
 * module's own, so the same code finds the TypeScript sources under tsx and the JavaScript that
 * `tsc` built.
 */
const EXTENSION = path.extname(__filename);

/**
 * The repository's root (where package.json is): `public/` and the data folder's default are found
 * from it, whether this module runs from its source or from `dist/`.
 */
export const PROJECT_ROOT = (() => {
	let dir = __dirname;
	while (!existsSync(path.join(dir, "package.json")) && path.dirname(dir) !== dir) dir = path.dirname(dir);
	return dir;
})();

/** The file mask moleculer-runner loads every service with. */
export const SERVICE_MASK = `**/*.service${EXTENSION}`;

/** The file of service `name` under `servicesDir`, or null if there is none. */
export function serviceFile(servicesDir: string, name: string): string | null {
	const candidates = [path.join(servicesDir, `${name}.service${EXTENSION}`), path.join(servicesDir, name, `${name}.service${EXTENSION}`)];
	return candidates.find((file) => existsSync(file)) ?? null;
}

/** The names of every service under `servicesDir`, sorted: the values `SERVICES` may list. */
export function serviceNames(servicesDir: string): string[] {
	const suffix = `.service${EXTENSION}`;
	return readdirSync(servicesDir, { withFileTypes: true })
		.flatMap((entry) => {
			if (entry.isFile() && entry.name.endsWith(suffix)) return [entry.name.slice(0, -suffix.length)];
			if (entry.isDirectory() && existsSync(path.join(servicesDir, entry.name, `${entry.name}${suffix}`))) return [entry.name];
			return [];
		})
		.sort();
}
