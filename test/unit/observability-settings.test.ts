import { ConfigError, readSettings } from "../../lib/platform/settings";

// A given secret keeps readSettings from writing a development secret into ./data.
const base = { JWT_SECRET: "unit-test-secret-0123456789abcdefghijklmnop" };

describe("settings: metrics and tracing", () => {
	it("leaves metrics and tracing off unless asked", () => {
		expect(readSettings(base)).toMatchObject({ metricsPort: 0, tracing: "off" });
	});

	it("reads METRICS_PORT and TRACE_EXPORTER", () => {
		expect(readSettings({ ...base, METRICS_PORT: "3030", TRACE_EXPORTER: "console" })).toMatchObject({
			metricsPort: 3030,
			tracing: "console",
		});
		expect(readSettings({ ...base, TRACE_EXPORTER: "event" }).tracing).toBe("event");
	});

	it.each([
		[{ METRICS_PORT: "metrics" }, 'METRICS_PORT must be a whole number from 0 to 65535, got "metrics"'],
		[{ METRICS_PORT: "70000" }, 'METRICS_PORT must be a whole number from 0 to 65535, got "70000"'],
		[{ TRACE_EXPORTER: "jaeger" }, 'TRACE_EXPORTER must be one of off, console, event, got "jaeger"'],
	])("refuses %j with one clear line", (env, message) => {
		expect(() => readSettings({ ...base, ...env })).toThrow(new ConfigError(message));
	});
});
