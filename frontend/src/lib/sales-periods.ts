/** The periods the admin overview shows, and how a figure compares with the period before. */
import type { SalesQuery, SalesTotals } from "../api/types";

const HOUR_MS = 3_600_000;

export type ChartSpan = "24h" | "30d";

function startOfDay(at: Date): Date {
	return new Date(at.getFullYear(), at.getMonth(), at.getDate());
}

function nextHour(at: Date): Date {
	return new Date(Math.floor(at.getTime() / HOUR_MS) * HOUR_MS + HOUR_MS);
}

/** Today so far, in the browser's time zone, by whole hours; the server compares it with the same hours the day before. */
export function todayQuery(now = new Date()): SalesQuery {
	return { from: startOfDay(now).toISOString(), to: nextHour(now).toISOString(), bucket: "hour" };
}

/** The chart: the last 24 hours by the hour, or the last 30 days (today included) by the day. */
export function chartQuery(span: ChartSpan, now = new Date()): SalesQuery {
	if (span === "24h") {
		const to = nextHour(now);
		return { from: new Date(to.getTime() - 24 * HOUR_MS).toISOString(), to: to.toISOString(), bucket: "hour" };
	}
	const today = startOfDay(now);
	const from = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 29);
	const to = new Date(today.getFullYear(), today.getMonth(), today.getDate() + 1);
	return { from: from.toISOString(), to: to.toISOString(), bucket: "day" };
}

/** Cancelled orders per order placed, 0 to 1 (0 without orders). */
export function cancellationRate(totals: SalesTotals): number {
	return totals.orders > 0 ? totals.cancelled / totals.orders : 0;
}

export interface Change {
	/** "up", "down" or "same", for the arrow and its colour. */
	direction: "up" | "down" | "same";
	/** What a person reads: "+12%", "−3 pts", "new", "no change". */
	text: string;
}

/** A count or an amount against the period before, in per cent. */
export function relativeChange(now: number, before: number): Change {
	if (now === before) return { direction: "same", text: "no change" };
	if (before === 0) return { direction: now > 0 ? "up" : "down", text: now > 0 ? "new" : "down" };
	const percent = Math.round(((now - before) / Math.abs(before)) * 100);
	return { direction: now > before ? "up" : "down", text: `${percent > 0 ? "+" : percent < 0 ? "−" : "±"}${Math.abs(percent)}%` };
}

/** A rate (0 to 1) against the period before, in percentage points. */
export function pointChange(now: number, before: number): Change {
	const points = Math.round((now - before) * 1000) / 10;
	if (points === 0) return { direction: "same", text: "no change" };
	return { direction: points > 0 ? "up" : "down", text: `${points > 0 ? "+" : "−"}${Math.abs(points)} pts` };
}
