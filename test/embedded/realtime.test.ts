import { type Agora, startAgora } from "../support/agora";
import { adminToken, client } from "../support/http";
import { realtimeSuite, SOCKET_LIMITS } from "../support/realtime.suite";
import { listen } from "../support/sockets";

describe("realtime, embedded mode", () => {
	let agora: Agora;
	beforeAll(async () => {
		agora = await startAgora({ env: SOCKET_LIMITS });
	});
	afterAll(async () => {
		await agora?.stop();
	});
	realtimeSuite(() => agora);
});

test("SIGTERM with sockets connected: the process exits cleanly, and clients are free to reconnect", async () => {
	const agora = await startAgora();
	try {
		const [node] = agora.nodes;
		if (!node) throw new Error("no node");
		const socket = await listen(agora.url, await adminToken(client(agora.url)));
		const reason = new Promise((resolve) => socket.socket.once("disconnect", resolve));
		await agora.kill(node, "SIGTERM");
		// Not "io server disconnect", after which a Socket.IO client would never try again.
		expect(await reason).toBe("transport close");
		expect({ code: node.process.exitCode, signal: node.process.signalCode }).toEqual({ code: 0, signal: null });
		socket.close();
	} finally {
		await agora.stop();
	}
});
