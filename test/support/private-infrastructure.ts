/**
 * A Kafka broker and a FerretDB (with its PostgreSQL) of a test's own, on their own ports and folders, for tests that
 * stop and start them: the shared servers other test runs use stay up. Started and stopped with the
 * same scripts as the shared ones (scripts/infra), reusing their fetched jars and built binary.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { freePort, type Infrastructure } from "./agora";

const run = promisify(execFile);
const SCRIPTS = path.resolve(__dirname, "..", "..", "scripts", "infra");
/** Where scripts/infra/lib.sh keeps the shared servers' files by default. */
const SHARED_INFRA_DIR = process.env.INFRA_DIR ?? path.join(process.env.TMPDIR ?? "/tmp", "agora-infra");

export interface PrivateInfrastructure extends Infrastructure {
	stopKafka(): Promise<void>;
	startKafka(): Promise<void>;
	stopDatabase(): Promise<void>;
	startDatabase(): Promise<void>;
	/** Stops both servers and deletes their data. */
	remove(): Promise<void>;
}

/** Points our folder at the shared Kafka jars and FerretDB binary, if built: no Maven or Go run needed. */
function reuseSharedBuilds(dir: string): void {
	for (const artefact of ["bin", path.join("kafka", "libs")]) {
		const shared = path.join(SHARED_INFRA_DIR, artefact);
		if (!existsSync(shared)) continue;
		mkdirSync(path.dirname(path.join(dir, artefact)), { recursive: true });
		symlinkSync(shared, path.join(dir, artefact));
	}
}

export async function startPrivateInfrastructure(): Promise<PrivateInfrastructure> {
	const dir = mkdtempSync(path.join(tmpdir(), "agora-private-infra-"));
	reuseSharedBuilds(dir);
	const [kafkaPort, controllerPort, mongoPort, pgPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
	const env = {
		...process.env,
		INFRA_DIR: dir,
		KAFKA_PORT: String(kafkaPort),
		KAFKA_CONTROLLER_PORT: String(controllerPort),
		MONGO_PORT: String(mongoPort),
		// FerretDB's PostgreSQL cluster: stopped and started with the database.
		PG_PORT: String(pgPort),
	};
	const script = (name: string, command: string) => async () => {
		try {
			await run("bash", [path.join(SCRIPTS, name), command], { env, timeout: 600_000 });
		} catch (err) {
			throw new Error(`${name} ${command} failed: ${(err as { stderr?: string }).stderr ?? (err as Error).message}`);
		}
	};
	const infrastructure: PrivateInfrastructure = {
		kafkaBrokers: `127.0.0.1:${kafkaPort}`,
		mongoUri: `mongodb://127.0.0.1:${mongoPort}/agora`,
		startKafka: script("kafka.sh", "up"),
		stopKafka: script("kafka.sh", "down"),
		startDatabase: script("ferretdb.sh", "up"),
		stopDatabase: script("ferretdb.sh", "down"),
		async remove() {
			await Promise.allSettled([infrastructure.stopKafka(), infrastructure.stopDatabase()]);
			rmSync(dir, { recursive: true, force: true });
		},
	};
	try {
		await Promise.all([infrastructure.startKafka(), infrastructure.startDatabase()]);
	} catch (err) {
		await infrastructure.remove();
		throw err;
	}
	return infrastructure;
}
