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

test("SIGTERM with sockets connected: they are told, and the process exits cleanly", async () => {
	const agora = await startAgora();
	try {
		const [node] = agora.nodes;
		if (!node) throw new Error("no node");
		const socket = await listen(agora.url, await adminToken(client(agora.url)));
		const reason = new Promise((resolve) => socket.socket.once("disconnect", resolve));
		await agora.kill(node, "SIGTERM");
		expect(await reason).toBe("io server disconnect");
		expect({ code: node.process.exitCode, signal: node.process.signalCode }).toEqual({ code: 0, signal: null });
		socket.close();
	} finally {
		await agora.stop();
	}
});
