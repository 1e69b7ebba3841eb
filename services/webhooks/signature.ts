/**
 * `Agora-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`: the receiver
 * recomputes it from the body it got and its endpoint's secret. The time inside lets it refuse an
 * old request played again.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

export const SIGNATURE_HEADER = "Agora-Signature";

const hmac = (secret: string, t: number, body: string) => createHmac("sha256", secret).update(`${t}.${body}`).digest("hex");

export function signature(secret: string, body: string, at = Date.now()): string {
	const t = Math.floor(at / 1000);
	return `t=${t},v1=${hmac(secret, t, body)}`;
}

/** Whether `header` signs `body` with `secret`, made at most `toleranceSeconds` before `now`. */
export function verifySignature(secret: string, body: string, header: string, toleranceSeconds = 300, now = Date.now()): boolean {
	const parts = Object.fromEntries(header.split(",").map((part) => part.split("=", 2) as [string, string]));
	const t = Number(parts.t);
	if (!Number.isInteger(t) || !parts.v1 || Math.abs(now / 1000 - t) > toleranceSeconds) return false;
	const expected = Buffer.from(hmac(secret, t, body), "hex");
	const given = Buffer.from(parts.v1, "hex");
	return given.length === expected.length && timingSafeEqual(given, expected);
}
