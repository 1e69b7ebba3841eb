/** Where composed emails go: an SMTP server (`SMTP_URL`), or files in `DATA_DIR/mail` when the embedded mode has none. */
import { mkdir, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "moleculer";
import nodemailer from "nodemailer";
import type Mail from "nodemailer/lib/mailer";
import type { Outcome } from "../../lib/platform/delivery-queue";
import type { SmtpSettings } from "../../lib/platform/settings";

export interface MailOut {
	/** Where the mail goes, for the log. */
	readonly target: string;
	/** `name` names the message where a file is written (`<order id>-<kind>`). */
	send(message: Mail.Options, name: string): Promise<Outcome>;
}

/** What nodemailer's errors carry: the server's reply code, and its own code for what failed. */
interface SmtpError extends Error {
	responseCode?: number;
	code?: string;
}

export function smtpOut({ host, port, secure, auth }: SmtpSettings): MailOut {
	const transport = nodemailer.createTransport({
		host,
		port,
		secure,
		...(auth ? { auth } : {}),
		// Bounded, so that an attempt always ends well within its claim (lib/platform/delivery-queue.ts).
		connectionTimeout: 10_000,
		greetingTimeout: 10_000,
		socketTimeout: 30_000,
	});
	return {
		target: `${secure ? "smtps" : "smtp"}://${host}:${port}`,
		async send(message) {
			try {
				const info = await transport.sendMail(message);
				return { delivered: true, statusCode: Number.parseInt(String(info.response), 10) || 250 };
			} catch (err) {
				const { responseCode, code, message: error } = err as SmtpError;
				// No reply at all (refused, timed out) or refused credentials: the server, not this message, is the problem.
				if (responseCode === undefined || code === "EAUTH") return { delivered: false, error, wayOutDown: true };
				// A 5xx for the envelope is the recipient refused for good; a 4xx is "try later".
				return { delivered: false, error, statusCode: responseCode, final: responseCode >= 500 && code === "EENVELOPE" };
			}
		},
	};
}

export function fileOut(dataDir: string, logger: Logger): MailOut {
	const folder = path.join(dataDir, "mail");
	const composer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: "unix" });
	return {
		target: folder,
		async send(message, name) {
			const { message: raw } = await composer.sendMail(message);
			await mkdir(folder, { recursive: true });
			const file = path.join(folder, `${name}.eml`);
			// Written aside and renamed: whoever watches the folder sees a whole message or none.
			const partial = `${file}.partial`;
			await writeFile(partial, raw);
			await rename(partial, file);
			logger.info(`No SMTP_URL: wrote the email "${message.subject}" to ${file}`);
			return { delivered: true };
		},
	};
}
