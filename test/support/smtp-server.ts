/**
 * Real SMTP servers for the notification tests, listening on 127.0.0.1 and writing each message
 * they accept as a file the test reads; each can be stopped and started again on the same port, as
 * a mail server that goes down for a while. Two implementations, so the shop's mail is read by more
 * than the library that writes it: nodemailer's `smtp-server` (npm) for the embedded tier, which
 * needs nothing but Node, and aiosmtpd (PyPI, installed on first use into a virtualenv under the
 * infrastructure folder) for the distributed tier.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { Socket } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { SMTPServer as NodeSmtp } from "smtp-server";
import { freePort } from "./agora";

const AIOSMTPD = "1.4.6";
const INFRA_DIR = process.env.INFRA_DIR ?? path.join(process.env.TMPDIR ?? tmpdir(), "agora-infra");
const VENV = path.join(INFRA_DIR, `aiosmtpd-${AIOSMTPD}`);
const BIN = path.join(VENV, "bin", "aiosmtpd");
const PYTHON = process.env.PYTHON ?? "python3.11";

function run(command: string, args: string[]): void {
	const result = spawnSync(command, args, { encoding: "utf8" });
	if (result.error)
		throw new Error(
			`The notification tests' SMTP server (aiosmtpd, PyPI) needs ${command}: ${result.error.message}. Set PYTHON to a Python 3.11.`,
		);
	if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed:\n${result.stdout}\n${result.stderr}`);
}

function install(): void {
	if (existsSync(BIN)) return;
	rmSync(VENV, { recursive: true, force: true });
	run(PYTHON, ["-m", "venv", VENV]);
	run(path.join(VENV, "bin", "pip"), ["install", "--quiet", `aiosmtpd==${AIOSMTPD}`]);
}

/** One received message, its parts decoded. */
export interface ReceivedMail {
	/** The envelope's recipients, as the server recorded them (`X-RcptTo`). */
	rcptTo: string;
	to: string;
	from: string;
	subject: string;
	messageId: string;
	text: string;
	html: string;
	file: string;
}

/** Header lines, unfolded, by lower-case name. */
function headers(block: string): Record<string, string> {
	const found: Record<string, string> = {};
	for (const line of block.replace(/\r?\n[ \t]+/g, " ").split(/\r?\n/)) {
		const colon = line.indexOf(":");
		if (colon > 0) found[line.slice(0, colon).toLowerCase()] ??= line.slice(colon + 1).trim();
	}
	return found;
}

function quotedPrintable(text: string): string {
	const bytes = text.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
	return Buffer.from(bytes, "latin1").toString("utf8");
}

/** The decoded body of the part of a multipart message with this content type. */
function part(raw: string, type: string): string {
	const section = raw.split(/\r?\n--/).find((chunk) => new RegExp(`^Content-Type: ${type}`, "im").test(chunk));
	if (!section) return "";
	const [head = "", ...body] = section.split(/\r?\n\r?\n/);
	const content = body.join("\n\n");
	return /quoted-printable/i.test(head) ? quotedPrintable(content) : content;
}

export function parseMail(file: string): ReceivedMail {
	const raw = readFileSync(file, "utf8");
	const head = headers(raw.split(/\r?\n\r?\n/)[0] ?? "");
	return {
		rcptTo: head["x-rcptto"] ?? "",
		to: head.to ?? "",
		from: head.from ?? "",
		subject: head.subject ?? "",
		messageId: head["message-id"] ?? "",
		text: part(raw, "text/plain"),
		html: part(raw, "text/html"),
		file,
	};
}

function listening(port: number): Promise<boolean> {
	return new Promise((resolve) => {
		const socket = new Socket();
		socket.once("connect", () => {
			socket.destroy();
			resolve(true);
		});
		socket.once("error", () => resolve(false));
		socket.connect(port, "127.0.0.1");
	});
}

export interface SmtpServer {
	port: number;
	/** `smtp://127.0.0.1:<port>`, for SMTP_URL. */
	url: string;
	/** Every message received so far. */
	messages(): ReceivedMail[];
	/** Stops the server (a mail server that is down), keeping what it received. */
	stop(): Promise<void>;
	/** Starts it again on the same port (if it is not running). */
	start(): Promise<void>;
	/** Stops it and removes its Maildir. */
	close(): Promise<void>;
}

/** nodemailer's SMTP server, in this process: every message as `<n>.eml` in its folder. */
export async function startNodeSmtpServer(): Promise<SmtpServer> {
	const port = await freePort();
	const folder = mkdtempSync(path.join(tmpdir(), "agora-mail-"));
	let received = 0;
	let server: NodeSmtp | null = null;
	const smtp: SmtpServer = {
		port,
		url: `smtp://127.0.0.1:${port}`,
		messages: () =>
			readdirSync(folder)
				.sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10))
				.map((name) => parseMail(path.join(folder, name))),
		async start() {
			if (server) return;
			const started = new NodeSmtp({
				authOptional: true,
				disabledCommands: ["STARTTLS"],
				logger: false,
				onData(stream, session, done) {
					const chunks: Buffer[] = [];
					stream.on("data", (chunk: Buffer) => chunks.push(chunk));
					stream.on("end", () => {
						const rcptTo = session.envelope.rcptTo.map((to) => to.address).join(", ");
						writeFileSync(path.join(folder, `${++received}.eml`), Buffer.concat([Buffer.from(`X-RcptTo: ${rcptTo}\r\n`), ...chunks]));
						done();
					});
				},
			});
			await new Promise<void>((resolve, reject) => {
				started.once("error", reject);
				started.listen(port, "127.0.0.1", () => resolve());
			});
			server = started;
		},
		async stop() {
			const running = server;
			server = null;
			if (running) await new Promise<void>((resolve) => running.close(() => resolve()));
		},
		async close() {
			await smtp.stop();
			rmSync(folder, { recursive: true, force: true });
		},
	};
	await smtp.start();
	return smtp;
}

/** aiosmtpd in a process of its own, writing a Maildir. */
export async function startSmtpServer(): Promise<SmtpServer> {
	install();
	const port = await freePort();
	const folder = mkdtempSync(path.join(tmpdir(), "agora-mail-"));
	// Python's Maildir makes its tmp/, new/ and cur/ only when it makes the folder itself.
	const maildir = path.join(folder, "Maildir");
	let child: ChildProcess | null = null;
	let output = "";

	const server: SmtpServer = {
		port,
		url: `smtp://127.0.0.1:${port}`,
		messages() {
			const received = path.join(maildir, "new");
			if (!existsSync(received)) return [];
			return readdirSync(received)
				.sort()
				.map((name) => parseMail(path.join(received, name)));
		},
		async start() {
			if (child && child.exitCode === null) return;
			child = spawn(BIN, ["-n", "-l", `127.0.0.1:${port}`, "-c", "aiosmtpd.handlers.Mailbox", maildir], {
				stdio: ["ignore", "pipe", "pipe"],
			});
			child.stdout?.on("data", (chunk: Buffer) => {
				output += chunk.toString();
			});
			child.stderr?.on("data", (chunk: Buffer) => {
				output += chunk.toString();
			});
			const deadline = Date.now() + 30_000;
			while (!(await listening(port))) {
				if (child.exitCode !== null || Date.now() > deadline) throw new Error(`aiosmtpd did not start on ${port}:\n${output}`);
				await sleep(100);
			}
		},
		async stop() {
			const running = child;
			child = null;
			if (!running || running.exitCode !== null) return;
			const exited = new Promise((resolve) => running.once("exit", resolve));
			running.kill("SIGTERM");
			await exited;
		},
		async close() {
			await server.stop();
			rmSync(folder, { recursive: true, force: true });
		},
	};
	await server.start();
	return server;
}
