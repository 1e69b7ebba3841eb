import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { io } from "socket.io-client";
import { type Agora, freePort, type RunningNode, startAgora } from "../support/agora";
import { type Json, rawRequest } from "../support/http";
import { listen } from "../support/sockets";
import { eventually } from "../support/wait";

/**
 * The limits of docs/security.md as a cluster sees them: two gateway processes behind a reverse
 * proxy on 127.0.0.1 that appends the client's address to X-Forwarded-For, as ingress-nginx does.
 * The gateways trust that proxy (TRUST_PROXY=127.0.0.1) and nobody else. Each client speaks from
 * its own loopback address (127.0.0.x), so the proxy sees a different client address for each.
 */
const PROXY_ADDRESS = "127.0.0.1";
const PER_ACCOUNT = 3;
const PER_IP = 100;
const SOCKETS_PER_USER = 2;
/** Which gateway the proxy sends a request to, when a test wants one (stripped by the proxy). */
const UPSTREAM_HEADER = "x-test-upstream";

let agora: Agora;
let gateways: RunningNode[];
let gatewayUrls: string[];
let proxy: Server;
let proxyUrl: string;

/** A reverse proxy in a few lines: round-robin over the gateways (or the one asked for), appending X-Forwarded-For. */
function startProxy(upstreams: string[]): Promise<Server> {
	let next = 0;
	const server = createServer((req, res) => {
		const asked = req.headers[UPSTREAM_HEADER];
		const target = new URL(upstreams[typeof asked === "string" ? Number(asked) : next++ % upstreams.length] ?? "");
		const { [UPSTREAM_HEADER]: _asked, "x-forwarded-for": earlier, ...headers } = req.headers;
		const forwardedFor = [earlier, req.socket.remoteAddress].filter(Boolean).join(", ");
		const upstream = httpRequest(
			{
				host: target.hostname,
				port: target.port,
				method: req.method,
				path: req.url,
				headers: { ...headers, "x-forwarded-for": forwardedFor },
				localAddress: PROXY_ADDRESS,
			},
			(answer) => {
				res.writeHead(answer.statusCode ?? 502, answer.headers);
				answer.pipe(res);
			},
		);
		upstream.on("error", () => res.writeHead(502).end());
		req.pipe(upstream);
	});
	return new Promise((resolve) => server.listen(0, PROXY_ADDRESS, () => resolve(server)));
}

beforeAll(async () => {
	const gateway = (env: Record<string, string> = {}) => ({ services: ["api"], env: { TRUST_PROXY: PROXY_ADDRESS, ...env } });
	agora = await startAgora({
		distributed: true,
		env: {
			AUTH_RATE_PER_IP: String(PER_IP),
			AUTH_RATE_PER_ACCOUNT: String(PER_ACCOUNT),
			SOCKETS_PER_USER: String(SOCKETS_PER_USER),
			SOCKET_LEASE_SECONDS: "3",
		},
		// The first gateway logs each request (at debug), with its client address.
		nodes: [
			gateway({ LOGLEVEL: "debug" }),
			gateway(),
			{ services: ["users"] },
			{ services: ["products", "inventory", "orders", "payments", "insights"] },
		],
	});
	gateways = agora.nodes.filter((node) => node.port !== null);
	gatewayUrls = gateways.map((_, n) => agora.gatewayUrl(n));
	proxy = await startProxy(gatewayUrls);
	proxyUrl = `http://${PROXY_ADDRESS}:${(proxy.address() as AddressInfo).port}`;
});

afterAll(async () => {
	await new Promise((resolve) => (proxy ? proxy.close(resolve) : resolve(undefined)));
	await agora?.stop();
});

interface Via {
	/** The proxy or a gateway. */
	url: string;
	/** The client's own address. */
	from: string;
	headers?: Record<string, string>;
}

async function post(via: Via, route: string, body: object): Promise<{ status: number; body: Json; retryAfter?: string }> {
	const res = await rawRequest(via.url, {
		method: "POST",
		path: `/api${route}`,
		localAddress: via.from,
		headers: { "content-type": "application/json", ...via.headers },
		body: JSON.stringify(body),
	});
	return { status: res.status, body: JSON.parse(res.text), retryAfter: res.headers["retry-after"] as string | undefined };
}

const throughGateway = (n: number) => ({ [UPSTREAM_HEADER]: String(n) });
const login = (via: Via, email: string, password: string) => post(via, "/auth/login", { email, password });
let sequence = 0;
const newEmail = (name: string) => `${name}-${Date.now()}-${sequence++}@example.com`;

async function register(via: Via, name: string): Promise<{ email: string; token: string }> {
	const email = newEmail("shopper");
	const res = await post(via, "/auth/register", { email, password: "correct-horse", name });
	expect(res.status).toBe(201);
	return { email, token: res.body.token };
}

function expectTooMany(res: { status: number; body: Json; retryAfter?: string }): void {
	expect(res).toMatchObject({ status: 429, body: { type: "TOO_MANY_ATTEMPTS" } });
	expect(Number(res.retryAfter)).toBeGreaterThan(0);
}

test("an account locked through one gateway is locked on the other", async () => {
	const victim = await register({ url: proxyUrl, from: "127.0.0.2" }, "victim");
	const guesser = { url: proxyUrl, from: "127.0.0.3", headers: throughGateway(0) };
	for (let i = 0; i < PER_ACCOUNT; i++) expect((await login(guesser, victim.email, "wrong-password")).status).toBe(401);
	// Another gateway, and even another client address: the account's count is the cluster's.
	expectTooMany(await login({ url: proxyUrl, from: "127.0.0.4", headers: throughGateway(1) }, victim.email, "correct-horse"));
	expectTooMany(await login({ url: gatewayUrls[1] ?? "", from: "127.0.0.4" }, victim.email, "correct-horse"));
});

describe("one count per client address, behind the proxy", () => {
	const attacker = "127.0.0.10";

	test(`${PER_IP} failed logins from one client lock that client on every gateway, not a second client`, async () => {
		// In small batches; the proxy spreads them over both gateways.
		for (let sent = 0; sent < PER_IP; sent += 5) {
			const answers = await Promise.all(
				Array.from({ length: 5 }, () => login({ url: proxyUrl, from: attacker }, newEmail("guess"), "guess-password")),
			);
			expect(answers.map((answer) => answer.status)).toEqual([401, 401, 401, 401, 401]);
		}
		for (const gateway of [0, 1])
			expectTooMany(await login({ url: proxyUrl, from: attacker, headers: throughGateway(gateway) }, newEmail("guess"), "guess-password"));

		const second = { url: proxyUrl, from: "127.0.0.11" };
		const shopper = await register(second, "second-client");
		expect((await login(second, shopper.email, "correct-horse")).status).toBe(200);
	});

	test("a client's own X-Forwarded-For changes nothing: sent straight to a gateway or through the proxy", async () => {
		// The client locked above cannot escape its count by naming another address...
		for (const url of [gatewayUrls[0] ?? "", proxyUrl])
			expectTooMany(await login({ url, from: attacker, headers: { "x-forwarded-for": "198.51.100.23" } }, newEmail("guess"), "guess"));
		// ...and another client cannot pass for it: it is counted, and logged, under its own address.
		const requests = gateways[0]?.linesMatching(/=> POST \/api\/auth\/login from /) ?? (() => []);
		const framer = { url: gatewayUrls[0] ?? "", from: "127.0.0.12", headers: { "x-forwarded-for": attacker } };
		expect((await login(framer, newEmail("nobody"), "guess-password")).status).toBe(401);
		await eventually(async () => expect(requests()).toEqual([expect.stringContaining("from 127.0.0.12")]), { timeoutMs: 5_000 });
	});
});

test("a gateway whose limit store is unreachable keeps logins working, counted on its own", async () => {
	// Nothing listens on that port: the store is down for this gateway (the accounts are not).
	const lonely = await agora.addNode({ services: ["api"], env: { MONGO_URI: `mongodb://127.0.0.1:${await freePort()}/limits` } });
	const via = { url: `http://127.0.0.1:${lonely.port}`, from: "127.0.0.30" };
	const shopper = await register(via, "Offline Counts");
	expect((await login(via, shopper.email, "correct-horse")).status).toBe(200);
	for (let i = 0; i < PER_ACCOUNT; i++) expect((await login(via, shopper.email, "wrong-password")).status).toBe(401);
	expectTooMany(await login(via, shopper.email, "correct-horse"));
	// The outage is said once, not once per request.
	expect(lonely.output.filter((line) => line.includes("Limit store unavailable"))).toHaveLength(1);
});

describe("sockets per account, across gateways", () => {
	test("the cap counts the account's sockets on every gateway, and a handshake's own X-Forwarded-For is not believed", async () => {
		const ann = await register({ url: gatewayUrls[1] ?? "", from: "127.0.0.20" }, "Many Tabs Ann");
		const [first, second] = await Promise.all([listen(gatewayUrls[0] ?? "", ann.token), listen(gatewayUrls[0] ?? "", ann.token)]);
		await expect(listen(gatewayUrls[1] ?? "", ann.token)).rejects.toMatchObject({ message: "TOO_MANY_CONNECTIONS" });

		const refusals = gateways[0]?.linesMatching(/Refused a socket/) ?? (() => []);
		const handshake = {
			path: "/socket.io",
			transports: ["websocket"],
			auth: { token: ann.token },
			// Not from the proxy's address: a client of its own, naming another one (engine.io passes
			// `localAddress` to its WebSocket; socket.io-client's typings do not list it).
			localAddress: "127.0.0.22",
			extraHeaders: { "x-forwarded-for": "198.51.100.77" },
			reconnection: false,
		};
		const spoofed = io(gatewayUrls[0] ?? "", handshake);
		const refusal = await new Promise<Error>((resolve) => spoofed.once("connect_error", resolve));
		spoofed.close();
		expect(refusal.message).toBe("TOO_MANY_CONNECTIONS");
		await eventually(async () => expect(refusals()).toEqual([expect.stringContaining("from 127.0.0.22:")]), { timeoutMs: 5_000 });

		// A closed tab frees its place on the other gateway too.
		first?.close();
		const third = await eventually(() => listen(gatewayUrls[1] ?? "", ann.token), { timeoutMs: 10_000 });
		third.close();
		second?.close();
	});

	test("the sockets of a gateway that died stop counting once their lease runs out", async () => {
		const bob = await register({ url: gatewayUrls[1] ?? "", from: "127.0.0.21" }, "Crashed Bob");
		const [doomed, survivor] = gateways;
		if (!doomed || !survivor) throw new Error("two gateways expected");
		await Promise.all([listen(gatewayUrls[0] ?? "", bob.token), listen(gatewayUrls[0] ?? "", bob.token)]);
		await agora.kill(doomed, "SIGKILL");
		// Nobody told the store those two sockets closed; their entries lapse (SOCKET_LEASE_SECONDS=3).
		const back = await Promise.all(
			Array.from({ length: SOCKETS_PER_USER }, () => eventually(() => listen(gatewayUrls[1] ?? "", bob.token), { timeoutMs: 20_000 })),
		);
		for (const socket of back) socket.close();
	});
});
