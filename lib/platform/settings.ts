import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import proxyaddr from "proxy-addr";
import { DEMO_SHIPPING_METHODS, DEMO_TAX_RATES, type ShippingMethod, type TaxRates } from "../contracts/checkout";

/** A setting that is missing or malformed: start-up stops with this one line. */
export class ConfigError extends Error {}

export type RunMode = "embedded" | "distributed";

/**
 * Which proxies may tell the gateway a client's address (`TRUST_PROXY`): a number of hops in
 * front of it, or the addresses and CIDR ranges of the proxies (proxy-addr also knows the names
 * `loopback`, `linklocal` and `uniquelocal`). 0 or no entries: nobody, the TCP peer is the client.
 */
export type TrustProxy = number | string[];

export interface Settings {
	mode: RunMode;
	production: boolean;
	port: number;
	/** Port of the /live and /ready probe server of a pod without the gateway; 0 = none. */
	probePort: number;
	/** Port of the Prometheus `/metrics` endpoint; 0 = metrics off. */
	metricsPort: number;
	/** Where finished tracing spans go; `off` = no tracing. */
	tracing: (typeof TRACING_EXPORTERS)[number];
	dataDir: string;
	namespace: string;
	logLevel: (typeof LOG_LEVELS)[number];
	/** Where the gateway, the probe server and the metrics endpoint listen (`HOST`). */
	host: string;
	/** The Moleculer node id (`NODE_ID`, the pod's name); Moleculer makes one up when null. */
	nodeId: string | null;
	/** The Kafka brokers (`host:port`) that carry calls between nodes (`TRANSPORTER`), if any. */
	transporterBrokers: string[] | null;
	mongoUri: string | null;
	/** The Kafka brokers of the durable domain events (`CHANNELS_URL`, else the transporter's). */
	channelsBrokers: string[] | null;
	topicPrefix: string;
	/** Partitions of each durable-event topic a node creates when it is missing. */
	topicPartitions: number;
	jwtSecret: string;
	jwtExpiresIn: string;
	admin: { email: string; password: string } | null;
	seedDemo: boolean;
	/** An order still unpaid after this long is failed by the reaper, and its stock released. */
	orderPendingTtlSeconds: number;
	/** How long the simulated payment provider takes to answer a charge. */
	paymentProviderDelayMs: number;
	/** How long a checkout holds a cart's units (`HOLD_TTL_SECONDS`); asking again extends it. */
	holdTtlSeconds: number;
	/** The ways to ship and their prices per country (`SHIPPING_METHODS`, JSON), or the demo shop's. */
	shippingMethods: readonly ShippingMethod[];
	/** Tax rates in basis points per destination country (`TAX_RATES`, `DE:1900,FR:2000`), or the demo shop's. */
	taxRates: TaxRates;
	bodyLimit: string;
	corsOrigins: string[];
	/** Proxies whose `X-Forwarded-For` entries name the client; 0 = none, the TCP peer is the client. */
	trustProxy: TrustProxy;
	/** Open Socket.IO connections one account may hold, across all gateways. */
	socketsPerUser: number;
	/** How long a gateway's record of a live socket counts without being renewed (its gateway died). */
	socketLeaseSeconds: number;
	/** Messages one socket may send per 10 seconds. */
	socketMessagesPer10s: number;
	/** Brute-force limits of login and register, across all gateways. */
	authRateLimit: AuthRateLimit;
	/** Where `npm run bench` asks each process to write its cost counters (`COST_COUNTERS_DIR`); null: counting is off. */
	costCountersDir: string | null;
	/**
	 * Whether services run their background loops (the outbox relay, the reaper, placement
	 * recovery). Always on in a running shop; tests that drive a race by hand switch them off.
	 */
	backgroundLoops: boolean;
	/** Where order emails go out (`SMTP_URL`); null: the embedded mode writes them to `DATA_DIR/mail`, the distributed one sends none. */
	smtp: SmtpSettings | null;
	/** The sender of order emails (`MAIL_FROM`). */
	mailFrom: string;
	/** The shop's address as shoppers reach it (`PUBLIC_URL`, no trailing slash): emails link back to it. */
	publicUrl: string;
	/** Webhooks may point at private, loopback and link-local addresses (`WEBHOOK_ALLOW_PRIVATE`): for a shop's own network, and tests. */
	webhookAllowPrivate: boolean;
	/** Tries of one webhook delivery before it is `failed` (`WEBHOOK_MAX_ATTEMPTS`). */
	webhookMaxAttempts: number;
	/** The wait before a webhook delivery's first retry, doubling with each one after (`WEBHOOK_RETRY_SECONDS`). */
	webhookRetrySeconds: number;
}

/** An SMTP server, as `SMTP_URL` names it. */
export interface SmtpSettings {
	host: string;
	port: number;
	/** `smtps://`: TLS from the first byte; `smtp://` upgrades with STARTTLS when the server offers it. */
	secure: boolean;
	auth: { user: string; pass: string } | null;
}

export interface AuthRateLimit {
	windowSeconds: number;
	/** Login and register attempts one client IP may make per window. */
	perIp: number;
	/** Failed attempts one email may get per window; a success clears its count. */
	perAccount: number;
}

type Env = Record<string, string | undefined>;

const EMBEDDED_ADMIN = { email: "admin@agora.local", password: "admin12345" };

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
	const raw = env[name];
	if (raw === undefined || raw === "") return fallback;
	const value = Number(raw);
	if (!Number.isInteger(value) || value < min || value > max)
		throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
	return value;
}

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace"] as const;

/** `console` prints each finished request's span tree; `event` emits spans as `$tracing.spans` events. */
const TRACING_EXPORTERS = ["off", "console", "event"] as const;

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
	const raw = env[name];
	if (raw === undefined || raw === "") return fallback;
	if (!(allowed as readonly string[]).includes(raw)) throw new ConfigError(`${name} must be one of ${allowed.join(", ")}, got "${raw}"`);
	return raw as T;
}

function flag(env: Env, name: string, fallback: boolean): boolean {
	const raw = env[name];
	if (raw === undefined || raw === "") return fallback;
	if (raw === "1" || raw === "true") return true;
	if (raw === "0" || raw === "false") return false;
	throw new ConfigError(`${name} must be 1 or 0, got "${raw}"`);
}

/** `kafka://host:port[,host:port...]` as the list of brokers. */
function kafkaBrokers(raw: string | null): string[] | null {
	return raw
		? raw
				.slice("kafka://".length)
				.split(",")
				.map((broker) => broker.trim())
		: null;
}

function url(env: Env, name: string, schemes: string[]): string | null {
	const raw = env[name];
	if (raw === undefined || raw === "") return null;
	const scheme = raw.split("://")[0] ?? "";
	if (!raw.includes("://") || !schemes.includes(scheme))
		throw new ConfigError(`${name} must start with ${schemes.map((s) => `${s}://`).join(" or ")}, got "${raw}"`);
	return raw;
}

/** `smtp://[user:pass@]host:port` or `smtps://...`; the port defaults to 587 and 465. */
function smtp(env: Env): SmtpSettings | null {
	const raw = url(env, "SMTP_URL", ["smtp", "smtps"]);
	if (!raw) return null;
	const problem = (why: string) => new ConfigError(`SMTP_URL must be smtp://[user:pass@]host:port or smtps://..., got "${raw}" (${why})`);
	let parsed: URL;
	try {
		parsed = new URL(raw);
	} catch {
		throw problem("not a URL");
	}
	if (!parsed.hostname) throw problem("no host");
	if (parsed.pathname.replace(/^\/$/, "") || parsed.search || parsed.hash) throw problem("nothing may follow host:port");
	const secure = parsed.protocol === "smtps:";
	const auth = parsed.username ? { user: decodeURIComponent(parsed.username), pass: decodeURIComponent(parsed.password) } : null;
	return { host: parsed.hostname.replace(/^\[(.*)\]$/, "$1"), port: parsed.port ? Number(parsed.port) : secure ? 465 : 587, secure, auth };
}

/** `Name <address>` or a bare address, as a From header takes it. */
function mailFrom(env: Env): string {
	const raw = env.MAIL_FROM?.trim() || "Agora <shop@agora.local>";
	if (!/^([^<>\r\n]+<[^\s<>@]+@[^\s<>@]+>|[^\s<>@]+@[^\s<>@]+)$/.test(raw))
		throw new ConfigError(`MAIL_FROM must be an address or "Name <address>", got "${raw}"`);
	return raw;
}

function publicUrl(env: Env, port: number): string {
	const raw = env.PUBLIC_URL?.trim();
	if (!raw) return `http://localhost:${port}`;
	if (!URL.canParse(raw) || !/^https?:$/.test(new URL(raw).protocol))
		throw new ConfigError(`PUBLIC_URL must be the shop's http:// or https:// address, got "${raw}"`);
	return raw.replace(/\/+$/, "");
}

const COUNTRY = /^[A-Z]{2}$/;

function taxRates(env: Env): TaxRates {
	const raw = env.TAX_RATES?.trim();
	if (!raw) return DEMO_TAX_RATES;
	const rates: TaxRates = {};
	for (const entry of raw.split(",")) {
		const [country = "", rate = ""] = entry.split(":").map((part) => part.trim());
		const basisPoints = Number(rate);
		if (!COUNTRY.test(country) || !/^\d+$/.test(rate) || basisPoints > 10_000)
			throw new ConfigError(`TAX_RATES must list COUNTRY:basis-points pairs such as "DE:1900,FR:2000", got "${entry}"`);
		rates[country] = basisPoints;
	}
	return rates;
}

function shippingMethods(env: Env): readonly ShippingMethod[] {
	const raw = env.SHIPPING_METHODS?.trim();
	if (!raw) return DEMO_SHIPPING_METHODS;
	const example = '[{"id":"standard","name":"Standard","currency":"USD","days":"3-5","prices":{"US":500}}]';
	let parsed: unknown;
	try {
		parsed = JSON.parse(raw);
	} catch {
		throw new ConfigError(`SHIPPING_METHODS must be JSON such as ${example}`);
	}
	const valid = (method: unknown): method is ShippingMethod => {
		const m = method as Partial<ShippingMethod>;
		return (
			typeof m?.id === "string" &&
			/^[a-z0-9-]{1,32}$/.test(m.id) &&
			typeof m.name === "string" &&
			typeof m.currency === "string" &&
			/^[A-Z]{3}$/.test(m.currency) &&
			typeof m.days === "string" &&
			typeof m.prices === "object" &&
			m.prices !== null &&
			Object.entries(m.prices).every(([country, price]) => COUNTRY.test(country) && Number.isInteger(price) && price >= 0)
		);
	};
	if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every(valid))
		throw new ConfigError(`SHIPPING_METHODS must be a non-empty JSON list of methods such as ${example}`);
	return parsed;
}

/** At most this many proxies in a row: more is a typo (Express's `trust proxy` would take any number). */
const MAX_PROXY_HOPS = 10;

function trustProxy(env: Env): TrustProxy {
	const raw = env.TRUST_PROXY?.trim() ?? "";
	if (/^\d+$/.test(raw)) return integer(env, "TRUST_PROXY", 0, 0, MAX_PROXY_HOPS);
	const entries = raw
		.split(",")
		.map((entry) => entry.trim())
		.filter(Boolean);
	try {
		proxyaddr.compile(entries);
	} catch (err) {
		throw new ConfigError(
			`TRUST_PROXY must be a hop count (0 to ${MAX_PROXY_HOPS}) or comma-separated proxy addresses / CIDRs (or loopback, linklocal, uniquelocal), got "${raw}" (${(err as Error).message})`,
		);
	}
	return entries.length > 0 ? entries : 0;
}

/**
 * The embedded mode keeps one development secret per data folder, so tokens survive a restart;
 * a cluster must share one secret across pods, so there it has to be given.
 */
function developmentSecret(dataDir: string): string {
	const file = path.join(dataDir, "jwt-secret");
	if (existsSync(file)) return readFileSync(file, "utf8").trim();
	mkdirSync(dataDir, { recursive: true });
	const secret = randomBytes(48).toString("base64url");
	writeFileSync(file, secret, { mode: 0o600 });
	return secret;
}

export function readSettings(env: Env = process.env): Settings {
	const transporter = url(env, "TRANSPORTER", ["kafka"]);
	const mode: RunMode = transporter ? "distributed" : "embedded";
	const production = env.NODE_ENV === "production";
	const dataDir = path.resolve(env.DATA_DIR || "./data");
	const channelsUrl = url(env, "CHANNELS_URL", ["kafka"]) ?? transporter;

	let jwtSecret = env.JWT_SECRET ?? "";
	if (jwtSecret === "") {
		if (production || mode === "distributed")
			throw new ConfigError("JWT_SECRET is required in production and in the distributed mode (every pod must share it)");
		jwtSecret = developmentSecret(dataDir);
	} else if (jwtSecret.length < 32) {
		throw new ConfigError("JWT_SECRET must be at least 32 characters long");
	}

	const adminEmail = env.ADMIN_EMAIL || (mode === "embedded" ? EMBEDDED_ADMIN.email : "");
	const adminPassword = env.ADMIN_PASSWORD || (mode === "embedded" ? EMBEDDED_ADMIN.password : "");
	if (Boolean(adminEmail) !== Boolean(adminPassword)) throw new ConfigError("ADMIN_EMAIL and ADMIN_PASSWORD must be given together");
	if (adminPassword && adminPassword.length < 8) throw new ConfigError("ADMIN_PASSWORD must be at least 8 characters long");

	const port = integer(env, "PORT", 3000, 0, 65535);

	return {
		mode,
		production,
		port,
		probePort: integer(env, "PROBE_PORT", 0, 0, 65535),
		metricsPort: integer(env, "METRICS_PORT", 0, 0, 65535),
		// Not TRACING: moleculer-runner would write a variable named after a broker option over that option.
		tracing: oneOf(env, "TRACE_EXPORTER", TRACING_EXPORTERS, "off"),
		dataDir,
		namespace: env.NAMESPACE ?? "",
		logLevel: oneOf(env, "LOGLEVEL", LOG_LEVELS, "info"),
		host: env.HOST || "127.0.0.1",
		nodeId: env.NODE_ID || null,
		transporterBrokers: kafkaBrokers(transporter),
		mongoUri: url(env, "MONGO_URI", ["mongodb", "mongodb+srv"]),
		channelsBrokers: kafkaBrokers(channelsUrl),
		topicPrefix: env.TOPIC_PREFIX ?? "",
		topicPartitions: integer(env, "TOPIC_PARTITIONS", 3, 1, 1000),
		jwtSecret,
		jwtExpiresIn: env.JWT_EXPIRES_IN || "12h",
		admin: adminEmail ? { email: adminEmail, password: adminPassword } : null,
		seedDemo: flag(env, "SEED_DEMO", mode === "embedded"),
		orderPendingTtlSeconds: integer(env, "ORDER_PENDING_TTL_SECONDS", 900, 1, 7 * 86_400),
		paymentProviderDelayMs: integer(env, "PAYMENT_PROVIDER_DELAY_MS", 0, 0, 60_000),
		holdTtlSeconds: integer(env, "HOLD_TTL_SECONDS", 600, 5, 86_400),
		shippingMethods: shippingMethods(env),
		taxRates: taxRates(env),
		bodyLimit: env.BODY_LIMIT || "100kb",
		trustProxy: trustProxy(env),
		socketsPerUser: integer(env, "SOCKETS_PER_USER", 10, 1, 1000),
		socketLeaseSeconds: integer(env, "SOCKET_LEASE_SECONDS", 45, 3, 3600),
		socketMessagesPer10s: integer(env, "SOCKET_RATE_LIMIT", 30, 1, 10_000),
		authRateLimit: {
			windowSeconds: integer(env, "AUTH_RATE_WINDOW_SECONDS", 900, 1, 86_400),
			perIp: integer(env, "AUTH_RATE_PER_IP", 100, 1, 1_000_000),
			perAccount: integer(env, "AUTH_RATE_PER_ACCOUNT", 10, 1, 1_000_000),
		},
		corsOrigins: (env.CORS_ORIGINS ?? "")
			.split(",")
			.map((origin) => origin.trim())
			.filter(Boolean),
		costCountersDir: env.COST_COUNTERS_DIR || null,
		backgroundLoops: true,
		smtp: smtp(env),
		mailFrom: mailFrom(env),
		publicUrl: publicUrl(env, port),
		webhookAllowPrivate: flag(env, "WEBHOOK_ALLOW_PRIVATE", false),
		webhookMaxAttempts: integer(env, "WEBHOOK_MAX_ATTEMPTS", 8, 1, 100),
		webhookRetrySeconds: integer(env, "WEBHOOK_RETRY_SECONDS", 30, 1, 86_400),
	};
}

let current: Settings | undefined;

/** The settings of this process: read from its environment the first time they are asked for, at start. */
export function settings(): Settings {
	current ??= readSettings();
	return current;
}

/** Runs this process on `given` instead of its environment (a test's own data folder, loops off...). */
export function useSettings(given: Settings): void {
	current = given;
}

export const EMBEDDED_ADMIN_DEFAULTS = EMBEDDED_ADMIN;
