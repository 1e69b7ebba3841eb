import { request as httpRequest, type IncomingHttpHeaders } from "node:http";

/** A JSON client for the REST API, as an outside client would use it. */
export interface Reply<T = unknown> {
	status: number;
	body: T;
	headers: Headers;
}

export interface RequestOptions {
	token?: string;
	body?: unknown;
	/** Sent as-is instead of JSON-encoding `body` (malformed JSON, oversized bodies). */
	raw?: string;
	headers?: Record<string, string>;
	/** Gives up after this long, as a client does, instead of waiting for an answer that may never come. */
	timeoutMs?: number;
}

// biome-ignore lint/suspicious/noExplicitAny: tests read answers of many shapes; each asserts what it reads
export type Json = any;

export function client(baseUrl: string) {
	async function request<T = Json>(method: string, path: string, options: RequestOptions = {}): Promise<Reply<T>> {
		const headers: Record<string, string> = { accept: "application/json", ...options.headers };
		if (options.token) headers.authorization = `Bearer ${options.token}`;
		let body: string | undefined;
		if (options.raw !== undefined || options.body !== undefined) {
			headers["content-type"] ??= "application/json";
			body = options.raw ?? JSON.stringify(options.body);
		}
		const signal = options.timeoutMs ? AbortSignal.timeout(options.timeoutMs) : undefined;
		const res = await fetch(`${baseUrl}/api${path}`, { method, headers, body, signal });
		const text = await res.text();
		let parsed: unknown = text;
		try {
			parsed = text ? JSON.parse(text) : null;
		} catch {
			// not JSON: keep the text
		}
		return { status: res.status, body: parsed as T, headers: res.headers };
	}
	return {
		request,
		get: <T = Json>(path: string, options?: RequestOptions) => request<T>("GET", path, options),
		post: <T = Json>(path: string, body?: unknown, options?: RequestOptions) => request<T>("POST", path, { ...options, body }),
		patch: <T = Json>(path: string, body?: unknown, options?: RequestOptions) => request<T>("PATCH", path, { ...options, body }),
		delete: <T = Json>(path: string, options?: RequestOptions) => request<T>("DELETE", path, options),
	};
}

export type Client = ReturnType<typeof client>;

let sequence = 0;

/** Registers a fresh customer and returns its token. */
export async function newCustomer(api: Client, name = "Test Customer"): Promise<{ token: string; id: string; email: string }> {
	const email = `customer-${Date.now()}-${sequence++}-${Math.random().toString(36).slice(2, 8)}@example.com`;
	const res = await api.post("/auth/register", { email, password: "correct-horse", name });
	if (res.status !== 201) throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
	return { token: res.body.token, id: res.body.user.id, email };
}

export async function adminToken(api: Client): Promise<string> {
	const res = await api.post("/auth/login", { email: "admin@agora.local", password: "admin12345" });
	if (res.status !== 200) throw new Error(`admin login failed: ${res.status} ${JSON.stringify(res.body)}`);
	return res.body.token;
}

export interface RawRequest {
	method?: string;
	/** Sent byte for byte: no URL normalisation (`/../x` stays as it is), unlike fetch. */
	path: string;
	headers?: Record<string, string>;
	body?: string;
	/** The client's source address: any 127.x.y.z on the loopback, to act as another client IP. */
	localAddress?: string;
}

/** One HTTP request over node:http, for what fetch would not send as written. */
export function rawRequest(baseUrl: string, options: RawRequest): Promise<{ status: number; headers: IncomingHttpHeaders; text: string }> {
	const url = new URL(baseUrl);
	return new Promise((resolve, reject) => {
		const req = httpRequest(
			{
				host: url.hostname,
				port: url.port,
				method: options.method ?? "GET",
				path: options.path,
				headers: options.headers,
				localAddress: options.localAddress,
			},
			(res) => {
				let text = "";
				res.setEncoding("utf8");
				res.on("data", (chunk: string) => {
					text += chunk;
				});
				res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
			},
		);
		req.on("error", reject);
		req.end(options.body);
	});
}
