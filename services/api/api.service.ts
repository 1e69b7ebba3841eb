/**
 * The gateway: REST under /api, the web app's files and Socket.IO, as one Moleculer service. This
 * file is its schema (routes, settings and the hooks that wire them); what the hooks do lives in
 * the files beside it (routes.ts is the route table), so each concern can be read and tested on its own.
 */
import type { Server as HttpServer, IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";
import { type CallingOptions, type Context, Errors, type ServiceBroker, type ServiceSchema } from "moleculer";
import SocketIOService from "moleculer-io";
import ApiGateway, { type ApiSettingsSchema } from "moleculer-web";
import type { Server, Socket } from "socket.io";
import type { ErrorBody, SocketRefusal } from "../../lib/contracts/errors";
import { ADMINS_ROOM, orderRoom, PUSH_CHANNEL, PushThrottle, userRoom } from "../../lib/contracts/realtime";
import { readiness } from "../../lib/platform/probes";
import { pushChannel } from "../../lib/platform/pushes";
import { type GatewayMeta, requestIdFromHeader } from "../../lib/platform/request-context";
import { PROJECT_ROOT } from "../../lib/platform/service-files";
import { settings } from "../../lib/platform/settings";
import { type AuthUser, verifyOrderToken } from "../../lib/platform/tokens";
import type { ActionAccess } from "../../types/moleculer";
import { AuthLimiter, accountKey, TooManyAttemptsError } from "./auth-limits";
import { clientAddressResolver } from "./client-address";
import { actionAccess, authorizeAccess, requestUser, tokenUser } from "./gateway-auth";
import { clientFacing, errorBody, gatewayVerdict, MethodNotAllowedError, RETRY_AFTER_SECONDS } from "./http-errors";
import { LimitStore } from "./limit-store";
import { type ActionInfo, openApiDocument } from "./openapi";
import { checkBodyIsObject, checkIdempotencyKey, checkNesting } from "./request-checks";
import { AUTH_ACTIONS, REQUEST_HEADERS, ROUTER_ALIASES, ROUTES, SOCKET_ACTIONS } from "./routes";
import { securityHeaders } from "./security-headers";
import { limitMessages, SocketCap } from "./socket-limits";

const { NotFoundError } = ApiGateway.Errors;

/** moleculer-web puts the matched action's definition on the request; `auth` is ours. */
type GatewayRequest = IncomingMessage & {
	$action?: { name?: string; auth?: ActionAccess };
	/** The route matched (moleculer-web), even when no node hosts its action. */
	$alias?: { action?: string };
	$params?: unknown;
	$route?: { logging?: boolean };
	originalUrl?: string;
	/** The parsed JSON body, whatever JSON value it is. */
	body?: unknown;
	/** The path without query string and trailing slash, as the router matched it. */
	parsedUrl?: string;
};

interface GatewayVars {
	io: Server;
	/** moleculer-web's HTTP server */
	server: HttpServer;
	/** Holds back pushes that browsers get at most once a second (the sales figures). */
	pushes: PushThrottle;
	/** moleculer-web's static file handler for `assets` */
	serve?: (req: IncomingMessage, res: ServerResponse, next: () => void) => void;
	/** Where the limits count across gateways (the distributed mode's MongoDB); null: in this process. */
	limitStore: LimitStore | null;
	authLimiter: AuthLimiter;
	socketCap: SocketCap;
	/** moleculer-web's compiled ALIASES: the router matches requests against these. */
	aliases: { method: string; match(url: string): object | false }[];
	/** The client behind a request: the TCP peer, or what the proxies of TRUST_PROXY say. Limits and logs use it. */
	clientAddress: (req: IncomingMessage) => string;
	/** Messages one socket may send per 10 seconds (SOCKET_RATE_LIMIT). */
	socketMessagesPer10s: number;
}

interface GatewayMethods {
	socketAuthorize(socket: Socket): Promise<AuthUser | null>;
	/** moleculer-web's: answers with the error, through `reformatError` */
	sendError(req: GatewayRequest, res: ServerResponse, err: Error): void;
	allowedMethods(path: string): string[];
}

const ApiService: ServiceSchema<ApiSettingsSchema & { io: object }, GatewayMethods, GatewayVars> = {
	name: "api",
	mixins: [ApiGateway, SocketIOService],

	settings: {
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
								authorizeAccess(actionAccess(this.broker, action), opts.meta.user);
							},
						},
					},
				},
			},
		},
		// moleculer-web calls a function here for every request; its typings know only the object form.
		rootCallOptions: requestIdFromHeader as unknown as CallingOptions,
		routes: [
			{
				path: "/api",
				authentication: true,
				authorization: true,
				mappingPolicy: "restrict",
				// Not strict: a body of the wrong JSON type is a 422 naming it (checkBodyIsObject), not a parse error.
				bodyParsers: { json: { strict: false }, urlencoded: false },
				aliases: ROUTER_ALIASES,
				async onBeforeCall(
					this: GatewayVars,
					ctx: Context<unknown, GatewayMeta>,
					_route: unknown,
					req: GatewayRequest,
					res: ServerResponse,
				) {
					// `ctx` is the gateway's own request context; the action's params are on the request.
					checkBodyIsObject(req.body);
					checkNesting(req.$params);
					const key = req.headers["idempotency-key"];
					if (typeof key === "string") ctx.meta.idempotencyKey = checkIdempotencyKey(key);
					const orderToken = req.headers["order-token"];
					if (typeof orderToken === "string") ctx.meta.orderToken = orderToken;
					const cartSecret = req.headers["cart-secret"];
					if (typeof cartSecret === "string") ctx.meta.cartSecret = cartSecret;
					if (req.$action?.name && AUTH_ACTIONS.includes(req.$action.name)) {
						try {
							await this.authLimiter.attempt(this.clientAddress(req), accountKey(req.$params));
						} catch (err) {
							if (err instanceof TooManyAttemptsError) res.setHeader("Retry-After", String(err.retryAfterSeconds));
							throw err;
						}
					}
				},
				async onAfterCall(this: GatewayVars, _ctx: Context, _route: unknown, req: GatewayRequest, _res: unknown, data: unknown) {
					const account = accountKey(req.$params);
					if (req.$action?.name && AUTH_ACTIONS.includes(req.$action.name) && account) await this.authLimiter.succeeded(account);
					return data;
				},
			},
		],
		assets: { folder: path.join(PROJECT_ROOT, "public") },
		log4XXResponses: false,
		logRequest: "debug",
		logResponse: "debug",
	},

	channels: {
		/** A change for browsers: emit it to this gateway's sockets in the target rooms. */
		[PUSH_CHANNEL]: pushChannel(function emitToSockets(push) {
			this.pushes.push(push);
		}),
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
			async handler() {
				const { ready, checks, services } = await readiness(this.broker);
				if (!ready) throw gatewayVerdict("NOT_READY", "Not ready", { checks, services });
				return { status: "ready", checks, services };
			},
		},

		openapi: {
			auth: "public",
			handler() {
				// The registry holds every node's action definitions; Moleculer types their params loosely,
				// but they are the fastest-validator rules the actions validate with.
				const actions = new Map(this.broker.registry.getActionList({}).map((entry) => [entry.name, entry.action as ActionInfo]));
				return openApiDocument(ROUTES, (name) => actions.get(name), {
					headers: REQUEST_HEADERS,
					rateLimited: AUTH_ACTIONS,
				});
			},
		},
	},

	/**
	 * Runs before the mixins' own stop hooks: moleculer-web's `server.close()` waits for every open
	 * connection, and a WebSocket never ends by itself, so the connections are closed first. Closing
	 * the transport (not `disconnectSockets`, which tells clients to stay away) lets browsers
	 * reconnect by themselves, to another pod or to this one once it is back.
	 */
	async stopped() {
		this.pushes.stop();
		// The cap's books close first (synchronously), so the sockets closing next leave nothing to remove one by one.
		const booksClosed = this.socketCap.stop();
		this.io?.engine.close();
		await booksClosed;
		await this.limitStore?.stop();
	},

	methods: {
		authenticate(ctx: Context, _route: unknown, req: IncomingMessage): Promise<AuthUser | null> {
			return requestUser(this, ctx, req.headers.authorization);
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
			const orderToken: unknown = socket.handshake.auth?.orderToken;
			limitMessages(socket, this.socketMessagesPer10s);
			if (token === undefined || token === null || token === "") {
				// A guest follows their one order; a token for anything else is refused, not ignored.
				if (orderToken === undefined || orderToken === null || orderToken === "") return null;
				const orderId = typeof orderToken === "string" ? verifyOrderToken(orderToken) : null;
				if (!orderId) throw new Error("INVALID_TOKEN" satisfies SocketRefusal);
				await socket.join(orderRoom(orderId));
				return null;
			}
			const user = typeof token === "string" ? await tokenUser(this, null, token) : null;
			if (!user) throw new Error("INVALID_TOKEN" satisfies SocketRefusal);
			if (!(await this.socketCap.admit(socket.id, user.id))) {
				this.logger.info(
					`Refused a socket of account ${user.id} from ${this.clientAddress(socket.request)}: ${this.socketCap.perAccount} already open`,
				);
				throw new Error("TOO_MANY_CONNECTIONS" satisfies SocketRefusal);
			}
			// A socket that closes before its namespace connected emits no "disconnect"; its transport closes all the same.
			const leave = () => void this.socketCap.leave(socket.id, user.id);
			socket.once("disconnect", leave);
			socket.conn.once("close", leave);
			if (socket.conn.readyState !== "open") leave();
			const room = userRoom(user.id);
			await socket.join(user.role === "admin" ? [room, ADMINS_ROOM] : [room]);
			return user;
		},

		sendError(req: GatewayRequest, res: ServerResponse, err: Error) {
			if (!(err instanceof Errors.MoleculerError)) return ApiGateway.methods?.sendError?.call(this, req, res, err);
			const answer = clientFacing(err, req.$alias?.action);
			if (answer !== err) this.logger.warn(`${req.method} ${req.url}: ${err.message}`);
			if (answer.code === 503) res.setHeader("Retry-After", String(RETRY_AFTER_SECONDS));
			ApiGateway.methods?.sendError?.call(this, req, res, answer);
		},

		/** moleculer-web's request log line, with the client it is from. */
		logRequest(req: GatewayRequest): void {
			if (req.$route && !req.$route.logging) return;
			this.logger.debug(`=> ${req.method} ${req.originalUrl} from ${this.clientAddress(req)}`);
		},

		reformatError(err: Errors.MoleculerError): ErrorBody {
			return errorBody(err);
		},

		/**
		 * The methods the routes have at this path. Read from the router's own aliases (built from
		 * ALIASES, the table the OpenAPI document is made from), so `Allow` names exactly what routes.
		 */
		allowedMethods(path: string): string[] {
			return [...new Set(this.aliases.filter((alias) => alias.match(path)).map((alias) => alias.method))];
		},

		/**
		 * A path some route has, asked with a method it lacks, is 405 with the methods it has
		 * (OPTIONS asks for them: 204). The web app routes on the client, so a deep link such as
		 * /orders/42 gets the app's index.html; unknown API paths and non-page requests keep their JSON 404.
		 */
		send404(req: GatewayRequest, res: ServerResponse): void {
			const allowed = this.allowedMethods(req.parsedUrl ?? "");
			if (allowed.length > 0) {
				res.setHeader("Allow", allowed.join(", "));
				if (req.method === "OPTIONS") res.writeHead(204).end();
				else this.sendError(req, res, new MethodNotAllowedError(req.method, allowed));
				return;
			}
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

	/** Where and how the gateway listens, from the settings the process started with. */
	merged(schema) {
		const { port, host, corsOrigins, bodyLimit } = settings();
		Object.assign(schema.settings ?? {}, {
			port,
			ip: host,
			cors: corsOrigins.length > 0 ? { origin: corsOrigins, methods: ["GET", "POST", "PUT", "PATCH", "DELETE"], maxAge: 600 } : undefined,
		});
		for (const route of schema.settings?.routes ?? []) {
			const parsers = route.bodyParsers;
			if (typeof parsers === "object" && typeof parsers.json === "object") parsers.json.limit = bodyLimit;
		}
	},

	created() {
		const { socketsPerUser, socketMessagesPer10s, authRateLimit, trustProxy, mode, mongoUri, socketLeaseSeconds } = settings();
		this.clientAddress = clientAddressResolver(trustProxy);
		this.socketMessagesPer10s = socketMessagesPer10s;
		// One process counts in its memory; gateways of a cluster share their counts in its database.
		const store = mode === "distributed" && mongoUri ? new LimitStore(mongoUri, this.logger) : null;
		this.limitStore = store;
		this.authLimiter = new AuthLimiter(authRateLimit, store);
		const gateway = `${this.broker.nodeID}/${this.broker.instanceID}`;
		this.socketCap = new SocketCap(socketsPerUser, store && { store, gateway, leaseMs: socketLeaseSeconds * 1000 });
		this.pushes = new PushThrottle(({ event, rooms, payload }) => (rooms ? this.io.to(rooms) : this.io).emit(event, payload));
	},

	/** Runs after moleculer-web made the server and moleculer-io attached: our headers come first, for every request. */
	started() {
		this.server.prependListener("request", (req: IncomingMessage, res: ServerResponse) => securityHeaders(req, res, () => {}));
		void this.limitStore?.start();
		this.socketCap.start();
	},
};

export default ApiService;
