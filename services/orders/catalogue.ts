/**
 * The orders side's view of the catalogue: each product's name, price and currency, kept per
 * product as placements ask for them and dropped whenever the catalogue changes (the products
 * service broadcasts `cache.clean.products` on every change). A placement then prices its lines
 * without a call for products it has seen before, however its lines are combined.
 */
import type { Context } from "moleculer";
import type { CatalogueEntry } from "../../lib/contracts/actions";
import { call } from "../../lib/platform/actions";

export class PriceList {
	private readonly entries = new Map<string, CatalogueEntry>();
	/** Counts the catalogue's changes: an answer asked for before the latest one is used once, not kept. */
	private generation = 0;

	/** The entries of `ids` that are on sale now (an unknown id is left out). */
	async entriesOf(ctx: Context, ids: string[]): Promise<Map<string, CatalogueEntry>> {
		const found = new Map(ids.flatMap((id) => (this.entries.has(id) ? [[id, this.entries.get(id) as CatalogueEntry]] : [])));
		const missing = ids.filter((id) => !found.has(id));
		if (missing.length === 0) return found;
		const asked = this.generation;
		for (const entry of await call(ctx, "products.getMany", { ids: missing })) {
			found.set(entry.id, entry);
			if (asked === this.generation) this.entries.set(entry.id, entry);
		}
		return found;
	}

	/** The catalogue changed: prices may have. */
	forget(): void {
		this.generation++;
		this.entries.clear();
	}
}
