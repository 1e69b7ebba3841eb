import http from "node:http";
import type { ServiceBroker } from "moleculer";

/**
 * Liveness and readiness over plain HTTP for pods that run no gateway (catalog, orders, ...),
 * so Kubernetes and Docker can probe them on real state instead of "the process exists".
 *
 *   GET /live   200 while the broker runs (and while it drains on SIGTERM), else 503.
 *   GET /ready  200 only when the broker is started, its transporter is connected and every local
 *               service with a `<name>.ready` action answers it; else 503 naming the failing check.
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

/** How long one service's `ready` action may take before the pod counts as not ready. */
const READY_CALL_TIMEOUT = 2_000;

function isLive(broker: ServiceBroker): boolean {
	// `started` turns false as soon as stop() begins; `stopping` covers the drain that follows.
	return broker.started || broker.stopping;
}

async function readinessChecks(broker: ServiceBroker): Promise<ProbeChecks> {
	const checks: ProbeChecks = { broker: broker.started ? "ok" : broker.stopping ? "stopping" : "not started" };
	if (broker.transit) checks.transporter = broker.transit.connected ? "ok" : "disconnected";
	if (!broker.started) return checks;

	const probes = broker.registry
		.getActionList({ onlyLocal: true, skipInternal: true })
		.map((action) => action.name)
		.filter((name) => name.endsWith(".ready"));
	await Promise.all(
		[...new Set(probes)].map(async (action) => {
			const service = action.slice(0, -".ready".length);
			try {
				await broker.call(action, {}, { nodeID: broker.nodeID, timeout: READY_CALL_TIMEOUT });
				checks[service] = "ok";
			} catch (err) {
				checks[service] = err instanceof Error ? err.message : String(err);
			}
		}),
	);
	return checks;
}

async function answer(broker: ServiceBroker, path: string): Promise<{ code: number; body: ProbeAnswer }> {
	const nodeID = broker.nodeID;
	if (path === PROBE_PATHS.live) {
		const live = isLive(broker);
		return { code: live ? 200 : 503, body: { status: live ? "live" : "not live", nodeID, checks: { broker: live ? "ok" : "stopped" } } };
	}
	const checks = await readinessChecks(broker);
	const ready = Object.values(checks).every((state) => state === "ok");
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
