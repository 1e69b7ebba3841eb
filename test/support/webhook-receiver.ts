/**
 * A webhook receiver in the test process, as an integrator would run one: a real HTTP server on
 * 127.0.0.1 that keeps every call, checks its signature against the endpoint's secret, and answers
 * what the test tells it to (a receiver that is down answers 500).
 */
import { createServer, type Server } from "node:http";
import { verifySignature } from "../../services/webhooks/signature";

export interface ReceivedCall {
	path: string;
	headers: Record<string, string>;
	body: string;
	event: { id: string; type: string; at: string; data: { id?: string; orderId?: string; status?: string } };
	/** What the receiver answered. */
	answered: number;
}

export interface WebhookReceiver {
	/** `http://127.0.0.1:<port>` */
	url: string;
	calls: ReceivedCall[];
	/** The calls to `path` that were answered 2xx. */
	accepted(path: string): ReceivedCall[];
	/** Answers the calls to `path` with this status from now on (500: down; 204, the default: up). */
	answer(path: string, status: number): void;
	/** The secret each path's endpoint signs with, so its calls can be verified. */
	secrets: Map<string, string>;
	/** Whether the call's signature verifies with its endpoint's secret. */
	verifies(call: ReceivedCall, body?: string): boolean;
	close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
	const statuses = new Map<string, number>();
	const calls: ReceivedCall[] = [];
	const secrets = new Map<string, string>();
	const server: Server = createServer((req, res) => {
		let body = "";
		req.setEncoding("utf8");
		req.on("data", (chunk: string) => {
			body += chunk;
		});
		req.on("end", () => {
			const headers = Object.fromEntries(Object.entries(req.headers).map(([name, value]) => [name, String(value)]));
			const path = req.url ?? "";
			const status = statuses.get(path) ?? 204;
			calls.push({ path, headers, body, event: JSON.parse(body), answered: status });
			res.writeHead(status).end();
		});
	});
	await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
	const address = server.address();
	if (typeof address !== "object" || !address) throw new Error("the receiver has no port");
	return {
		url: `http://127.0.0.1:${address.port}`,
		calls,
		accepted: (path) => calls.filter((call) => call.path === path && call.answered < 300),
		answer(path, status) {
			statuses.set(path, status);
		},
		secrets,
		verifies(call, body = call.body) {
			const secret = secrets.get(call.path);
			return secret !== undefined && verifySignature(secret, body, call.headers["agora-signature"] ?? "");
		},
		close: () =>
			new Promise<void>((resolve) => {
				server.closeAllConnections();
				server.close(() => resolve());
			}),
	};
}
