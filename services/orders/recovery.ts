/**
 * The saga's safety nets. Placement recovery undoes a placement whose node died before it answered
 * (its client was never told of the order, yet stock may be reserved and a payment prepared); the
 * reaper fails an order whose payment never came. Both fail the order, and its event makes
 * inventory and payments give back what it held.
 */
import type { Logger, ServiceBroker } from "moleculer";
import type { Order } from "../../lib/contracts/orders";
import type { DbAdapter, Entity } from "../../lib/platform/store";
import { PLACING_OVER, type Placing, publicOrder, type StoredOrder } from "./model";
import { lostTheRace, type SettlementHost, transition } from "./settlement";

/** Placements still running after this long are looked at (one that ends normally takes well under it)... */
const PLACEMENT_CHECK_AFTER_MS = 5_000;
/** ...and undone if their node has left the cluster, or in any case once they have run this long. */
export const PLACEMENT_LIMIT_MS = 60_000;

export interface RecoveryHost extends SettlementHost {
	broker: ServiceBroker;
	logger: Logger;
	adapter: DbAdapter;
	toEntity<T extends Entity>(doc: unknown): T;
}

/** Why a placement still running must be undone, or null while its node may yet finish it. */
export function abandonedPlacement(
	broker: ServiceBroker,
	{ placingSince, placingNode, placingInstance }: Placing,
	now: number,
): string | null {
	if (!placingSince) return null;
	const ranMs = now - new Date(placingSince).getTime();
	if (ranMs > PLACEMENT_LIMIT_MS) return `placing it did not finish within ${PLACEMENT_LIMIT_MS / 1000} s`;
	if (placingNode === null) return "placing it was cut off";
	// A node this one has not discovered (yet) may be alive: only the time limit applies to it.
	const node = broker.registry.nodes.get(placingNode);
	if (node && (!node.available || node.instanceID !== placingInstance)) return `placing it was cut off: node ${placingNode} stopped`;
	return null;
}

/**
 * Claims the placement (its own node's `finishPlacement` then loses), then fails the order. Every
 * step can be repeated by another recovery run or node. False if the placement finished first.
 */
async function undoPlacement(host: RecoveryHost, stored: StoredOrder, why: string): Promise<boolean> {
	let order: Order = publicOrder(stored);
	if (stored.placingNode !== null) {
		await host.changeOnce(`${order.id}:placement`, { _id: order.id }, { placingNode: null });
		const now = await host.adapter.findById(order.id);
		// Gone (its node refused it) or over (its node finished it after all): nothing to undo.
		if (!now || host.toEntity<StoredOrder>(now).placingSince === null) return false;
		order = publicOrder(host.toEntity<StoredOrder>(now));
	}
	if (order.status === "pending") {
		try {
			await transition(host, order, "failed", "recovery", `${why}; stock released, nothing charged`);
		} catch (err) {
			// A customer or admin cancelled it meanwhile: that released it too.
			if (!lostTheRace(err)) throw err;
		}
	}
	await host.adapter.updateMany({ _id: order.id }, { $set: PLACING_OVER });
	return true;
}

/** Undoes the placements whose node died; one indexed query that matches only orders being placed. */
export async function recoverPlacements(host: RecoveryHost, now = Date.now()): Promise<number> {
	const running = await host.adapter.find({
		// An order being placed is pending: that equality is what the test stand-in (FerretDB 1.24)
		// serves from an index, where a date range alone read every order on every run.
		query: { status: "pending", placingSince: { $gt: new Date(0), $lt: new Date(now - PLACEMENT_CHECK_AFTER_MS) } },
		sort: ["placingSince"],
		limit: 100,
	});
	let undone = 0;
	for (const doc of running) {
		const stored = host.toEntity<StoredOrder>(doc);
		const why = abandonedPlacement(host.broker, stored, now);
		if (why && (await undoPlacement(host, stored, why))) undone++;
	}
	if (undone > 0) host.logger.warn(`Recovery undid ${undone} placement(s) whose orders node stopped before answering.`);
	return undone;
}

/** Fails orders still unpaid after `ttlMs`; their stock is released through their event. */
export async function reapStalePending(host: RecoveryHost, ttlMs: number): Promise<number> {
	const stale = await host.adapter.find({ query: { status: "pending", createdAt: { $lt: new Date(Date.now() - ttlMs) } }, limit: 100 });
	let failed = 0;
	for (const doc of stale) {
		try {
			await transition(
				host,
				publicOrder(host.toEntity<StoredOrder>(doc)),
				"failed",
				"reaper",
				`no payment within ${ttlMs / 1000} s: stock released`,
			);
			failed++;
		} catch (err) {
			// The payment (or another orders node) got there first.
			if (!lostTheRace(err)) throw err;
		}
	}
	if (failed > 0) host.logger.warn(`Reaper failed ${failed} order(s) that waited over ${ttlMs / 1000} s for payment.`);
	return failed;
}
