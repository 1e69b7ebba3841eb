import type { IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";
import { type Context, Errors, type ServiceBroker, type ServiceSchema } from "moleculer";
import SocketIOService from "moleculer-io";
import ApiGateway, { type ApiSettingsSchema } from "moleculer-web";
import type { Server, Socket } from "socket.io";
import { ADMINS_ROOM, PUSH_EVENT, type Push, userRoom } from "../lib/realtime";
import { settings } from "../lib/settings";
import { type AuthUser, verifyToken } from "../lib/tokens";
import type { ActionAccess } from "../types/moleculer";

const { UnAuthorizedError, ForbiddenError, NotFoundError, ServiceUnavailableError, ERR_INVALID_TOKEN, ERR_NO_TOKEN } = ApiGateway.Errors;

/** moleculer-web puts the matched action's definition on the request; `auth` is ours. */
type GatewayRequest = IncomingMessage & { $action?: { auth?: ActionAccess } };

interface ErrorBody {
	name: string;
	message: string;
	code: number;
	type?: string;
	data?: unknown;
}

/** Errors raised before any action ran (body parsing) come from body-parser, not Moleculer. */
const BODY_PARSER_ERRORS: Record<string, Omit<ErrorBody, "code">> = {
	"entity.parse.failed": { name: "BadRequestError", message: "The request body is not valid JSON", type: "INVALID_JSON" },
	"entity.too.large": { name: "PayloadTooLargeError", message: "The request body is too large", type: "PAYLOAD_TOO_LARGE" },
	"encoding.unsupported": { name: "UnsupportedMediaTypeError", message: "Unsupported body encoding", type: "UNSUPPORTED_ENCODING" },
};

/**
 * A service with no live node, met directly or by a service this request went on to: a temporary
 * outage (a pod restarting), not a missing resource, though Moleculer says 404.
 */
function isServiceDown(err: Error): boolean {
	const { type } = err as Errors.MoleculerError;
	return type === "SERVICE_NOT_FOUND" || type === "SERVICE_NOT_AVAILABLE";
}

const SERVICE_DOWN_BODY: ErrorBody = {
	name: "ServiceUnavailableError",
	message: "Part of the shop is unavailable right now; try again shortly",
	code: 503,
	type: "SERVICE_UNAVAILABLE",
};

function errorBody(err: Errors.MoleculerError & { type?: string }): ErrorBody {
	const parser = err.type ? BODY_PARSER_ERRORS[err.type] : undefined;
	if (parser) return { ...parser, code: err.code };
	if (err.code === 503 && (err.type === "SERVICE_UNAVAILABLE" || err instanceof ServiceUnavailableError)) return SERVICE_DOWN_BODY;
	if (!Number.isInteger(err.code) || err.code < 400 || err.code === 500 || err.code > 599) {
		// Internals stay in the log; the client learns only that it was not its fault.
		return { name: "InternalServerError", message: "Something went wrong on our side", code: 500 };
	}
	const data = Array.isArray(err.data)
		? // Validation errors would echo the rejected value back, passwords included.
			err.data.map(({ actual: _actual, ...field }: Record<string, unknown>) => field)
		: err.data;
	return { name: err.name, message: err.message, code: err.code, type: err.type, data };
}

/** Checks the bearer against the action's declared access; no `auth` means signed-in users only. */
function authorizeAccess(access: ActionAccess, user: AuthUser | undefined): void {
	if (access === "public") return;
	if (!user) throw new UnAuthorizedError(ERR_NO_TOKEN, null);
	if (access === "admin" && user.role !== "admin") throw new ForbiddenError("ADMIN_ONLY", { message: "Admins only" });
	if (access === "customer" && user.role !== "customer")
		throw new ForbiddenError("CUSTOMERS_ONLY", { message: "Only customer accounts can do this" });
}

/** Clients pick their keys; bound them so one cannot bloat the index or smuggle operators. */
function checkIdempotencyKey(key: string): string {
	if (!/^[\w.:-]{1,200}$/.test(key))
		throw new Errors.ValidationError("Bad Idempotency-Key header", "VALIDATION_ERROR", [
			{ field: "Idempotency-Key", message: "Use 1 to 200 letters, digits, '-', '_', '.' or ':'", type: "header" },
		]);
	return key;
}

/** The actions a browser may call over its socket; everything else goes through REST. */
const SOCKET_ACTIONS = ["orders.changedSince"];

const RATE_WINDOW_MS = 10_000;

const { port, bodyLimit, corsOrigins, socketsPerUser, socketMessagesPer10s } = settings();

interface GatewayVars {
	io: Server;
	/** moleculer-web's static file handler for `assets` */
	serve?: (req: IncomingMessage, res: ServerResponse, next: () => void) => void;
}

interface GatewayMethods {
	socketAuthorize(socket: Socket): Promise<AuthUser | null>;
	/** moleculer-web's: answers with the error, through `reformatError` */
	sendError(req: IncomingMessage, res: ServerResponse, err: Error): void;
}

/**
 * Gives each socket a budget of messages per window; beyond it a message is dropped and, if it
 * expects an answer, told why. A noisy client slows only itself.
 */
function limitMessages(socket: Socket): void {
	let windowStart = Date.now();
	let count = 0;
	socket.use((packet, next) => {
		const now = Date.now();
		if (now - windowStart >= RATE_WINDOW_MS) {
			windowStart = now;
			count = 0;
		}
		if (++count <= socketMessagesPer10s) return next();
		const reply = packet[packet.length - 1];
		if (typeof reply === "function")
			reply({ name: "RateLimitError", message: "Too many messages: slow down", code: 429, type: "RATE_LIMITED" } satisfies ErrorBody);
	});
}

const ApiService: ServiceSchema<ApiSettingsSchema & { io: object }, GatewayMethods, GatewayVars> = {
	name: "api",
	mixins: [ApiGateway, SocketIOService],

	settings: {
		port,
		io: {
			// Same origin as the app; CORS for sockets follows the REST setting.
			options: { path: "/socket.io", serveClient: false, maxHttpBufferSize: 64 * 1024 },
			namespaces: {
				"/": {
					authorization: true,
					events: {
						call: {
							mappingPolicy: "restrict",
							aliases: Object.fromEntries(SOCKET_ACTIONS.map((action) => [action, action])),
							onBeforeCall(
								this: { broker: ServiceBroker },
								_ctx: Context,
								_socket: Socket,
								action: string,
								_params: unknown,
								opts: { meta: { user?: AuthUser } },
							) {
								const endpoint = this.broker.findNextActionEndpoint(action);
								const access = endpoint instanceof Error ? "user" : ((endpoint.action as { auth?: ActionAccess }).auth ?? "user");
								authorizeAccess(access, opts.meta.user);
							},
						},
					},
				},
			},
		},
		ip: process.env.HOST || "127.0.0.1",
		cors: corsOrigins.length > 0 ? { origin: corsOrigins, methods: ["GET", "POST", "PATCH", "DELETE"], maxAge: 600 } : undefined,
		routes: [
			{
				path: "/api",
				authentication: true,
				authorization: true,
				mappingPolicy: "restrict",
				bodyParsers: { json: { limit: bodyLimit, strict: true }, urlencoded: false },
				aliases: {
					"GET /health": "api.health",
					"GET /ready": "api.ready",
					"POST /auth/register": "users.register",
					"POST /auth/login": "users.login",
					"GET /auth/me": "users.me",
					"GET /products": "products.list",
					"GET /products/:id": "products.get",
					"POST /products": "products.create",
					"PATCH /products/:id": "products.update",
					"DELETE /products/:id": "products.remove",
					"GET /inventory/low-stock": "inventory.lowStock",
					"GET /inventory/:productId": "inventory.get",
					"GET /inventory/:productId/movements": "inventory.movements",
					"POST /inventory/:productId/adjust": "inventory.adjust",
					"POST /orders": "orders.place",
					"GET /orders": "orders.list",
					"GET /orders/:id": "orders.get",
					"PATCH /orders/:id/status": "orders.setStatus",
					"POST /orders/:id/cancel": "orders.cancel",
					"GET /payments": "payments.list",
				},
				onBeforeCall(ctx: Context<unknown, { idempotencyKey?: string }>, _route: unknown, req: IncomingMessage) {
					const key = req.headers["idempotency-key"];
					if (typeof key === "string") ctx.meta.idempotencyKey = checkIdempotencyKey(key);
				},
			},
		],
		assets: { folder: path.join(__dirname, "..", "public") },
		log4XXResponses: false,
		logRequest: "debug",
		logResponse: "debug",
	},

	events: {
		/** A change for browsers: emit it to this gateway's sockets in the target rooms. */
		[PUSH_EVENT](ctx: Context<Push>) {
			const { event, rooms, payload } = ctx.params;
			(rooms ? this.io.to(rooms) : this.io).emit(event, payload);
		},
	},

	actions: {
		health: {
			auth: "public",
			handler() {
				return { status: "ok", nodeID: this.broker.nodeID, uptime: Math.round(process.uptime()) };
			},
		},

		ready: {
			auth: "public",
			async handler(ctx: Context) {
				// Every service that owns a database answers `<service>.ready`.
				const probes = this.broker.registry
					.getActionList({ onlyAvailable: true })
					.map((action: { name: string }) => action.name)
					.filter((name: string) => name.endsWith(".ready") && name !== "api.ready");
				const checks: Record<string, string> = {};
				await Promise.all(
					[...new Set(probes)].map(async (probe) => {
						const service = probe.slice(0, -".ready".length);
						try {
							await ctx.call(probe, {}, { timeout: 2_000 });
							checks[service] = "ok";
						} catch (err) {
							checks[service] = (err as Error).message;
						}
					}),
				);
				const transporterUp = !this.broker.transit || this.broker.transit.connected;
				// Until every local service has started, channel subscriptions may be missing.
				checks.broker = !this.broker.started ? "starting" : transporterUp ? "ok" : "disconnected";
				if (Object.values(checks).some((state) => state !== "ok"))
					throw new Errors.MoleculerError("Not ready", 503, "NOT_READY", { checks });
				return { status: "ready", checks };
			},
		},
	},

	methods: {
		authenticate(_ctx: Context, _route: unknown, req: IncomingMessage): AuthUser | null {
			const header = req.headers.authorization;
			if (!header) return null;
			const [scheme, token] = header.split(" ");
			const user = scheme === "Bearer" && token ? verifyToken(token) : null;
			if (!user) throw new UnAuthorizedError(ERR_INVALID_TOKEN, null);
			return user;
		},

		authorize(ctx: Context<unknown, { user?: AuthUser }>, _route: unknown, req: GatewayRequest): void {
			authorizeAccess(req.$action?.auth ?? "user", ctx.meta.user);
		},

		/**
		 * Runs once per connecting socket (moleculer-io's authorization hook): a valid token joins
		 * the owner's room (and admins' room), no token stays public, a bad token is refused.
		 */
		async socketAuthorize(socket: Socket) {
			const token: unknown = socket.handshake.auth?.token;
			limitMessages(socket);
			if (token === undefined || token === null || token === "") return null;
			const user = typeof token === "string" ? verifyToken(token) : null;
			if (!user) throw new Error("INVALID_TOKEN");
			const room = userRoom(user.id);
			if ((this.io.of("/").adapter.rooms.get(room)?.size ?? 0) >= socketsPerUser) throw new Error("TOO_MANY_CONNECTIONS");
			await socket.join(user.role === "admin" ? [room, ADMINS_ROOM] : [room]);
			return user;
		},

		/** moleculer-web's, with the status of a service that is down made 503 (it is written before `reformatError`). */
		sendError(req: IncomingMessage, res: ServerResponse, err: Error): void {
			const answer = isServiceDown(err) ? new ServiceUnavailableError("SERVICE_UNAVAILABLE", undefined) : err;
			(ApiGateway.methods as unknown as GatewayMethods).sendError.call(this, req, res, answer);
		},

		reformatError(err: Errors.MoleculerError): ErrorBody {
			return errorBody(err);
		},

		/**
		 * The web app routes on the client, so a deep link such as /orders/42 gets the app's
		 * index.html; unknown API paths and non-page requests keep their JSON 404.
		 */
		send404(req: IncomingMessage, res: ServerResponse): void {
			const notFound = () => this.sendError(req, res, new NotFoundError("NOT_FOUND", { path: req.url }));
			const wantsPage = req.method === "GET" && !req.url?.startsWith("/api/") && req.headers.accept?.includes("text/html");
			if (wantsPage && this.serve) {
				req.url = "/index.html";
				this.serve(req, res, notFound);
				return;
			}
			notFound();
		},
	},
};

export default ApiService;
