import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { inheritedEnv } from "./agora";

const ROOT = path.resolve(__dirname, "..", "..");
// tmux trims trailing blanks, so a waiting prompt reads "agora $" and a typed line "agora $ <line>".
const PROMPT = "agora $";
/** Printed by the pane's shell when the REPL process has ended; the pane stays open to be read. */
const EXITED = "[repl exited";

/**
 * `npm run repl` in a real pseudo-terminal (tmux), driven as an operator drives it: type a line,
 * read the screen. Each session has its own tmux server (socket), so closing it ends the REPL
 * and everything it started, whatever state a failed test left it in.
 */
export interface ReplSession {
	/** Types `line`, waits for the next prompt and returns what the command printed. */
	run(line: string, timeoutMs?: number): Promise<string>;
	/** Everything on the terminal so far, scrollback included. */
	screen(): string;
	close(): Promise<void>;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

const tmux = (socket: string, ...args: string[]) => execFileSync("tmux", ["-L", socket, ...args], { encoding: "utf8" });

async function until<T>(what: string, timeoutMs: number, read: () => T | undefined, screen: () => string): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = read();
		if (value !== undefined) return value;
		if (Date.now() > deadline) throw new Error(`REPL: ${what} not seen within ${timeoutMs} ms. Screen:\n${screen()}`);
		await sleep(200);
	}
}

export async function openRepl(env: Record<string, string>, startTimeoutMs = 90_000): Promise<ReplSession> {
	const socket = `agora-repl-test-${randomBytes(4).toString("hex")}`;
	// A fresh tmux server starts with this process's environment, which the REPL inherits.
	execFileSync(
		"tmux",
		["-L", socket, "new-session", "-d", "-s", "repl", "-x", "250", "-y", "50", `npm run repl; echo "${EXITED} $?]"; sleep 600`],
		{ cwd: ROOT, env: { ...inheritedEnv(), ...env } },
	);
	tmux(socket, "set-option", "-t", "repl", "history-limit", "50000");
	const socketPath = tmux(socket, "display-message", "-p", "#{socket_path}").trim();
	let closed = false;
	const screen = () => (closed ? "" : tmux(socket, "capture-pane", "-p", "-J", "-S", "-", "-t", "repl"));
	const session: ReplSession = {
		screen,
		async run(line, timeoutMs = 60_000) {
			const mark = Math.max(0, screen().lastIndexOf(PROMPT));
			tmux(socket, "send-keys", "-t", "repl", "-l", line);
			tmux(socket, "send-keys", "-t", "repl", "Enter");
			return until(
				`the prompt after "${line}"`,
				timeoutMs,
				() => {
					const text = screen().slice(mark);
					// The typed line follows the prompt, or starts a line of its own when a log line
					// was printed after the prompt.
					const echoed = new RegExp(`(?:\\n|${escapeRegExp(PROMPT)} )${escapeRegExp(line)}\\n`).exec(text);
					if (!echoed) return undefined;
					const start = echoed.index + echoed[0].length;
					const next = text.indexOf(`\n${PROMPT}`, start - 1);
					return next < 0 ? undefined : text.slice(start, next).trimEnd();
				},
				screen,
			);
		},
		async close() {
			if (closed) return;
			try {
				// `q` stops the broker cleanly (it leaves the cluster); the server is killed after it either way.
				if (!screen().includes(EXITED)) tmux(socket, "send-keys", "-t", "repl", "q", "Enter");
				await until("the REPL's exit", 20_000, () => (screen().includes(EXITED) ? true : undefined), screen);
			} finally {
				closed = true;
				try {
					tmux(socket, "kill-server");
				} catch {
					// already gone
				}
				rmSync(socketPath, { force: true });
			}
		},
	};
	try {
		await until(
			"the first prompt",
			startTimeoutMs,
			() => {
				const text = screen();
				if (text.includes(EXITED)) throw new Error(`REPL exited at start:\n${text}`);
				return text.includes(PROMPT) ? true : undefined;
			},
			screen,
		);
	} catch (err) {
		await session.close();
		throw err;
	}
	return session;
}
