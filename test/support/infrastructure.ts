import { execFileSync } from "node:child_process";
import { Socket } from "node:net";
import path from "node:path";

function reachable(hostPort: string): Promise<boolean> {
	const [host = "127.0.0.1", port = "0"] = hostPort.split(":");
	return new Promise((resolve) => {
		const socket = new Socket();
		socket.setTimeout(1_000);
		socket.once("connect", () => resolve(true));
		socket.once("timeout", () => resolve(false));
		socket.once("error", () => resolve(false));
		socket.connect(Number(port), host);
	});
}

/**
 * The distributed tier needs a Kafka broker and a MongoDB-wire server. Use the ones that
 * `KAFKA_BROKERS` / `MONGO_URI` point at (Docker users: `docker compose up -d kafka mongo`),
 * else bring up the local ones from scripts/infra (idempotent, quick when already up).
 */
export default async function globalSetup(): Promise<void> {
	// The cluster's processes run the compiled JavaScript, as pods do (incremental: quick when nothing changed).
	execFileSync("npm", ["run", "build", "--silent"], { cwd: path.join(__dirname, "..", ".."), stdio: "inherit" });
	process.env.KAFKA_BROKERS ??= "127.0.0.1:9092";
	process.env.MONGO_URI ??= "mongodb://127.0.0.1:27017/agora";
	const mongoHost = new URL(process.env.MONGO_URI).host;
	const kafkaHost = process.env.KAFKA_BROKERS.split(",")[0] ?? "";
	if ((await reachable(kafkaHost)) && (await reachable(mongoHost))) return;
	execFileSync("bash", [path.join(__dirname, "..", "..", "scripts", "infra", "up.sh")], { stdio: "inherit" });
}
