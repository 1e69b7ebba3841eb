import http from "node:http";
import type { ServiceBroker } from "moleculer";
import type { ChannelBroker } from "../../types/moleculer";

/**
 * Liveness and readiness over plain HTTP for pods that run no gateway (catalog, orders, ...),
 * so Kubernetes and Docker can probe them on real state instead of "the process exists".
 *
 *   GET /live   200 while the broker runs (and while it drains on SIGTERM), else 503.
 *   GET /ready  200 only when `readiness` says so (the gateway's GET /api/ready asks the same);
 *               else 503 naming the failing checks.
 *
 * The server binds to `HOST` (default 127.0.0.1, as the gateway does; containers set 0.0.0.0 so
 * the kubelet can reach it) and closes when the broker has stopped.
 */

/** The probe routes; the Kubernetes manifests and docker-compose.yml point at these. */
export const PROBE_PATHS = { live: "/live", ready: "/ready" } as const;

/** `ok`, or why the check failed. */
export type ProbeChecks = Record<string, string>;

/** The services this node sees live, each with the nodes that host it: what it can route to now. */
export type ServiceMap = Record<string, string[]>;

export interface ProbeAnswer {
	status: "live" | "ready" | "not live" | "not ready";
	nodeID: string;
	checks: ProbeChecks;
	/** `/ready` only. */
	services?: ServiceMap;
}

export interface Readiness {
	ready: boolean;
	checks: ProbeChecks;
	services: ServiceMap;
}

/** How long one service's storage probe may take before the node counts as not ready. */
export const READY_CALL_TIMEOUT = 2_000;

/**
 * The services an order needs. A node waits, once, until it has seen each of them live, so that the
 * first order a gateway takes after saying "ready" finds them; after that, a service with no live
 * node makes only its own routes answer 503 and leaves this node ready.
 */
export const CHECKOUT_PATH = ["products", "inventory", "orders", "payments", "users"] as const;

/** The brokers that have seen the whole checkout path since they started. */
const checkoutPathSeen = new WeakSet<ServiceBroker>();

function isLive(broker: ServiceBroker): boolean {
	// `started` turns false as soon as stop() begins; `stopping` covers the drain that follows.
	return broker.started || broker.stopping;
}

function brokerState(broker: ServiceBroker): string {
	if (!broker.started) return broker.stopping ? "stopping" : "not started";
	// The channel adapter connects only after every local service has started; until then this node
	// can neither publish nor consume domain events.
	const channels = (broker as Partial<ChannelBroker>).channelAdapter;
	return channels && !channels.connected ? "starting" : "ok";
}

/** What a transporter may tell beyond Transit's `connected` (ResilientKafkaTransporter, lib/platform/kafka-transporter.ts). */
interface BrokerWatch {
	/** It lost its broker and waits for it to come back; Transit still says connected meanwhile. */
	brokerAway: boolean;
}

function transporterState(transit: NonNullable<ServiceBroker["transit"]>): string {
	if (!transit.connected) return "disconnected";
	return (transit.tx as Partial<BrokerWatch> | undefined)?.brokerAway ? "broker lost" : "ok";
}

function liveServices(broker: ServiceBroker): ServiceMap {
	const services: ServiceMap = {};
	for (const { name, nodeID } of broker.registry.getServiceList({ onlyAvailable: true }))
		if (nodeID && !name.startsWith("$")) services[name] = [...(services[name] ?? []), nodeID].sort();
	return services;
}

/** Until the checkout path has been seen once: each of its services not seen live yet. */
function checkoutPathChecks(broker: ServiceBroker, path: readonly string[], services: ServiceMap): ProbeChecks {
	if (checkoutPathSeen.has(broker)) return {};
	const unseen = path.filter((service) => !services[service]);
	if (unseen.length === 0) {
		checkoutPathSeen.add(broker);
		return {};
	}
	return Object.fromEntries(unseen.map((service) => [service, "not seen yet"]));
}

/** Each local service that keeps storage: whether it answers (the `<service>.ready` action of mixins/db.mixin.ts). */
async function storageChecks(broker: ServiceBroker): Promise<ProbeChecks> {
	const states = await Promise.all(
		broker.services
			.filter((service) => !service.name.startsWith("$"))
			.map(async (service): Promise<[string, string]> => {
				const probe = service.schema.actions?.ready;
				if (!(typeof probe === "object" && probe.storageProbe)) return [service.name, "ok"];
				try {
					await broker.call(`${service.name}.ready`, {}, { nodeID: broker.nodeID, timeout: READY_CALL_TIMEOUT });
					return [service.name, "ok"];
				} catch (err) {
					return [service.name, err instanceof Error ? err.message : String(err)];
				}
			}),
	);
	return Object.fromEntries(states);
}

/**
 * Whether this node can do its own part now, for the gateway's `GET /api/ready` and the probe
 * server's `GET /ready` alike: its broker has started (and its channel adapter connected), its
 * transporter is connected, and the storage of each service it hosts answers. At start-up it also
 * waits, once, until every service of `checkoutPath` has been seen live. Another pod going away
 * later never makes this node unready: the routes of a missing service answer 503 on their own.
 * One entry per check: `ok`, or why not; and, for operators, the services this node sees live.
 */
export async function readiness(broker: ServiceBroker, checkoutPath: readonly string[] = CHECKOUT_PATH): Promise<Readiness> {
	const checks: ProbeChecks = { broker: brokerState(broker) };
	if (broker.transit) checks.transporter = transporterState(broker.transit);
	const services = liveServices(broker);
	if (broker.started) Object.assign(checks, await storageChecks(broker), checkoutPathChecks(broker, checkoutPath, services));
	return { ready: Object.values(checks).every((state) => state === "ok"), checks, services };
}

async function answer(broker: ServiceBroker, path: string, checkoutPath: readonly string[]): Promise<{ code: number; body: ProbeAnswer }> {
	const nodeID = broker.nodeID;
	if (path === PROBE_PATHS.live) {
		const live = isLive(broker);
		return { code: live ? 200 : 503, body: { status: live ? "live" : "not live", nodeID, checks: { broker: live ? "ok" : "stopped" } } };
	}
	const { ready, checks, services } = await readiness(broker, checkoutPath);
	return { code: ready ? 200 : 503, body: { status: ready ? "ready" : "not ready", nodeID, checks, services } };
}

function send(res: http.ServerResponse, code: number, body: unknown): void {
	const text = JSON.stringify(body);
	res.writeHead(code, {
		"content-type": "application/json; charset=utf-8",
		"content-length": Buffer.byteLength(text),
		"cache-control": "no-store",
	});
	res.end(text);
}

export interface ProbeServerOptions {
	host?: string;
	/** What the node waits for once at start-up (`readiness`); the shop's checkout path unless given. */
	checkoutPath?: readonly string[];
}

export function startProbeServer(
	broker: ServiceBroker,
	port: number,
	{ host = "127.0.0.1", checkoutPath = CHECKOUT_PATH }: ProbeServerOptions = {},
): Promise<http.Server> {
	const server = http.createServer((req, res) => {
		const path = (req.url ?? "/").split("?")[0];
		if (path !== PROBE_PATHS.live && path !== PROBE_PATHS.ready)
			return send(res, 404, { error: "Not found: probes are GET /live and GET /ready" });
		if (req.method !== "GET" && req.method !== "HEAD") return send(res, 405, { error: "Method not allowed" });
		answer(broker, path, checkoutPath).then(
			({ code, body }) => send(res, code, body),
			(err: unknown) => send(res, 500, { error: err instanceof Error ? err.message : String(err) }),
		);
	});
	// Probes are one-shot requests; do not keep idle sockets open through a shutdown.
	server.keepAliveTimeout = 1_000;

	const close = () => {
		server.close();
		server.closeAllConnections();
	};

	return new Promise((resolve, reject) => {
		server.once("error", reject);
		server.listen(port, host, () => {
			server.off("error", reject);
			// Keep answering (live 200, ready 503) while the broker drains; go away once it has stopped.
			broker.localBus.once("$broker.stopped", close);
			server.once("close", () => broker.localBus.off("$broker.stopped", close));
			const address = server.address();
			const bound = typeof address === "object" && address ? address.port : port;
			broker.logger.info(`Probes listening on http://${host}:${bound} (GET /live, GET /ready)`);
			resolve(server);
		});
	});
}
