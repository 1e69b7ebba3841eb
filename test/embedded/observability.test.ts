import { type Agora, freePort, startAgora } from "../support/agora";
import { type Client, client } from "../support/http";
import { eventually } from "../support/wait";

let agora: Agora;
let api: Client;
let metricsUrl: string;

beforeAll(async () => {
	const metricsPort = await freePort();
	metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
	agora = await startAgora({ env: { METRICS_PORT: String(metricsPort), TRACE_EXPORTER: "console" } });
	api = client(agora.url);
});

afterAll(async () => {
	await agora?.stop();
});

/** A Prometheus sample's value, by metric name and labels (summed over the label sets that match). */
function sample(scrape: string, metric: string, labels: Record<string, string>): number {
	return scrape
		.split("\n")
		.filter((line) => line.startsWith(`${metric}{`) && Object.entries(labels).every(([name, value]) => line.includes(`${name}="${value}"`)))
		.reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(" ") + 1)), 0);
}

async function scrape(): Promise<string> {
	const res = await fetch(metricsUrl);
	expect(res.status).toBe(200);
	expect(res.headers.get("content-type")).toContain("text/plain");
	return res.text();
}

describe("observability, embedded: metrics, tracing and request ids of a real process", () => {
	it("serves Prometheus metrics on METRICS_PORT whose request counters follow real REST calls", async () => {
		const labels = { action: "products.list" };
		const before = sample(await scrape(), "moleculer_request_total", labels);
		for (let i = 0; i < 3; i++) expect((await api.get("/products?q=kettle")).status).toBe(200);
		const after = await scrape();
		expect(sample(after, "moleculer_request_total", labels)).toBe(before + 3);
		// A refused request counts as an error of its action.
		const errorsBefore = sample(after, "moleculer_request_error_total", labels);
		expect((await api.get("/products?pageSize=1000")).status).toBe(422);
		expect(sample(await scrape(), "moleculer_request_error_total", labels)).toBe(errorsBefore + 1);
	});

	it("answers only /metrics on the metrics port", async () => {
		expect((await fetch(metricsUrl.replace("/metrics", "/"))).status).toBe(404);
	});

	it("echoes the client's X-Request-Id, and gives a request without one (or with an unusable one) a fresh id", async () => {
		const given = await api.get("/products", { headers: { "X-Request-Id": "shop-front.7f3a:42" } });
		expect(given.headers.get("x-request-id")).toBe("shop-front.7f3a:42");

		const none = await api.get("/products");
		expect(none.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);

		for (const unusable of [`x${"y".repeat(200)}`, "two words", "<script>"]) {
			const res = await api.get("/products", { headers: { "X-Request-Id": unusable } });
			expect(res.status).toBe(200);
			expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
		}
	});

	it("prints each request's span tree with TRACE_EXPORTER=console", async () => {
		await api.get("/products/no-such-product");
		await eventually(async () => {
			const output = agora.nodes[0]?.output.join("\n") ?? "";
			// The request's span, failed (×), with the action it called nested under it.
			expect(output).toMatch(/│ GET \/api\/products\/no-such-product ×.*\n.*└─── action 'products\.get' ×/);
		});
	});
});
