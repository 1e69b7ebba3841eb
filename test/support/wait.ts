import { setTimeout as sleep } from "node:timers/promises";

/**
 * Retries `check` until it passes: the saga runs on events, so a test waits for its outcome.
 * The limit only bounds a hung test; it asserts nothing about speed.
 */
export async function eventually<T>(check: () => Promise<T>, { timeoutMs = 30_000, intervalMs = 100 } = {}): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		try {
			return await check();
		} catch (err) {
			if (Date.now() > deadline) throw err;
			await sleep(intervalMs);
		}
	}
}
