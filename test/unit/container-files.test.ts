/**
 * Static checks of docker-compose.yml and the Dockerfile: nothing here talks to a Docker engine
 * (none runs in CI). The Kubernetes manifests are checked in test/deploy/kubernetes.test.ts, on
 * what kustomize renders.
 */
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { PROBE_PATHS } from "../../lib/platform/probes";
import { serviceFile } from "../../lib/platform/service-files";
import { composeRoles, composeServices, coverageProblems, ROLES, ROOT, readText, serviceFiles } from "../support/pod-roles";

describe("the check that every service file runs in exactly one pod role", () => {
	it("finds a service deployed twice or never, and unknown names", () => {
		expect(coverageProblems(["a", "b"], { one: "a", two: "b" })).toEqual([]);
		expect(coverageProblems(["a", "b"], { one: "a,b", two: "b" })).toEqual(["service b is deployed by one and two"]);
		expect(coverageProblems(["a", "b"], { one: "a" })).toEqual(["service b is deployed by no role"]);
		expect(coverageProblems(["a"], { one: "a,ghost" })).toEqual(['one names "ghost", but there is no service of that name']);
	});
});

// --- docker-compose.yml -----------------------------------------------------------------------------

describe("docker-compose.yml (static: no Docker engine runs here)", () => {
	const services = composeServices();

	it("runs Kafka in KRaft mode and MongoDB 8, both with healthchecks", () => {
		const kafka = services.kafka;
		expect(kafka?.image).toMatch(/^apache\/kafka:4\./);
		expect(String(kafka?.environment?.KAFKA_PROCESS_ROLES)).toBe("broker,controller");
		expect(kafka?.environment?.KAFKA_CONTROLLER_QUORUM_VOTERS).toBeDefined();
		expect(kafka?.healthcheck?.test).toBeDefined();
		expect(services.mongo?.image).toMatch(/^mongo:8/);
		expect(services.mongo?.healthcheck?.test).toBeDefined();
		// The host side matches what the tests and a local `npm start` expect.
		expect(kafka?.ports).toContain("127.0.0.1:9092:9094");
		expect(kafka?.environment?.KAFKA_ADVERTISED_LISTENERS).toContain("EXTERNAL://127.0.0.1:9092");
		expect(services.mongo?.ports).toContain("127.0.0.1:27017:27017");
	});

	it("creates the topics with the same script as the Kubernetes Job", () => {
		const init = services["kafka-init"];
		expect(init?.command).toEqual(["sh", "/scripts/create-topics.sh"]);
		expect(init?.volumes).toContain("./k8s/base/create-topics.sh:/scripts/create-topics.sh:ro");
		expect(init?.depends_on?.kafka?.condition).toBe("service_healthy");
	});

	it("runs one service per pod role, every service file in exactly one", () => {
		// test/deploy/kubernetes.test.ts checks that the Kubernetes roles run the same SERVICES.
		expect(coverageProblems(serviceFiles(), composeRoles())).toEqual([]);
	});

	it("builds each role from the Dockerfile, in the distributed mode, after Kafka and MongoDB are healthy", () => {
		for (const role of ROLES) {
			const service = services[role];
			const build = typeof service?.build === "string" ? service.build : service?.build?.context;
			expect([role, build]).toEqual([role, "."]);
			const env = service?.environment ?? {};
			expect([role, env.TRANSPORTER, env.HOST, env.NODE_ENV]).toEqual([role, "kafka://kafka:9092", "0.0.0.0", "production"]);
			expect(String(env.MONGO_URI)).toMatch(/^mongodb:\/\/mongo:27017\//);
			// From .env or the shell, never written here.
			expect(env.JWT_SECRET).toMatch(/^\$\{JWT_SECRET[:?-]/);
			expect([role, service?.depends_on?.kafka?.condition, service?.depends_on?.mongo?.condition]).toEqual([
				role,
				"service_healthy",
				"service_healthy",
			]);
			expect([role, service?.healthcheck?.test]).toEqual([role, expect.anything()]);
		}
	});

	it("publishes the gateway on :3000 and checks the other roles through the probe server", () => {
		expect(services.gateway?.ports).toContain("3000:3000");
		expect(JSON.stringify(services.gateway?.healthcheck?.test)).toContain("/api/ready");
		for (const role of ROLES.filter((r) => r !== "gateway")) {
			const port = services[role]?.environment?.PROBE_PORT;
			expect([role, JSON.stringify(services[role]?.healthcheck?.test).includes(`:${port}${PROBE_PATHS.ready}`)]).toEqual([role, true]);
		}
	});
});

// --- Dockerfile ---------------------------------------------------------------------------------------

interface Instruction {
	op: string;
	args: string;
	stage: string;
}

function dockerInstructions(text: string): Instruction[] {
	const logical = text
		.split("\n")
		.filter((line) => !/^\s*#/.test(line))
		.join("\n")
		.replace(/\\\n/g, " ")
		.split("\n")
		.map((line) => line.trim())
		.filter(Boolean);
	let stage = "";
	return logical.map((line) => {
		const [op = "", ...rest] = line.split(/\s+/);
		const args = rest.join(" ");
		if (op.toUpperCase() === "FROM") stage = /\bAS\s+(\S+)/i.exec(args)?.[1] ?? args;
		return { op: op.toUpperCase(), args, stage };
	});
}

/** The source files the running app loads (a pod's config and services, the REPL), following relative imports. */
function runtimeSources(): Set<string> {
	const entries = new Set<string>();
	const seen = new Set<string>();
	// The pod command's config and services, and `npm run repl`, which operators run inside pods.
	const queue = [
		"moleculer.config.ts",
		"scripts/repl.ts",
		...serviceFiles().map((name) => path.relative(ROOT, serviceFile(path.join(ROOT, "services"), name) as string)),
	];
	while (queue.length > 0) {
		const file = queue.shift() as string;
		if (seen.has(file)) continue;
		seen.add(file);
		entries.add(file);
		const source = readText(path.join(ROOT, file));
		for (const match of source.matchAll(/(?:from|import|require)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g)) {
			const spec = match[1] as string;
			const resolved = path.relative(ROOT, path.resolve(ROOT, path.dirname(file), spec));
			const candidates = [resolved, `${resolved}.ts`, `${resolved.replace(/\.js$/, "")}.ts`, path.join(resolved, "index.ts")];
			const found = candidates.find((candidate) => existsSync(path.join(ROOT, candidate)) && statSync(path.join(ROOT, candidate)).isFile());
			if (found?.endsWith(".ts")) queue.push(found);
			else if (found) entries.add(found);
		}
	}
	return entries;
}

describe("Dockerfile (static: no Docker engine runs here)", () => {
	const text = readText(path.join(ROOT, "Dockerfile"));
	const instructions = dockerInstructions(text);
	const froms = instructions.filter((i) => i.op === "FROM");
	const finalStage = froms[froms.length - 1]?.stage ?? "";
	const inStage = (stage: string) => instructions.filter((i) => i.stage === stage);

	it("is multi-stage on Node 22", () => {
		expect(froms.length).toBeGreaterThanOrEqual(2);
		for (const from of froms) expect(from.args).toMatch(/^node:22[.\w-]*\s+AS\s+\w+$/i);
	});

	it("installs with npm ci and builds the web app in a build stage, not the final one", () => {
		const buildStage = instructions.find((i) => i.op === "RUN" && /npm run build:web/.test(i.args))?.stage;
		expect(buildStage).toBeDefined();
		expect(buildStage).not.toBe(finalStage);
		expect(inStage(buildStage ?? "").some((i) => i.op === "RUN" && /\bnpm ci\b/.test(i.args))).toBe(true);
		// The final image gets production dependencies only, and the built app from the build stage.
		expect(instructions.some((i) => i.op === "RUN" && /npm (ci|prune) .*--omit=dev/.test(i.args))).toBe(true);
		expect(inStage(buildStage ?? "").some((i) => i.op === "RUN" && /npm run build\b/.test(i.args))).toBe(true);
		expect(inStage(finalStage).some((i) => i.op === "COPY" && i.args.includes(`--from=${buildStage}`) && /\bpublic\b/.test(i.args))).toBe(
			true,
		);
		expect(inStage(finalStage).some((i) => i.op === "RUN" && /\bnpm (ci|install)\b/.test(i.args))).toBe(false);
	});

	it("compiles everything the running app imports, and the final stage gets the compiled app, its dependencies and public/", () => {
		const build = JSON.parse(readText(path.join(ROOT, "tsconfig.build.json"))) as { include: string[] };
		const compiled = (file: string) => build.include.some((entry) => file === entry || file.startsWith(`${entry}/`));
		expect([...runtimeSources()].filter((file) => !compiled(file))).toEqual([]);
		const copied = new Set(
			inStage(finalStage)
				.filter((i) => i.op === "COPY")
				.flatMap((i) => {
					const parts = i.args.split(/\s+/).filter((part) => !part.startsWith("--"));
					return parts.slice(0, -1).map((source) => source.replace(/^\/app\//, "").split("/")[0] as string);
				}),
		);
		expect([...copied].sort()).toEqual(["dist", "node_modules", "package.json", "public"]);
	});

	it("runs as a numeric non-root user, with a healthcheck, node as PID 1 and no secrets", () => {
		const user = inStage(finalStage)
			.filter((i) => i.op === "USER")
			.pop()?.args;
		expect(user).toMatch(/^[1-9]\d*(:\d+)?$/);
		expect(
			inStage(finalStage).some((i) => i.op === "HEALTHCHECK" && i.args.includes(PROBE_PATHS.live) && i.args.includes("/api/health")),
		).toBe(true);
		const cmd = inStage(finalStage)
			.filter((i) => i.op === "CMD")
			.pop()?.args;
		// The compiled JavaScript, by node itself: no tsx or esbuild in a pod.
		expect(JSON.parse(cmd ?? "[]")).toEqual([
			"node",
			"node_modules/moleculer/bin/moleculer-runner.js",
			"--config",
			"dist/moleculer.config.js",
		]);
		const { dependencies } = JSON.parse(readText(path.join(ROOT, "package.json"))) as { dependencies: Record<string, string> };
		expect(Object.keys(dependencies).filter((name) => ["tsx", "esbuild", "typescript"].includes(name))).toEqual([]);
		for (const i of instructions.filter((x) => x.op === "ENV" || x.op === "ARG"))
			expect(i.args).not.toMatch(/SECRET|PASSWORD|TOKEN|MONGO_URI/i);
		expect(instructions.filter((i) => i.op === "COPY" || i.op === "ADD").map((i) => i.args)).not.toContainEqual(
			expect.stringMatching(/\.env\b/),
		);
	});

	it("keeps secrets, dependencies and local data out of the build context", () => {
		const ignored = readText(path.join(ROOT, ".dockerignore"))
			.split("\n")
			.map((line) => line.trim());
		for (const entry of ["node_modules", ".git", ".env", "data"]) expect(ignored).toContain(entry);
	});
});
