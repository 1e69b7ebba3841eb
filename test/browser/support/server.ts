/** Stops and starts the gateway of a test's Agora on the same port and data, as an operator's restart would. */
import { io } from "socket.io-client";
import type { Agora, RunningNode } from "../../support/agora";
import { client } from "../../support/http";

// How long a graceful stop may take before the node is killed.
const GRACE_MS = 5_000;

function exited(node: RunningNode, ms: number): Promise<boolean> {
	if (node.process.exitCode !== null || node.process.signalCode !== null) return Promise.resolve(true);
	return new Promise((resolve) => {
		const timer = setTimeout(() => resolve(false), ms);
		node.process.once("exit", () => {
			clearTimeout(timer);
			resolve(true);
		});
	});
}

/** Stops the (single, embedded) node as an operator would, SIGTERM first; returns the port it served on. */
export async function stopServer(agora: Agora): Promise<number> {
	const node = agora.nodes.find((candidate) => candidate.process.exitCode === null && candidate.port !== null);
	if (!node?.port) throw new Error("no running gateway to stop");
	node.process.kill("SIGTERM");
	if (!(await exited(node, GRACE_MS))) await agora.kill(node, "SIGKILL");
	return node.port;
}

/** Starts the node again on `port` with the same environment and DATA_DIR; `agora.stop()` stops it too. */
export async function startServer(agora: Agora, port: number): Promise<void> {
	await agora.addNode({ port });
}

/**
 * Waits until domain events reach sockets again. /api/ready answers 200 a moment before the node
 * has finished starting (actions can still answer 503, the realtime service has not subscribed to
 * its channels yet, and a change made then is never pushed). So: nudge a stock level until its
 * push arrives, putting it back each time.
 */
export async function waitUntilPushing(url: string, adminToken: string, productId: string, ms = 30_000): Promise<void> {
	const api = client(url);
	const socket = io(url, { path: "/socket.io", transports: ["websocket"] });
	const adjust = (delta: number) => api.post(`/inventory/${productId}/adjust`, { delta, reason: "push probe" }, { token: adminToken });
	let pushes = 0;
	socket.on("inventory.updated", () => pushes++);
	const pause = (wait: number) => new Promise((resolve) => setTimeout(resolve, wait));
	const deadline = Date.now() + ms;
	try {
		while (Date.now() < deadline) {
			const before = pushes;
			if ((await adjust(1)).status !== 200) {
				await pause(200);
				continue;
			}
			for (let waited = 0; waited < 500 && pushes === before; waited += 50) await pause(50);
			await adjust(-1);
			if (pushes > before) return;
		}
		throw new Error(`no push arrived within ${ms} ms of the restart`);
	} finally {
		socket.close();
	}
}
