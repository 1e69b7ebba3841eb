import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { type Agora, startAgora } from "../support/agora";
import { orderBody } from "../support/commerce.suite";
import { adminToken, client, newCustomer } from "../support/http";

/**
 * Property-based fuzzing of every route of /api/openapi.json with Schemathesis (PyPI), against a
 * real embedded Agora, with every check it has: no 5xx, every answer as the document says
 * (status, content type, headers, body schema), schema-valid requests accepted and invalid ones
 * refused, 405 with `Allow` for undeclared methods, 401 without a token, and, in the stateful
 * phase, what one request created is there for the next and gone after a delete, and one
 * customer never reads another's order. The virtualenv is made on first use and kept in the
 * temp folder.
 */
const SCHEMATHESIS = "4.32.5";
const VENV = path.join(process.env.AGORA_CACHE_DIR ?? tmpdir(), `agora-schemathesis-${SCHEMATHESIS}`);
const BIN = path.join(VENV, "bin", "schemathesis");
const PYTHON = process.env.PYTHON ?? "python3.11";

function run(command: string, args: string[]): void {
	const result = spawnSync(command, args, { encoding: "utf8" });
	if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed:\n${result.stdout}\n${result.stderr}`);
}

function installSchemathesis(): void {
	if (existsSync(BIN)) return;
	rmSync(VENV, { recursive: true, force: true });
	run(PYTHON, ["-m", "venv", VENV]);
	run(path.join(VENV, "bin", "pip"), ["install", "--quiet", `schemathesis==${SCHEMATHESIS}`]);
}

function schemathesis(args: string[]): Promise<{ code: number | null; output: string }> {
	return new Promise((resolve, reject) => {
		// Run in the temp folder: Schemathesis keeps a cache folder where it runs.
		const child = spawn(BIN, args, { cwd: workDir, env: { ...process.env, NO_COLOR: "1" } });
		let output = "";
		child.stdout.on("data", (chunk: Buffer) => {
			output += chunk.toString();
		});
		child.stderr.on("data", (chunk: Buffer) => {
			output += chunk.toString();
		});
		child.on("error", reject);
		child.on("close", (code) => resolve({ code, output }));
	});
}

/** The part of Schemathesis' NDJSON report that says which links a scenario followed. */
interface ScenarioFinished {
	phase: string;
	recorder: { cases?: Record<string, { transition?: { id: string } | null }> };
}

/**
 * Every link the stateful phase followed, as `POST /orders -> [201] get -> GET /orders/{id}`: a
 * link is followed only from an answer with its status, so each proves the request before it
 * succeeded. (The report keeps one answer per request, which the ignored-auth check may overwrite
 * with its own 401, so the statuses themselves are not read.)
 */
function followedLinks(ndjson: string): string[] {
	return ndjson
		.split("\n")
		.filter(Boolean)
		.flatMap((line) => {
			const scenario = (JSON.parse(line) as { ScenarioFinished?: ScenarioFinished }).ScenarioFinished;
			if (scenario?.phase !== "stateful") return [];
			return Object.values(scenario.recorder.cases ?? {}).flatMap(({ transition }) => (transition ? [transition.id] : []));
		});
}

let agora: Agora;
let workDir: string;

beforeAll(async () => {
	installSchemathesis();
	workDir = mkdtempSync(path.join(tmpdir(), "agora-fuzz-"));
	// The brute-force limits would answer most login and register cases with 429 before their
	// bodies are validated; lifted here so the fuzzer reaches the validation behind them.
	agora = await startAgora({ env: { SEED_DEMO: "1", AUTH_RATE_PER_IP: "1000000", AUTH_RATE_PER_ACCOUNT: "1000000" } });
}, 600_000);

afterAll(async () => {
	await agora?.stop();
	if (workDir) rmSync(workDir, { recursive: true, force: true });
});

test("every route answers as /api/openapi.json says, and never with a 5xx", async () => {
	const api = client(agora.url);
	const alice = await newCustomer(api, "Fuzz Alice");
	const bob = await newCustomer(api, "Fuzz Bob");
	// A real product for the stock routes, so the fuzzing phases reach past "not found" into the
	// handlers. Product and order ids are left to the stateful phase, which follows the document's
	// links from what it created: a pinned id would stand in for those (and it deletes products).
	const product = (await api.get("/products")).body.rows[0];
	// One order of Alice's from the start: Bob must not read it (object-level authorization).
	const order = await api.post("/orders", orderBody([{ productId: product.id, quantity: 1 }]), { token: alice.token });
	expect(order.status).toBe(201);
	// Schemathesis tries the identities in this order per route and keeps the first one it lets
	// through: customers for the order routes (admins get 403 placing orders), the admin for the
	// admin routes. Alice and Bob are peers: neither may read what the other owns.
	const identity = (name: string, token: string) => ({ name, fixedHeaders: [{ name: "Authorization", value: `Bearer ${token}` }] });
	const auth = path.join(workDir, "auth.json");
	writeFileSync(
		auth,
		JSON.stringify({ auth: [identity("alice", alice.token), identity("bob", bob.token), identity("admin", await adminToken(api))] }),
	);
	const config = path.join(workDir, "schemathesis.toml");
	writeFileSync(
		config,
		[
			"[auth.wfc]",
			`path = "${auth}"`,
			'peers = ["alice", "bob"]',
			// The stateful phase walks the document's own links (a new product or stock change to an
			// order, an order to its cancel and payments); links Schemathesis would infer besides are a
			// hundred more, among which a seed may never draw the one that places an order. More
			// scenarios than the other phases' examples, so each of the order's own links is walked.
			"[phases.stateful.inference]",
			"algorithms = []",
			"[phases.stateful.generation]",
			"max-examples = 100",
			"[[operations]]",
			'include-path-regex = "^/inventory/[{]productId[}]"',
			`parameters = { productId = "${product.id}" }`,
			// A sales range must run forward and span at most 92 days: two fields together, which a
			// schema cannot say, so a schema-valid pair may rightly be refused with a 422.
			"[[operations]]",
			'include-path = "/stats/sales"',
			"checks.positive_data_acceptance.expected-statuses = [200, 401, 403, 422]",
			// A webhook URL must name a host that resolves, to a public address: a schema-valid URL
			// (most generated ones, with no DNS here) may rightly be refused with a 422.
			"[[operations]]",
			'include-name = "POST /webhooks"',
			"checks.positive_data_acceptance.expected-statuses = [201, 401, 403, 422]",
			// A shipping method ships to some countries only, and a guest's checkout needs an email:
			// two fields together, or a cart's state, which a schema cannot say (a 422 names the field).
			// An order's own address and method are checked by the document (countries the shop ships to).
			"[[operations]]",
			'include-name = "PUT /carts/{id}/shipping"',
			"checks.positive_data_acceptance.expected-statuses = [200, 401, 403, 404, 422]",
			"[[operations]]",
			'include-name = "POST /carts/{id}/checkout"',
			"checks.positive_data_acceptance.expected-statuses = [201, 401, 403, 404, 409, 422]",
			"",
		].join("\n"),
	);
	const { code, output } = await schemathesis([
		"--config-file",
		config,
		"run",
		`${agora.url}/api/openapi.json`,
		"--checks",
		"all",
		"--phases",
		"examples,coverage,fuzzing,stateful",
		"--max-examples",
		"25",
		"--seed",
		"20261207",
		"--workers",
		"1",
		"--no-shrink",
		"--report",
		"junit,ndjson",
		"--report-dir",
		workDir,
	]);
	// What Schemathesis found is in its output: show it with the failure.
	if (code !== 0) throw new Error(`Schemathesis exited ${code}:\n${output.split("\n").slice(-120).join("\n")}`);
	// The document lists every REST route, and Schemathesis fuzzed all it found but the document itself.
	const document = (await api.get("/openapi.json")).body;
	const operations = Object.values(document.paths as Record<string, object>).flatMap((methods) => Object.keys(methods));
	expect(operations).toHaveLength(34);
	const fuzzed = operations.length - 1;
	expect(output).toContain(`Operations:       ${fuzzed} selected / ${fuzzed} total`);
	expect(output).toMatch(new RegExp(`Coverage \\(in [\\d.]+s\\)\\s+✅ ${fuzzed} passed`));
	expect(output).toMatch(new RegExp(`Fuzzing \\(in [\\d.]+s\\)\\s+✅ ${fuzzed} passed`));
	expect(output).toMatch(/Stateful \(in [\d.]+s\)\s+Scenarios:\s+\d+\s+API Links:\s+[1-9]\d* covered/);
	// The stateful phase reached the order routes as a customer: it placed an order for a product it
	// had created, and followed a placed order's links (get, cancel, status, payments).
	const report = readdirSync(workDir).find((name) => name.endsWith(".ndjson")) ?? "no NDJSON report";
	const links = followedLinks(readFileSync(path.join(workDir, report), "utf8"));
	expect(links).toContainEqual(expect.stringMatching(/^POST \/products -> \[201\] order -> POST \/orders$/));
	expect(links).toContainEqual(expect.stringMatching(/^POST \/orders -> \[201\] /));
}, 600_000);
