/** Cart arithmetic and wording, kept apart from storage and the DOM so it can be unit-tested in Node. */
import type { Cart, CartHold, CartLine } from "../api/types";

export const MAX_QUANTITY = 99;

/** A whole number of units from 1 to `max` (a typed "0" or "-3" is still at least one). */
export function clampQuantity(quantity: number, max = MAX_QUANTITY): number {
	if (!Number.isFinite(quantity)) return 1;
	return Math.min(Math.max(Math.trunc(quantity), 1), Math.max(max, 1));
}

/** Units across all lines, for the header badge. */
export function itemCount(cart: Cart | null): number {
	return cart?.items.reduce((sum, line) => sum + line.quantity, 0) ?? 0;
}

export function quantityOf(cart: Cart | null, productId: string): number {
	return cart?.items.find((line) => line.productId === productId)?.quantity ?? 0;
}

export interface LineNote {
	/** `problem`: the line cannot be bought as it is. */
	tone: "ok" | "low" | "problem";
	text: string;
}

/** At or below this many units on sale, a line says how few are left. */
const FEW_LEFT = 5;

/** What a cart line says about its stock. Units held for the checkout are the shopper's whatever the shelf says. */
export function lineNote(line: CartLine, held: boolean): LineNote {
	if (held) return { tone: "ok", text: "Held for you" };
	if (line.available <= 0) return { tone: "problem", text: "Sold out: remove it to check out" };
	if (line.available < line.quantity) return { tone: "problem", text: `Only ${line.available} left: lower the quantity to check out` };
	if (line.available <= FEW_LEFT) return { tone: "low", text: `Only ${line.available} left` };
	return { tone: "ok", text: "In stock" };
}

/** Whether every line can be bought as it is (the checkout's first check). */
export function buyable(cart: Cart): boolean {
	return cart.items.length > 0 && (cart.hold !== null || cart.items.every((line) => line.available >= line.quantity));
}

/**
 * When a hold runs out on this browser's clock: `seconds` (left when the server answered)
 * counted from when the answer arrived, so a browser clock that is off does not matter.
 */
export function holdDeadline(hold: CartHold, receivedAt: number): number {
	return receivedAt + hold.seconds * 1000;
}

/** "9:05" for 9 minutes 5 seconds; never below 0:00. */
export function formatCountdown(ms: number): string {
	const seconds = Math.max(0, Math.ceil(ms / 1000));
	return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

/** What names a guest's cart: its id and the secret POST /carts gave. */
export interface GuestCartKey {
	id: string;
	secret: string;
}

/** Reads a saved guest cart key; storage may hold anything (an older app's cart, a hand edit). */
export function parseGuestCartKey(saved: string | null): GuestCartKey | null {
	if (!saved) return null;
	try {
		const parsed: unknown = JSON.parse(saved);
		if (typeof parsed !== "object" || parsed === null) return null;
		const { id, secret } = parsed as Record<string, unknown>;
		return typeof id === "string" && typeof secret === "string" ? { id, secret } : null;
	} catch {
		return null;
	}
}
