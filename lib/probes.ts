import http from "node:http";
import type { ActionSchema, ServiceBroker } from "moleculer";
import type { ChannelBroker } from "../types/moleculer";

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

export interface ProbeAnswer {
	status: "live" | "ready" | "not live" | "not ready";
	nodeID: string;
	checks: ProbeChecks;
}

export interface Readiness {
	ready: boolean;
	checks: ProbeChecks;
}

/** How long one service's storage probe may take before the node counts as not ready. */
export const READY_CALL_TIMEOUT = 2_000;

/** What a node's services need: their own names, what they wait for at start, and what their actions call. */
function neededServices(broker: ServiceBroker): string[] {
	const names = broker.services.flatMap((service) => {
		const { dependencies = [], calls = [] } = service.schema;
		const waited = (Array.isArray(dependencies) ? dependencies : [dependencies]).map((dep) => (typeof dep === "string" ? dep : dep.name));
		return [service.name, ...waited, ...calls];
	});
	return [...new Set(names)].filter((name) => !name.startsWith("$")).sort();
}

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

/**
 * Whether this node can do its work now, for the gateway's `GET /api/ready` and the probe server's
 * `GET /ready` alike: its broker has started (and its channel adapter connected), its transporter
 * is connected, every service it hosts, depends on (`dependencies`) or calls (`calls`) has a live
 * node in the registry, and each of those that keeps storage answers its storage probe (the
 * `<service>.ready` action of mixins/db.mixin.ts; this node's own copy for a local service).
 * One entry per check: `ok`, or why not.
 */
export async function readiness(broker: ServiceBroker): Promise<Readiness> {
	const checks: ProbeChecks = { broker: brokerState(broker) };
	if (broker.transit) checks.transporter = broker.transit.connected ? "ok" : "disconnected";
	if (broker.started) {
		const live = new Set(broker.registry.getServiceList({ onlyAvailable: true }).map((service) => service.name));
		const actions = new Map(broker.registry.getActionList({ onlyAvailable: true }).map((entry) => [entry.name, entry.action]));
		const states = await Promise.all(
			neededServices(broker).map(async (service): Promise<[string, string]> => {
				if (!live.has(service)) return [service, "no live node"];
				const probe = `${service}.ready`;
				if (!(actions.get(probe) as ActionSchema | undefined)?.storageProbe) return [service, "ok"];
				const local = broker.getLocalService(service) ? { nodeID: broker.nodeID } : {};
				try {
					await broker.call(probe, {}, { ...local, timeout: READY_CALL_TIMEOUT });
					return [service, "ok"];
				} catch (err) {
					return [service, err instanceof Error ? err.message : String(err)];
				}
			}),
		);
		Object.assign(checks, Object.fromEntries(states));
	}
	return { ready: Object.values(checks).every((state) => state === "ok"), checks };
}

async function answer(broker: ServiceBroker, path: string): Promise<{ code: number; body: ProbeAnswer }> {
	const nodeID = broker.nodeID;
	if (path === PROBE_PATHS.live) {
		const live = isLive(broker);
		return { code: live ? 200 : 503, body: { status: live ? "live" : "not live", nodeID, checks: { broker: live ? "ok" : "stopped" } } };
	}
	const { ready, checks } = await readiness(broker);
	return { code: ready ? 200 : 503, body: { status: ready ? "ready" : "not ready", nodeID, checks } };
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

export function startProbeServer(broker: ServiceBroker, port: number, host = process.env.HOST || "127.0.0.1"): Promise<http.Server> {
	const server = http.createServer((req, res) => {
		const path = (req.url ?? "/").split("?")[0];
		if (path !== PROBE_PATHS.live && path !== PROBE_PATHS.ready)
			return send(res, 404, { error: "Not found: probes are GET /live and GET /ready" });
		if (req.method !== "GET" && req.method !== "HEAD") return send(res, 405, { error: "Method not allowed" });
		answer(broker, path).then(
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
