/**
 * The direction of imports between the layers of the tree (docs/architecture.md, "Layers"): each
 * source file may import only from the layers below it, so a contract never drags in Node or
 * Moleculer, the platform never knows a service, and no service reaches into another's parts.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

const ROOT = path.join(__dirname, "..", "..");

/** A layer: the folders it holds and the folders its files may import from (besides its own). */
interface Layer {
	name: string;
	folders: string[];
	mayImport: string[];
	/** Packages (npm or node:) it may import; `*` for any. */
	packages: "*" | "none";
}

const LAYERS: Layer[] = [
	{ name: "contracts", folders: ["lib/contracts"], mayImport: [], packages: "none" },
	{ name: "platform", folders: ["lib/platform", "types"], mayImport: ["lib/contracts"], packages: "*" },
	{ name: "payment providers", folders: ["lib/payments"], mayImport: ["lib/contracts", "lib/platform"], packages: "*" },
	{ name: "operator tools", folders: ["lib/operator"], mayImport: ["lib/contracts", "lib/platform", "types"], packages: "*" },
	{ name: "mixins", folders: ["mixins"], mayImport: ["lib/contracts", "lib/platform", "types"], packages: "*" },
	{ name: "middlewares", folders: ["middlewares"], mayImport: ["lib/contracts", "lib/platform", "types"], packages: "*" },
	{
		name: "services",
		folders: ["services"],
		mayImport: ["lib/contracts", "lib/platform", "lib/payments", "lib/operator", "mixins", "types"],
		packages: "*",
	},
	{ name: "web app", folders: ["frontend/src"], mayImport: ["lib/contracts"], packages: "*" },
];

function sourceFiles(folder: string): string[] {
	return readdirSync(path.join(ROOT, folder), { recursive: true, withFileTypes: true })
		.filter((entry) => entry.isFile() && entry.name.endsWith(".ts"))
		.map((entry) => path.relative(ROOT, path.join(entry.parentPath, entry.name)));
}

/** Every module a file imports: relative ones resolved to a path from the root, packages by name. */
function importsOf(file: string): { relative: string[]; packages: string[] } {
	const source = readFileSync(path.join(ROOT, file), "utf8");
	const specs = [...source.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g)].map(
		(match) => (match[1] ?? match[2]) as string,
	);
	return {
		relative: specs.filter((spec) => spec.startsWith(".")).map((spec) => path.relative(ROOT, path.resolve(ROOT, path.dirname(file), spec))),
		packages: specs.filter((spec) => !spec.startsWith(".")),
	};
}

const within = (file: string, folder: string) => file === folder || file.startsWith(`${folder}/`);

/** A service's own folder (services/orders/...), or the file itself for a one-file service. */
function serviceHome(file: string): string {
	const [, second, third] = file.split("/");
	return third ? `services/${second}` : file.replace(/\.ts$/, "");
}

describe("layers", () => {
	for (const layer of LAYERS) {
		test(`${layer.name} (${layer.folders.join(", ")}) imports only from ${layer.mayImport.join(", ") || "itself"}`, () => {
			const breaches: string[] = [];
			for (const file of layer.folders.flatMap(sourceFiles)) {
				const { relative, packages } = importsOf(file);
				for (const target of relative) {
					const allowed = [...layer.folders, ...layer.mayImport].some((folder) => within(target, folder));
					// A service may use its own parts, never another service's.
					const otherService = layer.name === "services" && !within(target, serviceHome(file)) && within(target, "services");
					if (!allowed || otherService) breaches.push(`${file} imports ${target}`);
				}
				if (layer.packages === "none") for (const name of packages) breaches.push(`${file} imports the package ${name}`);
			}
			expect(breaches).toEqual([]);
		});
	}

	test("lib/ keeps its files in its layer folders, at most 10 at the top", () => {
		const top = readdirSync(path.join(ROOT, "lib"), { withFileTypes: true }).filter((entry) => entry.isFile());
		expect(top.length).toBeLessThanOrEqual(10);
	});
});
