/**
 * The Kubernetes manifests as `kubectl apply -k` would apply them: each overlay rendered by the real
 * kustomize (pinned in scripts/infra/kustomize/go.mod, built into $INFRA_DIR/bin by
 * scripts/infra/kustomize.sh), every object validated against the Kubernetes OpenAPI schemas of the
 * `kubernetes-models` package, and the invariants that make the system work (probes on real
 * endpoints, graceful shutdown, every service deployed exactly once...) asserted on the result.
 * Nothing here talks to a cluster.
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import ts from "typescript";
import { parse, parseAllDocuments, stringify } from "yaml";
import { DOMAIN_EVENTS } from "../../lib/contracts/events";
import { PUSH_CHANNEL } from "../../lib/contracts/realtime";
import { PROBE_PATHS, READY_CALL_TIMEOUT } from "../../lib/platform/probes";
import { readSettings } from "../../lib/platform/settings";
import { clientAddressResolver } from "../../services/api/client-address";
import { composeRoles, coverageProblems, ROLES, ROOT, readText, serviceFiles } from "../support/pod-roles";

const K8S = path.join(ROOT, "k8s");
const OVERLAYS = ["small", "large"] as const;

/**
 * How each overlay lays the services out: the small shop keeps the saga's services in one role
 * (the base's `shop`), the large one splits it into catalog, orders and payments (the six roles
 * of docker-compose.yml). Per layout: its roles, those that autoscale, those whose pods consume
 * the order topics (one consumer group each), and the role on the checkout path that gets most.
 */
const LAYOUTS = {
	small: {
		roles: ["gateway", "shop", "users", "realtime"],
		autoscaled: ["gateway", "shop"],
		orderConsumers: ["shop", "realtime"],
		checkout: "shop",
	},
	large: {
		roles: [...ROLES],
		autoscaled: ["gateway", "orders"],
		orderConsumers: ["catalog", "orders", "payments", "realtime"],
		checkout: "orders",
	},
} as const satisfies Record<
	(typeof OVERLAYS)[number],
	{ roles: readonly string[]; autoscaled: readonly string[]; orderConsumers: readonly string[]; checkout: string }
>;
/** The services of the base's shop role: those of the large layout's catalog, orders and payments. */
const SPLIT_SHOP = ["catalog", "orders", "payments"] as const;
/** The durable domain events the services publish, plus the gateways' pushes and the dead-letter topic. */
const TOPICS = [...DOMAIN_EVENTS, PUSH_CHANNEL, "dead-letter"];

// --- minimal typed views of what the checks read ------------------------------------------

type Labels = Record<string, string>;

interface Meta {
	name: string;
	namespace?: string;
	labels?: Labels;
	annotations?: Labels;
}
interface K8sObject {
	apiVersion: string;
	kind: string;
	metadata: Meta;
	[key: string]: unknown;
}
interface EnvVar {
	name: string;
	value?: string;
	valueFrom?: {
		fieldRef?: { fieldPath: string };
		secretKeyRef?: { name: string; key: string; optional?: boolean };
		configMapKeyRef?: { name: string; key: string };
	};
}
interface Probe {
	httpGet?: { path: string; port: string | number };
	tcpSocket?: { port: string | number };
	exec?: { command: string[] };
	timeoutSeconds?: number;
}
interface Container {
	name: string;
	image: string;
	command?: string[];
	ports?: { name?: string; containerPort: number }[];
	env?: EnvVar[];
	envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
	resources?: { requests?: Labels; limits?: Labels };
	livenessProbe?: Probe;
	readinessProbe?: Probe;
	startupProbe?: Probe;
	lifecycle?: { preStop?: { exec?: { command: string[] }; sleep?: { seconds: number } } };
	securityContext?: {
		allowPrivilegeEscalation?: boolean;
		readOnlyRootFilesystem?: boolean;
		privileged?: boolean;
		capabilities?: { drop?: string[]; add?: string[] };
	};
	volumeMounts?: { name: string; mountPath: string }[];
}
interface PodSpec {
	containers: Container[];
	enableServiceLinks?: boolean;
	automountServiceAccountToken?: boolean;
	initContainers?: Container[];
	terminationGracePeriodSeconds?: number;
	securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; seccompProfile?: { type: string } };
	volumes?: { name: string; emptyDir?: object; configMap?: { name: string }; hostPath?: object }[];
}
interface Workload extends K8sObject {
	spec: {
		replicas?: number;
		selector?: { matchLabels: Labels };
		serviceName?: string;
		template: { metadata?: { labels?: Labels; annotations?: Labels }; spec: PodSpec };
		volumeClaimTemplates?: { metadata: { name: string } }[];
	};
}
interface ServiceObject extends K8sObject {
	spec: { selector?: Labels; clusterIP?: string; ports: { name?: string; port: number; targetPort?: string | number }[] };
}
interface Hpa extends K8sObject {
	spec: { scaleTargetRef: { apiVersion: string; kind: string; name: string }; minReplicas?: number; maxReplicas: number };
}
interface Pdb extends K8sObject {
	spec: { selector: { matchLabels: Labels }; maxUnavailable?: number | string; minAvailable?: number | string };
}
interface IngressObject extends K8sObject {
	spec: {
		ingressClassName?: string;
		rules: {
			host?: string;
			http: {
				paths: { path: string; pathType: string; backend: { service: { name: string; port: { name?: string; number?: number } } } }[];
			};
		}[];
	};
}
interface ConfigMapObject extends K8sObject {
	data?: Labels;
}

function yamlObjects(text: string, source: string): K8sObject[] {
	return parseAllDocuments(text)
		.map((doc) => {
			if (doc.errors.length > 0) throw new Error(`${source}: ${doc.errors[0]?.message}`);
			return doc.toJS() as K8sObject | null;
		})
		.filter((obj): obj is K8sObject => obj !== null);
}

function loadYamlObjects(file: string): K8sObject[] {
	return yamlObjects(readText(file), path.relative(ROOT, file));
}

// --- rendering with kustomize ----------------------------------------------------------------

const INFRA_DIR = process.env.INFRA_DIR || path.join(process.env.TMPDIR || "/tmp", "agora-infra");
const KUSTOMIZE = path.join(INFRA_DIR, "bin", "kustomize");

/** Fails unless $INFRA_DIR/bin/kustomize is the version scripts/infra/kustomize/go.mod pins. */
function checkKustomize(): void {
	const build = `${process.env.INFRA_DIR ? `INFRA_DIR=${INFRA_DIR} ` : ""}bash scripts/infra/kustomize.sh up`;
	const how = `build it with \`${build}\` (or \`eval "$(bash scripts/infra/up.sh)"\`, which also starts the test servers)`;
	if (!existsSync(KUSTOMIZE)) throw new Error(`${KUSTOMIZE} does not exist: ${how}`);
	const goMod = readText(path.join(ROOT, "scripts", "infra", "kustomize", "go.mod"));
	const pinned = /^\s*sigs\.k8s\.io\/kustomize\/kustomize\/v5 (v\S+)/m.exec(goMod)?.[1];
	const version = spawnSync(KUSTOMIZE, ["version"], { encoding: "utf8" }).stdout?.trim();
	if (!pinned || version !== pinned)
		throw new Error(`${KUSTOMIZE} is ${version || "not runnable"}, scripts/infra/kustomize/go.mod pins ${pinned}: ${how}`);
}

function overlayDir(overlay: string): string {
	return path.join(K8S, "overlays", overlay);
}

/** `kustomize build <dir>`: the YAML that `kubectl apply -k <dir>` would send. */
function kustomizeBuild(dir: string): string {
	const run = spawnSync(KUSTOMIZE, ["build", dir], { encoding: "utf8", maxBuffer: 64 * 2 ** 20 });
	const shown = dir.startsWith(ROOT) ? path.relative(ROOT, dir) : dir;
	if (run.error || run.status !== 0) throw new Error(`kustomize build ${shown} failed: ${run.error?.message ?? run.stderr}`);
	return run.stdout;
}

/** The overlay rendered without its patch number `index`, from a copy outside the repository. */
function buildWithoutPatch(overlay: string, index: number): string {
	const source = overlayDir(overlay);
	const dir = mkdtempSync(path.join(tmpdir(), `agora-${overlay}-`));
	try {
		cpSync(source, dir, { recursive: true });
		const kustomization = parse(readText(path.join(source, "kustomization.yaml"))) as { resources?: string[]; patches?: unknown[] };
		// The base by a relative path (kustomize refuses absolute paths to a kustomization); the
		// overlay's own files are in the copy.
		kustomization.resources = kustomization.resources?.map((resource) =>
			existsSync(path.join(source, resource, "kustomization.yaml")) ? path.relative(dir, path.resolve(source, resource)) : resource,
		);
		kustomization.patches?.splice(index, 1);
		writeFileSync(path.join(dir, "kustomization.yaml"), stringify(kustomization));
		return kustomizeBuild(dir);
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
}

// --- schema validation -------------------------------------------------------------------------

/**
 * kubernetes-models is ESM-only, which jest's CommonJS runtime cannot load, so the validation runs
 * in a child Node process: every object through its model's `validate()` (the OpenAPI schema).
 */
const VALIDATE_SCRIPT = `
let input = "";
for await (const chunk of process.stdin) input += chunk;
const errors = [];
for (const [index, obj] of JSON.parse(input).entries()) {
	let Model;
	try {
		Model = (await import(\`kubernetes-models/\${obj.apiVersion}/\${obj.kind}\`))[obj.kind];
	} catch {
		errors.push({ index, message: \`no schema for \${obj.apiVersion} \${obj.kind}\` });
		continue;
	}
	try {
		new Model(obj).validate();
	} catch (err) {
		errors.push({ index, message: err.message });
	}
}
process.stdout.write(JSON.stringify(errors));
`;

function schemaErrors(objects: K8sObject[]): string[] {
	const run = spawnSync(process.execPath, ["--input-type=module", "-e", VALIDATE_SCRIPT], {
		cwd: ROOT,
		input: JSON.stringify(objects),
		encoding: "utf8",
	});
	if (run.status !== 0) throw new Error(`schema validation did not run: ${run.stderr}`);
	const errors = JSON.parse(run.stdout) as { index: number; message: string }[];
	return errors.map(({ index, message }) => `${idOf(objects[index])}: ${message}`);
}

/**
 * The schemas above accept unknown fields, so a typo such as `readinesProbe` would pass them and
 * be dropped by the API server. The same package's TypeScript interfaces are exact: type-check
 * every object as an object literal and TypeScript's excess-property check names any stray key.
 */
function unknownFieldErrors(objects: K8sObject[]): string[] {
	const file = path.join(ROOT, "__manifests_check__.ts");
	const imports = new Map<string, string>();
	const spans: { start: number; end: number; obj: K8sObject }[] = [];
	let body = "";
	objects.forEach((obj, index) => {
		const module = `kubernetes-models/${obj.apiVersion}/${obj.kind}`;
		if (!imports.has(module)) imports.set(module, `T${imports.size}`);
		const start = body.length;
		body += `export const o${index}: ${imports.get(module)} = ${JSON.stringify(obj, null, 1)};\n`;
		spans.push({ start, end: body.length, obj });
	});
	const header = [...imports]
		.map(([module, alias]) => `import type { I${module.split("/").pop()} as ${alias} } from "${module}";\n`)
		.join("");
	const source = header + body;
	const options: ts.CompilerOptions = {
		strict: true,
		noEmit: true,
		skipLibCheck: true,
		target: ts.ScriptTarget.ES2022,
		module: ts.ModuleKind.ESNext,
		moduleResolution: ts.ModuleResolutionKind.Bundler,
		types: [],
	};
	const host = ts.createCompilerHost(options);
	const { getSourceFile, fileExists, readFile } = host;
	host.getSourceFile = (name, language, ...rest) =>
		name === file ? ts.createSourceFile(name, source, language) : getSourceFile(name, language, ...rest);
	host.fileExists = (name) => name === file || fileExists(name);
	host.readFile = (name) => (name === file ? source : readFile(name));
	const program = ts.createProgram([file], options, host);
	return ts
		.getPreEmitDiagnostics(program)
		.filter((diagnostic) => diagnostic.file?.fileName === file)
		.map((diagnostic) => {
			const at = (diagnostic.start ?? 0) - header.length;
			const span = spans.find(({ start, end }) => at >= start && at < end);
			return `${span ? idOf(span.obj) : "imports"}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, " ")}`;
		});
}

function idOf(obj: K8sObject | undefined): string {
	return obj ? `${obj.kind}/${obj.metadata.name}` : "?";
}

// --- helpers over rendered objects -----------------------------------------------------------------

function ofKind<T extends K8sObject>(objects: K8sObject[], kind: string): T[] {
	return objects.filter((obj) => obj.kind === kind) as T[];
}

function byName<T extends K8sObject>(objects: K8sObject[], kind: string, name: string): T {
	const found = ofKind<T>(objects, kind).find((obj) => obj.metadata.name === name);
	if (!found) throw new Error(`no ${kind}/${name}`);
	return found;
}

function workloads(objects: K8sObject[]): Workload[] {
	return objects.filter((obj) => ["Deployment", "StatefulSet", "Job"].includes(obj.kind)) as Workload[];
}

/** Agora's own pods: Deployments running the app image. */
function appDeployments(objects: K8sObject[]): Workload[] {
	return ofKind<Workload>(objects, "Deployment").filter((obj) => obj.metadata.labels?.["app.kubernetes.io/name"] === "agora");
}

function roleOf(deployment: Workload): string {
	return deployment.spec.template.metadata?.labels?.["app.kubernetes.io/component"] ?? "";
}

function mainContainer(workload: Workload): Container {
	const container = workload.spec.template.spec.containers[0];
	if (!container) throw new Error(`${idOf(workload)} has no container`);
	return container;
}

/** The container's environment as the kubelet builds it: envFrom ConfigMaps, then env values. */
function effectiveEnv(container: Container, objects: K8sObject[]): Record<string, string | EnvVar["valueFrom"]> {
	const env: Record<string, string | EnvVar["valueFrom"]> = {};
	for (const source of container.envFrom ?? []) {
		if (source.configMapRef) Object.assign(env, byName<ConfigMapObject>(objects, "ConfigMap", source.configMapRef.name).data);
	}
	for (const variable of container.env ?? []) env[variable.name] = variable.value ?? variable.valueFrom;
	return env;
}

function envString(container: Container, objects: K8sObject[], name: string): string {
	const value = effectiveEnv(container, objects)[name];
	if (typeof value !== "string") throw new Error(`${container.name}: ${name} is not a plain value`);
	return value;
}

/** Each app Deployment's role and its SERVICES. */
function servicesByRole(objects: K8sObject[]): Record<string, string> {
	return Object.fromEntries(
		appDeployments(objects).map((deployment) => [roleOf(deployment), envString(mainContainer(deployment), objects, "SERVICES")]),
	);
}

function containerPort(container: Container, port: string | number | undefined): number | undefined {
	if (typeof port === "number") return container.ports?.some((p) => p.containerPort === port) ? port : undefined;
	return container.ports?.find((p) => p.name === port)?.containerPort;
}

/** Kubernetes quantities in base units (cores, bytes). */
function quantity(value: string | number | undefined): number {
	if (value === undefined) return Number.NaN;
	const text = String(value);
	const match = /^([0-9.]+)(m|Ki|Mi|Gi|Ti|k|M|G)?$/.exec(text);
	if (!match) return Number.NaN;
	const factor: Record<string, number> = { m: 1e-3, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9 };
	return Number(match[1]) * (match[2] ? (factor[match[2]] ?? Number.NaN) : 1);
}

function matchesLabels(labels: Labels | undefined, wanted: Labels): boolean {
	return Object.entries(wanted).every(([key, value]) => labels?.[key] === value);
}

function shutdownTimeoutSeconds(): number {
	const match = /shutdownTimeout:\s*([\d_]+)/.exec(readText(path.join(ROOT, "moleculer.config.ts")));
	if (!match?.[1]) throw new Error("moleculer.config.ts sets no tracking.shutdownTimeout");
	return Number(match[1].replace(/_/g, "")) / 1000;
}

function topicSettings(objects: K8sObject[]): Labels {
	return byName<ConfigMapObject>(objects, "ConfigMap", "agora-kafka-topics").data ?? {};
}

checkKustomize();
const rendered = new Map<string, { text: string; objects: K8sObject[] }>();
for (const overlay of OVERLAYS) {
	const text = kustomizeBuild(overlayDir(overlay));
	rendered.set(overlay, { text, objects: yamlObjects(text, `kustomize build k8s/overlays/${overlay}`) });
}
function overlayRendering(overlay: string): { text: string; objects: K8sObject[] } {
	const rendering = rendered.get(overlay);
	if (!rendering) throw new Error(`overlay ${overlay} not rendered`);
	return rendering;
}
function overlayObjects(overlay: string): K8sObject[] {
	return overlayRendering(overlay).objects;
}

// --- Kubernetes ------------------------------------------------------------------------------------

describe.each(OVERLAYS)("k8s/overlays/%s", (overlay) => {
	const objects = overlayObjects(overlay);
	const deployments = appDeployments(objects);
	const layout = LAYOUTS[overlay];

	it("renders every object valid against the Kubernetes schemas", () => {
		expect(objects.length).toBeGreaterThan(20);
		expect(schemaErrors(objects)).toEqual([]);
	});

	it("has no unknown or misspelled fields", () => {
		expect(unknownFieldErrors(objects)).toEqual([]);
	});

	it("has no patch that changes nothing (kustomize skips a patch whose target matches no object)", () => {
		const { patches = [] } = parse(readText(path.join(overlayDir(overlay), "kustomization.yaml"))) as {
			patches?: { path?: string; target?: object }[];
		};
		expect(patches.length).toBeGreaterThan(0);
		const idle = patches
			.map((patch, index) => ({ patch, index }))
			.filter(({ index }) => buildWithoutPatch(overlay, index) === overlayRendering(overlay).text)
			.map(({ patch, index }) => `patches[${index}]: ${patch.path ?? JSON.stringify(patch.target)}`);
		expect(idle).toEqual([]);
	});

	it("puts everything in the agora Namespace, with unique names", () => {
		expect(ofKind(objects, "Namespace").map((ns) => ns.metadata.name)).toEqual(["agora"]);
		for (const obj of objects) if (obj.kind !== "Namespace") expect([idOf(obj), obj.metadata.namespace]).toEqual([idOf(obj), "agora"]);
		const ids = objects.map((obj) => `${obj.kind}/${obj.metadata.name}`);
		expect(ids.filter((id, index) => ids.indexOf(id) !== index)).toEqual([]);
	});

	it("lets the gateway take the client's address from the ingress controller's X-Forwarded-For, and only from there", () => {
		const gateway = deployments.find((deployment) => roleOf(deployment) === "gateway") as Workload;
		const { trustProxy } = readSettings({
			JWT_SECRET: "manifest-test-secret-0123456789abcdefghij",
			TRUST_PROXY: envString(mainContainer(gateway), objects, "TRUST_PROXY"),
		});
		// Proxies by address, not a hop count that any pod reaching the gateway could use.
		expect(Array.isArray(trustProxy)).toBe(true);
		const clientOf = clientAddressResolver(trustProxy);
		const request = (peer: string, forwardedFor: string) =>
			({ headers: { "x-forwarded-for": forwardedFor }, socket: { remoteAddress: peer }, connection: { remoteAddress: peer } }) as never;
		// ingress-nginx on a pod address writes the shopper's address; a shopper cannot speak for itself.
		expect(clientOf(request("10.244.3.17", "203.0.113.7"))).toBe("203.0.113.7");
		expect(clientOf(request("203.0.113.7", "198.51.100.1"))).toBe("203.0.113.7");
	});

	it("runs one Deployment per pod role, and every service file in exactly one of them", () => {
		expect(deployments.map(roleOf).sort()).toEqual([...layout.roles].sort());
		const roles = servicesByRole(objects);
		expect(roles.gateway).toBe("api");
		expect(coverageProblems(serviceFiles(), roles)).toEqual([]);
	});

	it("runs each role with the same SERVICES as docker-compose.yml (whose six roles the shop role joins)", () => {
		const compose = composeRoles();
		const expected =
			overlay === "large"
				? compose
				: {
						...Object.fromEntries(Object.entries(compose).filter(([role]) => !(SPLIT_SHOP as readonly string[]).includes(role))),
						shop: SPLIT_SHOP.map((role) => compose[role]).join(","),
					};
		expect(servicesByRole(objects)).toEqual(expected);
	});

	it("gives each role the settings of the distributed mode", () => {
		for (const deployment of deployments) {
			const container = mainContainer(deployment);
			const env = effectiveEnv(container, objects);
			expect([roleOf(deployment), env.NODE_ENV, env.HOST]).toEqual([roleOf(deployment), "production", "0.0.0.0"]);
			expect(env.TRANSPORTER).toMatch(/^kafka:\/\/[a-z0-9.-]+:\d+$/);
			// The pod name as the Moleculer node id: unique, and the same in logs and the REPL.
			expect(env.NODE_ID).toEqual({ fieldRef: { fieldPath: "metadata.name" } });
			expect(env.JWT_SECRET).toEqual({ secretKeyRef: { name: "agora-secrets", key: "JWT_SECRET" } });
			expect(env.MONGO_URI).toEqual({ secretKeyRef: { name: "agora-secrets", key: "MONGO_URI" } });
			expect(container.image).toMatch(/\/agora:[\w.-]+$/);
		}
		// The probe server runs where there is no gateway to answer probes.
		const withProbes = deployments.filter((deployment) => effectiveEnv(mainContainer(deployment), objects).PROBE_PORT !== undefined);
		expect(withProbes.map(roleOf).sort()).toEqual(layout.roles.filter((role) => role !== "gateway").sort());
		// The admin bootstrap credentials reach the users role only.
		const withAdmin = deployments.filter((deployment) =>
			mainContainer(deployment).env?.some((variable) => variable.name === "ADMIN_PASSWORD"),
		);
		expect(withAdmin.map(roleOf)).toEqual(["users"]);
		// The transporter address is a Service that exposes that port.
		const [host, port] = envString(mainContainer(deployments[0] as Workload), objects, "TRANSPORTER")
			.slice("kafka://".length)
			.split(":");
		expect(byName<ServiceObject>(objects, "Service", host ?? "").spec.ports.map((p) => p.port)).toContain(Number(port));
	});

	it("probes real endpoints: the gateway's /api routes, the probe server elsewhere", () => {
		const api = readText(path.join(ROOT, "services", "api", "api.service.ts"));
		const routes = readText(path.join(ROOT, "services", "api", "routes.ts"));
		expect(api).toMatch(/path:\s*"\/api"/);
		expect(routes).toMatch(/"GET \/health"/);
		// One readiness routine behind both: the gateway's action is lib/platform/probes.ts `readiness`.
		expect(routes).toMatch(/"GET \/ready": "api\.ready"/);
		expect(api).toMatch(/await readiness\(this\.broker\)/);
		for (const deployment of deployments) {
			const container = mainContainer(deployment);
			const { startupProbe, livenessProbe, readinessProbe } = container;
			const expected =
				roleOf(deployment) === "gateway"
					? { port: Number(envString(container, objects, "PORT")), live: "/api/health", ready: "/api/ready" }
					: { port: Number(envString(container, objects, "PROBE_PORT")), live: PROBE_PATHS.live, ready: PROBE_PATHS.ready };
			const seen = {
				role: roleOf(deployment),
				live: livenessProbe?.httpGet?.path,
				startup: startupProbe?.httpGet?.path,
				ready: readinessProbe?.httpGet?.path,
				ports: [livenessProbe, startupProbe, readinessProbe].map((probe) => containerPort(container, probe?.httpGet?.port)),
				// Kubernetes waits 1 s unless told otherwise; readiness may wait that long for a storage probe.
				readyWaitsForStorageProbes: (readinessProbe?.timeoutSeconds ?? 1) * 1000 > READY_CALL_TIMEOUT,
			};
			expect(seen).toEqual({
				role: roleOf(deployment),
				live: expected.live,
				startup: expected.live,
				ready: expected.ready,
				ports: [expected.port, expected.port, expected.port],
				readyWaitsForStorageProbes: true,
			});
		}
	});

	it("probes Kafka and MongoDB too", () => {
		for (const name of ["kafka", "mongo"]) {
			const container = mainContainer(byName<Workload>(objects, "StatefulSet", name));
			expect([name, Boolean(container.livenessProbe), Boolean(container.readinessProbe)]).toEqual([name, true, true]);
		}
	});

	it("exposes Prometheus metrics on a named port, with scrape annotations", () => {
		for (const deployment of deployments) {
			const container = mainContainer(deployment);
			const metricsPort = Number(envString(container, objects, "METRICS_PORT"));
			expect([roleOf(deployment), containerPort(container, "metrics")]).toEqual([roleOf(deployment), metricsPort]);
			expect(deployment.spec.template.metadata?.annotations).toEqual({
				"prometheus.io/scrape": "true",
				"prometheus.io/port": String(metricsPort),
				"prometheus.io/path": "/metrics",
			});
		}
	});

	it("drains gracefully: preStop first, then more grace than Moleculer's shutdown needs", () => {
		const drain = shutdownTimeoutSeconds();
		for (const deployment of deployments) {
			const preStop = mainContainer(deployment).lifecycle?.preStop;
			const sleep = preStop?.sleep?.seconds ?? (preStop?.exec?.command[0] === "sleep" ? Number(preStop.exec.command[1]) : Number.NaN);
			expect([roleOf(deployment), sleep >= 3 && sleep <= 10]).toEqual([roleOf(deployment), true]);
			const grace = deployment.spec.template.spec.terminationGracePeriodSeconds ?? 30;
			// preStop + drain + a few seconds to disconnect from Kafka, but not a stuck minute.
			expect([roleOf(deployment), grace >= sleep + drain + 5 && grace <= 60]).toEqual([roleOf(deployment), true]);
		}
	});

	it("sets requests and limits on every container, requests within limits", () => {
		for (const workload of workloads(objects)) {
			for (const container of workload.spec.template.spec.containers) {
				const { requests, limits } = container.resources ?? {};
				const id = `${idOf(workload)}/${container.name}`;
				const values = [quantity(requests?.cpu), quantity(requests?.memory), quantity(limits?.cpu), quantity(limits?.memory)];
				expect([id, values.every((value) => value > 0)]).toEqual([id, true]);
				expect([id, quantity(requests?.cpu) <= quantity(limits?.cpu), quantity(requests?.memory) <= quantity(limits?.memory)]).toEqual([
					id,
					true,
					true,
				]);
			}
		}
	});

	it("runs every pod non-root under the restricted Pod Security Standard, the app read-only", () => {
		expect(byName(objects, "Namespace", "agora").metadata.labels?.["pod-security.kubernetes.io/enforce"]).toBe("restricted");
		for (const workload of workloads(objects)) {
			const pod = workload.spec.template.spec;
			expect([idOf(workload), pod.securityContext?.runAsNonRoot, pod.securityContext?.seccompProfile?.type]).toEqual([
				idOf(workload),
				true,
				"RuntimeDefault",
			]);
			expect([idOf(workload), (pod.securityContext?.runAsUser ?? 1) > 0]).toEqual([idOf(workload), true]);
			expect(pod.volumes?.filter((volume) => volume.hostPath) ?? []).toEqual([]);
			// No API token in pods that never call the API; no docker-link variables (the Kafka image
			// would read KAFKA_PORT, made for the `kafka` Service, as a server property).
			expect([idOf(workload), pod.automountServiceAccountToken, pod.enableServiceLinks]).toEqual([idOf(workload), false, false]);
			for (const container of pod.containers) {
				const security = container.securityContext;
				expect([idOf(workload), security?.allowPrivilegeEscalation, security?.privileged ?? false, security?.capabilities?.drop]).toEqual([
					idOf(workload),
					false,
					false,
					["ALL"],
				]);
				expect(security?.capabilities?.add ?? []).toEqual([]);
			}
		}
		for (const deployment of deployments) {
			const container = mainContainer(deployment);
			expect([roleOf(deployment), container.securityContext?.readOnlyRootFilesystem]).toEqual([roleOf(deployment), true]);
			// tsx writes its compile cache to the temp dir: that one stays writable.
			const tmp = container.volumeMounts?.find((mount) => mount.mountPath === "/tmp");
			expect(deployment.spec.template.spec.volumes?.find((volume) => volume.name === tmp?.name)?.emptyDir).toBeDefined();
			expect(deployment.spec.template.spec.securityContext?.runAsUser).toBe(1000);
		}
	});

	it("selects its own pods in every Deployment and StatefulSet", () => {
		for (const workload of workloads(objects).filter((obj) => obj.kind !== "Job")) {
			const selector = workload.spec.selector?.matchLabels ?? {};
			expect([idOf(workload), Object.keys(selector).length > 0, matchesLabels(workload.spec.template.metadata?.labels, selector)]).toEqual([
				idOf(workload),
				true,
				true,
			]);
		}
	});

	it(`autoscales ${layout.autoscaled.join(" and ")} only, owning their replica counts`, () => {
		const hpas = ofKind<Hpa>(objects, "HorizontalPodAutoscaler");
		expect(hpas.map((hpa) => hpa.spec.scaleTargetRef.name).sort()).toEqual(layout.autoscaled.map((role) => `agora-${role}`).sort());
		for (const hpa of hpas) {
			const target = byName<Workload>(objects, hpa.spec.scaleTargetRef.kind, hpa.spec.scaleTargetRef.name);
			expect(hpa.spec.scaleTargetRef.apiVersion).toBe(target.apiVersion);
			// A fixed `replicas` would fight the autoscaler on every `kubectl apply`.
			expect([idOf(target), target.spec.replicas]).toEqual([idOf(target), undefined]);
			expect(hpa.spec.minReplicas ?? 1).toBeGreaterThanOrEqual(1);
			expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas ?? 1);
		}
		// More orders pods than order-topic partitions would sit idle in their consumer groups.
		expect(byName<Hpa>(objects, "HorizontalPodAutoscaler", `agora-${layout.checkout}`).spec.maxReplicas).toBeLessThanOrEqual(
			Number(topicSettings(objects).ORDER_PARTITIONS),
		);
	});

	it("covers every Deployment and StatefulSet with one PodDisruptionBudget that never blocks a drain", () => {
		const pdbs = ofKind<Pdb>(objects, "PodDisruptionBudget");
		for (const workload of workloads(objects).filter((obj) => obj.kind !== "Job")) {
			const covering = pdbs.filter((pdb) => matchesLabels(workload.spec.template.metadata?.labels, pdb.spec.selector.matchLabels));
			expect([idOf(workload), covering.length]).toEqual([idOf(workload), 1]);
			expect(covering[0]?.spec.maxUnavailable).toBe(1);
		}
		for (const pdb of pdbs)
			expect(workloads(objects).some((w) => matchesLabels(w.spec.template.metadata?.labels, pdb.spec.selector.matchLabels))).toBe(true);
	});

	it("points every Service at existing pods and ports", () => {
		for (const service of ofKind<ServiceObject>(objects, "Service")) {
			const pods = workloads(objects).filter((w) =>
				matchesLabels(w.spec.template.metadata?.labels, service.spec.selector ?? { none: "none" }),
			);
			expect([idOf(service), pods.length > 0]).toEqual([idOf(service), true]);
			for (const port of service.spec.ports) {
				const target = port.targetPort ?? port.port;
				const found = pods.some((pod) =>
					pod.spec.template.spec.containers.some((container) => containerPort(container, target) !== undefined),
				);
				expect([idOf(service), port.port, found]).toEqual([idOf(service), port.port, true]);
			}
		}
		expect(byName<Workload>(objects, "StatefulSet", "kafka").spec.serviceName).toBe("kafka-headless");
		expect(byName<ServiceObject>(objects, "Service", "kafka-headless").spec.clusterIP).toBe("None");
	});

	it("routes / and /socket.io to the gateway, with WebSocket-friendly timeouts on /socket.io", () => {
		const ingresses = ofKind<IngressObject>(objects, "Ingress");
		const routes = new Map<string, IngressObject>();
		for (const ingress of ingresses) {
			expect(ingress.spec.ingressClassName).toBeTruthy();
			for (const rule of ingress.spec.rules) {
				for (const route of rule.http.paths) {
					routes.set(`${rule.host}${route.path}`, ingress);
					const service = byName<ServiceObject>(objects, "Service", route.backend.service.name);
					expect(
						service.spec.ports.some((p) => p.name === route.backend.service.port.name || p.port === route.backend.service.port.number),
					).toBe(true);
					expect(service.spec.selector?.["app.kubernetes.io/component"]).toBe("gateway");
				}
			}
		}
		const hosts = new Set(ingresses.flatMap((ingress) => ingress.spec.rules.map((rule) => rule.host)));
		expect(hosts.size).toBe(1);
		const [host] = hosts;
		expect(routes.has(`${host}/`)).toBe(true);
		const socket = routes.get(`${host}/socket.io`);
		expect(socket).toBeDefined();
		const annotations = socket?.metadata.annotations ?? {};
		expect(Number(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"])).toBeGreaterThanOrEqual(3600);
		expect(Number(annotations["nginx.ingress.kubernetes.io/proxy-send-timeout"])).toBeGreaterThanOrEqual(3600);
		// Sticky sessions, for clients on the long-polling transport.
		expect(annotations["nginx.ingress.kubernetes.io/affinity"]).toBe("cookie");
	});

	it("references only ConfigMaps that exist and Secrets that the template documents", () => {
		const example = loadYamlObjects(path.join(K8S, "secret.example.yaml")) as (K8sObject & { stringData: Labels })[];
		const documented = new Map(example.map((secret) => [secret.metadata.name, Object.keys(secret.stringData)]));
		for (const workload of workloads(objects)) {
			const pod = workload.spec.template.spec;
			for (const container of pod.containers) {
				for (const source of container.envFrom ?? []) {
					if (source.configMapRef) byName(objects, "ConfigMap", source.configMapRef.name);
					expect(source.secretRef).toBeUndefined();
				}
				for (const variable of container.env ?? []) {
					const secret = variable.valueFrom?.secretKeyRef;
					if (secret)
						expect([idOf(workload), variable.name, documented.get(secret.name)?.includes(secret.key)]).toEqual([
							idOf(workload),
							variable.name,
							true,
						]);
					const config = variable.valueFrom?.configMapKeyRef;
					if (config) expect(byName<ConfigMapObject>(objects, "ConfigMap", config.name).data?.[config.key]).toBeDefined();
				}
			}
			for (const volume of pod.volumes ?? []) if (volume.configMap) byName(objects, "ConfigMap", volume.configMap.name);
		}
	});

	it("defines every variable before an env value refers to it as $(NAME)", () => {
		// The kubelet expands $(NAME) only with variables defined earlier in the list; kustomize's
		// strategic merge puts the env entries of a patch first, so a patched value can lose them.
		const problems: string[] = [];
		let references = 0;
		for (const workload of workloads(objects)) {
			for (const container of workload.spec.template.spec.containers) {
				const defined = new Set<string>();
				for (const source of container.envFrom ?? []) {
					if (source.configMapRef)
						for (const key of Object.keys(byName<ConfigMapObject>(objects, "ConfigMap", source.configMapRef.name).data ?? {}))
							defined.add(key);
				}
				for (const variable of container.env ?? []) {
					for (const [, name] of (variable.value ?? "").matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g)) {
						references++;
						if (!defined.has(name as string))
							problems.push(`${idOf(workload)}/${container.name}: ${variable.name} refers to $(${name}) before it is set`);
					}
					defined.add(variable.name);
				}
			}
		}
		expect(problems).toEqual([]);
		expect(references).toBeGreaterThan(0);
	});

	it("commits no secret: no Secret objects, no secret-looking plain values", () => {
		expect(ofKind(objects, "Secret")).toEqual([]);
		const secretName = /SECRET|PASSWORD|TOKEN|PRIVATE|CREDENTIAL|API_KEY|MONGO_URI/i;
		for (const configMap of ofKind<ConfigMapObject>(objects, "ConfigMap")) {
			for (const key of Object.keys(configMap.data ?? {}))
				expect([idOf(configMap), key, secretName.test(key)]).toEqual([idOf(configMap), key, false]);
		}
		for (const workload of workloads(objects)) {
			for (const container of workload.spec.template.spec.containers) {
				for (const variable of container.env ?? []) {
					if (secretName.test(variable.name))
						expect([idOf(workload), variable.name, variable.value]).toEqual([idOf(workload), variable.name, undefined]);
				}
			}
		}
	});

	it("runs Kafka in KRaft mode with a quorum that matches its replicas, and MongoDB, on persistent volumes", () => {
		const kafka = byName<Workload>(objects, "StatefulSet", "kafka");
		const container = mainContainer(kafka);
		const env = effectiveEnv(container, objects);
		const replicas = kafka.spec.replicas ?? 1;
		expect(container.image).toMatch(/^apache\/kafka:4\./);
		expect(env.KAFKA_PROCESS_ROLES).toBe("broker,controller");
		const voters = String(env.KAFKA_CONTROLLER_QUORUM_VOTERS).split(",");
		expect(voters).toEqual(Array.from({ length: replicas }, (_, i) => `${i}@kafka-${i}.${kafka.spec.serviceName}:9093`));
		expect(env.KAFKA_NODE_ID).toEqual({ fieldRef: { fieldPath: "metadata.labels['apps.kubernetes.io/pod-index']" } });
		for (const name of [
			"KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
			"KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
			"KAFKA_DEFAULT_REPLICATION_FACTOR",
		]) {
			expect([name, Number(env[name]) >= 1 && Number(env[name]) <= replicas]).toEqual([name, true]);
		}
		for (const name of ["kafka", "mongo"]) {
			const set = byName<Workload>(objects, "StatefulSet", name);
			const claims = set.spec.volumeClaimTemplates?.map((claim) => claim.metadata.name) ?? [];
			expect(claims.length).toBeGreaterThan(0);
			expect(mainContainer(set).volumeMounts?.some((mount) => claims.includes(mount.name))).toBe(true);
		}
		expect(mainContainer(byName<Workload>(objects, "StatefulSet", "mongo")).image).toMatch(/^mongo:8/);
	});

	it("creates every durable-event topic with replication the cluster can hold", () => {
		const settings = topicSettings(objects);
		const replicas = byName<Workload>(objects, "StatefulSet", "kafka").spec.replicas ?? 1;
		const rf = Number(settings.REPLICATION_FACTOR);
		const minIsr = Number(settings.MIN_INSYNC_REPLICAS);
		expect(rf >= 1 && rf <= replicas).toBe(true);
		// With replication > 1, writes must survive one broker down.
		expect(rf === 1 ? minIsr === 1 : minIsr >= 2 && minIsr <= rf - 1).toBe(true);
		expect(Number(settings.ORDER_PARTITIONS)).toBeGreaterThanOrEqual(6);

		const job = byName<Workload>(objects, "Job", "agora-kafka-topics");
		const container = mainContainer(job);
		expect(container.command).toEqual(["sh", "/scripts/create-topics.sh"]);
		const volume = job.spec.template.spec.volumes?.find((v) => v.configMap);
		const script = byName<ConfigMapObject>(objects, "ConfigMap", volume?.configMap?.name ?? "").data?.["create-topics.sh"] ?? "";
		for (const topic of TOPICS) expect([topic, script.includes(topic)]).toEqual([topic, true]);
		expect(effectiveEnv(container, objects).TOPIC_PREFIX).toEqual({ configMapKeyRef: { name: "agora-config", key: "TOPIC_PREFIX" } });
	});
});

describe("the two overlays", () => {
	const small = overlayObjects("small");
	const large = overlayObjects("large");
	const kafkaReplicas = (objects: K8sObject[]) => byName<Workload>(objects, "StatefulSet", "kafka").spec.replicas;
	const hpaMax = (objects: K8sObject[], role: string) => byName<Hpa>(objects, "HorizontalPodAutoscaler", `agora-${role}`).spec.maxReplicas;
	const fixedReplicas = (objects: K8sObject[]) =>
		appDeployments(objects).reduce((sum, deployment) => sum + (deployment.spec.replicas ?? 0), 0);

	it("size the system differently: Kafka nodes, replication, autoscaling bounds, replicas", () => {
		expect([kafkaReplicas(small), kafkaReplicas(large)]).toEqual([1, 3]);
		expect([topicSettings(small).REPLICATION_FACTOR, topicSettings(large).REPLICATION_FACTOR]).toEqual(["1", "3"]);
		expect(hpaMax(large, "gateway")).toBeGreaterThan(hpaMax(small, "gateway"));
		expect(hpaMax(large, LAYOUTS.large.checkout)).toBeGreaterThan(hpaMax(small, LAYOUTS.small.checkout));
		expect(fixedReplicas(large)).toBeGreaterThan(fixedReplicas(small));
		const memory = (objects: K8sObject[], role: string) =>
			quantity(mainContainer(byName<Workload>(objects, "Deployment", `agora-${role}`)).resources?.limits?.memory);
		expect(memory(large, LAYOUTS.large.checkout)).toBeGreaterThan(memory(small, LAYOUTS.small.checkout));
	});

	it("give no role of the saga more pods than the order topics have partitions", () => {
		// Each role that consumes the order topics does so in one consumer group: a pod beyond the
		// partition count gets no partition and sits idle.
		for (const overlay of OVERLAYS) {
			const objects = overlayObjects(overlay);
			const { autoscaled, orderConsumers } = LAYOUTS[overlay];
			const partitions = Number(topicSettings(objects).ORDER_PARTITIONS);
			const pods = (role: string) =>
				(autoscaled as readonly string[]).includes(role)
					? hpaMax(objects, role)
					: (byName<Workload>(objects, "Deployment", `agora-${role}`).spec.replicas ?? 1);
			for (const role of orderConsumers) expect([role, pods(role) <= partitions]).toEqual([role, true]);
		}
	});

	it("ship a Secret template with placeholders only", () => {
		const example = loadYamlObjects(path.join(K8S, "secret.example.yaml")) as (K8sObject & { stringData: Labels })[];
		expect(schemaErrors(example)).toEqual([]);
		for (const secret of example) {
			for (const [key, value] of Object.entries(secret.stringData)) expect([key, value.includes("CHANGE_ME")]).toEqual([key, true]);
		}
		expect(readText(path.join(K8S, ".gitignore"))).toMatch(/^secret\.yaml$/m);
	});
});
