import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { type Agora, startAgora } from "../support/agora";
import { orderBody } from "../support/commerce.suite";
import { adminToken, client, newCustomer } from "../support/http";

/**
 * Property-based fuzzing of every route of /api/openapi.json with Schemathesis (PyPI), against a
 * real embedded Agora: no answer may be a 5xx or differ from the document (status, content type,
 * headers, body schema). The virtualenv is made on first use and kept in the temp folder.
 */
const SCHEMATHESIS = "4.32.5";
const VENV = path.join(process.env.AGORA_CACHE_DIR ?? tmpdir(), `agora-schemathesis-${SCHEMATHESIS}`);
const BIN = path.join(VENV, "bin", "schemathesis");
const PYTHON = process.env.PYTHON ?? "python3.11";

const CHECKS = [
	"not_a_server_error",
	"status_code_conformance",
	"content_type_conformance",
	"response_headers_conformance",
	"response_schema_conformance",
];

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
	const customer = await newCustomer(api, "Fuzz Customer");
	// Real ids for the routes under an id, so cases reach past "not found" into the handlers.
	const product = (await api.get("/products")).body.rows[0];
	const order = await api.post("/orders", orderBody([{ productId: product.id, quantity: 1 }]), { token: customer.token });
	expect(order.status).toBe(201);
	// Admins may do everything but place orders, which only customers can.
	const config = path.join(workDir, "schemathesis.toml");
	writeFileSync(
		config,
		[
			`headers = { Authorization = "Bearer ${await adminToken(api)}" }`,
			"[[operations]]",
			'include-operation-id = "orders.place"',
			`headers = { Authorization = "Bearer ${customer.token}" }`,
			"[[operations]]",
			'include-path-regex = "^/orders/"',
			`parameters = { id = "${order.body.id}" }`,
			"[[operations]]",
			'include-path-regex = "^/inventory/[{]productId[}]"',
			`parameters = { productId = "${product.id}" }`,
			"[[operations]]",
			'include-path-regex = "^/products/"',
			`parameters = { id = "${product.id}" }`,
			"",
		].join("\n"),
	);
	const { code, output } = await schemathesis([
		"--config-file",
		config,
		"run",
		`${agora.url}/api/openapi.json`,
		"--checks",
		CHECKS.join(","),
		"--max-examples",
		"25",
		"--seed",
		"20261125",
		"--workers",
		"1",
		"--no-shrink",
		"--report",
		"junit",
		"--report-dir",
		workDir,
	]);
	expect({ code, output: output.split("\n").slice(-120).join("\n") }).toEqual({ code: 0, output: expect.any(String) });
	// The document lists every REST route, and Schemathesis fuzzed all it found but the document itself.
	const document = (await api.get("/openapi.json")).body;
	const operations = Object.values(document.paths as Record<string, object>).flatMap((methods) => Object.keys(methods));
	expect(operations).toHaveLength(21);
	expect(output).toContain(`Operations:       ${operations.length - 1} selected / ${operations.length - 1} total`);
	expect(output).toMatch(/Fuzzing \(in [\d.]+s\)\s+✅ 20 passed/);
}, 600_000);
