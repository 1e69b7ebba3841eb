import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort } from "../support/agora";
import { client } from "../support/http";
import { INSIGHTS_ENV, insightsSuite } from "../support/insights.suite";
import { openRepl, type ReplSession } from "../support/repl";
import { eventually } from "../support/wait";

let repl: ReplSession;
let dataDir: string;
let url: string;

beforeAll(async () => {
	dataDir = mkdtempSync(path.join(tmpdir(), "agora-insights-"));
	const port = await freePort();
	// `npm run repl` without TRANSPORTER is the whole embedded system, gateway included: the
	// operator's rebuild runs in the very process that serves the figures.
	repl = await openRepl({ DATA_DIR: dataDir, PORT: String(port), SEED_DEMO: "0", ...INSIGHTS_ENV });
	url = `http://127.0.0.1:${port}`;
	await eventually(async () => {
		const ready = await client(url).get("/ready");
		if (ready.status !== 200) throw new Error(`not ready: ${JSON.stringify(ready.body)}`);
	});
}, 120_000);

afterAll(async () => {
	await repl?.close();
	rmSync(dataDir, { recursive: true, force: true });
});

describe("sales insight, embedded mode: rebuilt from the orders and accounts stores", () => {
	insightsSuite(() => ({ url, rebuild: () => repl.run("insights-rebuild", 120_000) }), { replays: false });
});
