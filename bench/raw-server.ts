/**
 * Baseline server: plain `node:http` answering canned responses (the exact bytes the gateway
 * gave for the same paths) and, for the push workload, plain Socket.IO on the same server where
 * `POST /push` emits its JSON body to every socket. Whatever Agora adds on top is its cost.
 *
 * `node --import tsx bench/raw-server.ts <responses.json>`; prints `{"port": n}` once listening.
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { Server } from "socket.io";

export interface CannedResponse {
	contentType: string;
	body: string;
}

export interface PushMessage {
	event: string;
	payload: unknown;
}

const canned = new Map(Object.entries(JSON.parse(readFileSync(process.argv[2] ?? "", "utf8")) as Record<string, CannedResponse>));

const server = createServer((req, res) => {
	if (req.method === "POST" && req.url === "/push") {
		let body = "";
		req.on("data", (chunk: Buffer) => {
			body += chunk.toString();
		});
		req.on("end", () => {
			const { event, payload } = JSON.parse(body) as PushMessage;
			io.emit(event, payload);
			res.writeHead(204).end();
		});
		return;
	}
	const answer = canned.get(req.url ?? "");
	if (!answer) {
		res.writeHead(404).end();
		return;
	}
	res.writeHead(200, { "content-type": answer.contentType, "content-length": Buffer.byteLength(answer.body) }).end(answer.body);
});

const io = new Server(server, { path: "/socket.io", serveClient: false });

server.listen(0, "127.0.0.1", () => {
	const address = server.address();
	process.stdout.write(`${JSON.stringify({ port: typeof address === "object" && address ? address.port : 0 })}\n`);
});

process.on("SIGTERM", () => {
	io.close();
	server.close(() => process.exit(0));
});
