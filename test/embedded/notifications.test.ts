import { type Agora, startAgora } from "../support/agora";
import { type NotificationsHarness, notificationsEnv, notificationsSuite } from "../support/notifications.suite";
import { type SmtpServer, startSmtpServer } from "../support/smtp-server";

let smtp: SmtpServer;
let agora: Agora;
let strict: Promise<Agora> | undefined;

beforeAll(async () => {
	smtp = await startSmtpServer();
	agora = await startAgora({ env: notificationsEnv(smtp) });
}, 180_000);

afterAll(async () => {
	await agora?.stop();
	await (await strict)?.stop();
	await smtp?.close();
});

describe("order emails and webhooks, embedded mode", () => {
	const harness: () => NotificationsHarness = () => ({
		agora,
		smtp,
		// The defaults: no SMTP_URL (emails become files) and no private webhook addresses.
		strict: () => {
			strict ??= startAgora();
			return strict;
		},
	});
	notificationsSuite(harness, { embedded: true });
});
