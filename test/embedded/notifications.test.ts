import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { type Agora, freePort, startAgora } from "../support/agora";
import { client } from "../support/http";
import { type NotificationsHarness, notificationsEnv, notificationsSuite } from "../support/notifications.suite";
import { openRepl, type ReplSession } from "../support/repl";
import { type SmtpServer, startNodeSmtpServer } from "../support/smtp-server";
import { eventually } from "../support/wait";

let smtp: SmtpServer;
let repl: ReplSession;
let dataDir: string;
let url: string;
let strict: Promise<Agora> | undefined;

beforeAll(async () => {
	smtp = await startNodeSmtpServer();
	dataDir = mkdtempSync(path.join(tmpdir(), "agora-notifications-"));
	const port = await freePort();
	// `npm run repl` without TRANSPORTER is the whole embedded system: the operator's commands run in the shop itself.
	repl = await openRepl({ DATA_DIR: dataDir, PORT: String(port), SEED_DEMO: "0", ...notificationsEnv(smtp) });
	url = `http://127.0.0.1:${port}`;
	await eventually(async () => {
		const ready = await client(url).get("/ready");
		if (ready.status !== 200) throw new Error(`not ready: ${JSON.stringify(ready.body)}`);
	});
}, 180_000);

afterAll(async () => {
	await repl?.close();
	await (await strict)?.stop();
	await smtp?.close();
	rmSync(dataDir, { recursive: true, force: true });
});

describe("order emails and webhooks, embedded mode", () => {
	const harness: () => NotificationsHarness = () => ({
		url,
		repl,
		smtp,
		// The defaults: no SMTP_URL (emails become files) and no private webhook addresses.
		strict: () => {
			strict ??= startAgora();
			return strict;
		},
	});
	notificationsSuite(harness, { embedded: true });
});
