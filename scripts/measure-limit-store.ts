/**
 * How the cluster-wide limits behave under concurrency on a MongoDB-wire server, against
 * rate-limiter-flexible's own MongoDB store, which relies on an atomic conditional upsert.
 * Each round fires many attempts at one key at once and counts how many got through.
 *
 *   npx tsx scripts/measure-limit-store.ts        # MONGO_URI, default mongodb://127.0.0.1:27017
 *
 * A fresh database per run, dropped at the end.
 */
import { ServiceBroker } from "moleculer";
import mongoose from "mongoose";
import { RateLimiterMongo } from "rate-limiter-flexible";
import { AuthLimiter } from "../services/api/auth-limits";
import { LimitStore } from "../services/api/limit-store";
import { SocketCap } from "../services/api/socket-limits";

const LIMIT = 10;
const CONCURRENT = 100;
const ROUNDS = 5;

const server = new URL(process.env.MONGO_URI ?? "mongodb://127.0.0.1:27017");
server.pathname = `/limit_measure_${Date.now()}`;
const uri = server.toString();
const logger = new ServiceBroker({ logger: false }).getLogger("measure");

async function rounds(name: string, limit: number, attempt: (round: number) => Promise<boolean>): Promise<void> {
	const passed: number[] = [];
	for (let round = 0; round < ROUNDS; round++) {
		const results = await Promise.all(Array.from({ length: CONCURRENT }, () => attempt(round).catch(() => false)));
		passed.push(results.filter(Boolean).length);
	}
	console.log(`${name}: ${CONCURRENT} at once, limit ${limit}, passed per round: ${passed.join(", ")}`);
}

async function main(): Promise<void> {
	const client = new mongoose.mongo.MongoClient(uri, { maxPoolSize: 50 });
	const store = new LimitStore(uri, logger);
	try {
		await store.start();
		// Its own index set includes a TTL index, which FerretDB refuses (and then skips the unique
		// one too): give it just the unique key it counts on.
		await client.db().collection("flexible").createIndex({ key: 1 }, { unique: true });
		const flexible = new RateLimiterMongo({
			storeClient: client,
			dbName: client.db().databaseName,
			keyPrefix: "flexible",
			points: LIMIT,
			duration: 60,
			disableIndexesCreation: true,
		});
		await rounds("rate-limiter-flexible RateLimiterMongo", LIMIT, (round) =>
			flexible.consume(`key-${round}`).then(
				() => true,
				() => false,
			),
		);

		const limiter = new AuthLimiter({ windowSeconds: 60, perIp: LIMIT, perAccount: 1_000 }, store);
		await rounds("Agora's attempt log (services/api/auth-limits.ts)", LIMIT, (round) =>
			limiter.attempt(`198.51.100.${round}`, null).then(
				() => true,
				() => false,
			),
		);

		const cap = 3;
		const gateways = [0, 1].map((n) => new SocketCap(cap, { store, gateway: `gateway-${n}`, leaseMs: 60_000 }));
		let socket = 0;
		await rounds("Agora's socket cap (services/api/socket-limits.ts), two gateways", cap, (round) => {
			const id = `socket-${socket++}`;
			return gateways[socket % 2]?.admit(id, `account-${round}`) ?? Promise.resolve(false);
		});
	} finally {
		await client.db().dropDatabase();
		await Promise.all([client.close(), store.stop()]);
	}
}

main().catch((err) => {
	console.error(err);
	process.exit(1);
});
