import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort } from "../support/agora";
import { type Client, client } from "../support/http";
import { openRepl, type ReplSession } from "../support/repl";
import { operatorSuite } from "../support/repl.suite";
import { eventually } from "../support/wait";

let repl: ReplSession;
let api: Client;
let dataDir: string;

beforeAll(async () => {
	dataDir = mkdtempSync(path.join(tmpdir(), "agora-repl-"));
	const port = await freePort();
	// No TRANSPORTER: `npm run repl` is the whole embedded system, gateway included.
	repl = await openRepl({ DATA_DIR: dataDir, PORT: String(port), SEED_DEMO: "0" });
	api = client(`http://127.0.0.1:${port}`);
	await eventually(async () => {
		const ready = await api.get("/ready");
		if (ready.status !== 200) throw new Error(`not ready: ${JSON.stringify(ready.body)}`);
	});
});

afterAll(async () => {
	await repl?.close();
	rmSync(dataDir, { recursive: true, force: true });
});

describe("REPL, embedded mode (npm run repl without TRANSPORTER)", () => {
	operatorSuite(() => ({ repl, api }));

	it("says plainly that there is no dead-letter topic to replay", async () => {
		expect(await repl.run("dead-letters --replay")).toContain(
			"Embedded mode: domain events are delivered in-process, so there is no dead-letter topic to list or replay.",
		);
	});
});
