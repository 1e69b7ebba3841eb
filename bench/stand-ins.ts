/**
 * The MongoDB-wire servers the distributed shop workloads run on, each in turn (`--stand-ins`):
 * mongo-java-server in memory, cheap in CPU so that the pods' own cost shows, and FerretDB on
 * PostgreSQL, the tests' stand-in, whose CPU per command (with PostgreSQL's) is taken from the
 * pods on the same cores.
 * Every row names the store it ran on (the `store` column).
 */
import { execFileSync } from "node:child_process";
import path from "node:path";
import mongoose from "mongoose";
import type { ServerRole } from "./costs";

/** Where a system under test keeps its data. */
export interface Store {
	/** What the rows call it. */
	name: string;
	/** The MongoDB-wire server's URI; none for the embedded mode's SQLite file. */
	mongoUri?: string;
	/** Its processes among scripts/infra's servers, whose CPU the cost table counts. */
	servers: ServerRole[];
}

export const EMBEDDED_STORE: Store = { name: "SQLite", servers: [] };

export type MongoStore = Store & { mongoUri: string };

export const STAND_IN_IDS = ["fast", "ferretdb"] as const;
export type StandInId = (typeof STAND_IN_IDS)[number];

interface StandIn extends MongoStore {
	/** What the server says it is (`kindOf`): another server at the URI is named by what it says. */
	kind: string;
	/**
	 * The scripts/infra script that starts it when it is not there, and the variable that gives it
	 * the port. FerretDB has none here: the bench's global setup brings it up with Kafka.
	 */
	start?: { script: string; portVariable: string };
}

const STAND_INS: Record<StandInId, StandIn> = {
	fast: {
		name: "mongo-java-server (memory)",
		kind: "mongo-java-server",
		mongoUri: process.env.MONGO_FAST_URI ?? "mongodb://127.0.0.1:27018/agora",
		servers: ["mongo-java"],
		start: { script: "mongo-java.sh", portVariable: "MONGO_FAST_PORT" },
	},
	ferretdb: {
		name: "FerretDB 1.24 on PostgreSQL",
		kind: "FerretDB",
		mongoUri: process.env.MONGO_URI ?? "mongodb://127.0.0.1:27017/agora",
		servers: ["ferretdb", "postgresql"],
	},
};

export function parseStandIns(list: string): StandInId[] {
	const ids = list.split(",").filter(Boolean);
	const unknown = ids.filter((id) => !(STAND_IN_IDS as readonly string[]).includes(id));
	if (unknown.length > 0) throw new Error(`--stand-ins: unknown ${unknown.join(", ")} (known: ${STAND_IN_IDS.join(", ")})`);
	return ids as StandInId[];
}

/**
 * What kind of server answers, from its `buildInfo`: FerretDB adds `ferretdbVersion`;
 * mongo-java-server answers only `version`, `versionArray` and `maxBsonObjectSize` (no
 * `gitVersion`, which MongoDB and FerretDB give). Not `hello`: mongo-java-server does not know it
 * and logs a stack trace for every ask.
 */
async function kindOf(uri: string): Promise<string> {
	const client = await mongoose.mongo.MongoClient.connect(uri, { serverSelectionTimeoutMS: 3_000 });
	try {
		const info = await client.db("admin").command({ buildInfo: 1 });
		if ("ferretdbVersion" in info) return "FerretDB";
		return "gitVersion" in info ? `MongoDB ${info.version}` : "mongo-java-server";
	} finally {
		await client.close();
	}
}

/** Drops the database a `mongodb://` URI names. */
export async function dropDatabase(uri: string): Promise<void> {
	const client = await mongoose.mongo.MongoClient.connect(uri, { serverSelectionTimeoutMS: 3_000 });
	try {
		await client.db().dropDatabase();
	} finally {
		await client.close();
	}
}

const isLocal = (uri: string) => ["127.0.0.1", "localhost"].includes(new URL(uri).hostname);

/** Runs a stand-in's scripts/infra script; the last line it printed when that failed. */
function start(uri: string, { script, portVariable }: { script: string; portVariable: string }): string | null {
	try {
		execFileSync("bash", [path.join(__dirname, "..", "scripts", "infra", script), "up"], {
			env: { ...process.env, [portVariable]: new URL(uri).port },
			stdio: ["ignore", "ignore", "pipe"],
		});
		return null;
	} catch (err) {
		const stderr = String((err as { stderr?: Buffer }).stderr ?? "").trim();
		return stderr.split("\n").at(-1) || (err as Error).message;
	}
}

/**
 * The stand-in, named by what answers at its URI, started first if it is local and not up; or why
 * it cannot be had, in one line.
 */
export async function standIn(id: StandInId): Promise<MongoStore | { unavailable: string }> {
	const wanted = STAND_INS[id];
	const attempt = () =>
		kindOf(wanted.mongoUri).then(
			(kind) => ({ kind }),
			(err: Error) => ({ failure: err.message }),
		);
	let answer = await attempt();
	if ("failure" in answer && wanted.start && isLocal(wanted.mongoUri)) {
		const failed = start(wanted.mongoUri, wanted.start);
		if (failed)
			return { unavailable: `${wanted.name} at ${wanted.mongoUri} is not reachable and ${wanted.start.script} up failed: ${failed}` };
		answer = await attempt();
	}
	if ("failure" in answer) return { unavailable: `${wanted.name} at ${wanted.mongoUri} is not reachable: ${answer.failure}` };
	return answer.kind === wanted.kind
		? { name: wanted.name, mongoUri: wanted.mongoUri, servers: wanted.servers }
		: { name: answer.kind, mongoUri: wanted.mongoUri, servers: [] };
}

/** The stand-in of the workloads that always run on FerretDB (7, 8): the one of the tests, at MONGO_URI. */
export const TESTS_STAND_IN: StandInId = "ferretdb";
