// Tests are TypeScript, compiled per file by SWC (type checking is `npm run lint`'s job).
const transform = {
	"^.+\\.ts$": ["@swc/jest", { jsc: { parser: { syntax: "typescript" }, target: "es2022" }, module: { type: "commonjs" } }],
};

/** One project per test tier (unit, embedded, distributed, deploy, browser, hardening); `npm test` selects unit + embedded. */
function project(name, extra = {}) {
	return {
		displayName: name,
		testMatch: [`<rootDir>/test/${name}/**/*.test.ts`],
		transform,
		testEnvironment: "node",
		...extra,
	};
}

module.exports = {
	// System tests start real processes; these are upper bounds, not speed assertions.
	testTimeout: 120_000,
	projects: [
		project("unit"),
		project("embedded"),
		project("distributed", { globalSetup: "<rootDir>/test/support/infrastructure.ts" }),
		// Renders k8s/ with kustomize, built with Go by scripts/infra/kustomize.sh; only `npm run test:all` runs it.
		project("deploy", { globalSetup: "<rootDir>/test/deploy/global-setup.ts" }),
		project("browser", { globalSetup: "<rootDir>/test/browser/global-setup.ts" }),
		// Needs Python 3.11 and PyPI (Schemathesis); only `npm run test:all` runs it.
		project("hardening"),
	],
};
