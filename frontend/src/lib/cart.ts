/** Cart arithmetic, kept apart from storage and the DOM so it can be unit-tested in Node. */
import type { Product } from "../api/types";

export interface CartLine {
	productId: string;
	name: string;
	/** Unit price in minor units when it was added; the order copies the current price. */
	price: number;
	currency: string;
	imageUrl?: string | null;
	quantity: number;
}

export interface CartTotals {
	/** Units across all lines, for the header badge. */
	count: number;
	subtotal: number;
	currency: string;
}

export const MAX_QUANTITY = 99;

/** A whole number of units from 1 to `max` (a typed "0" or "-3" is still at least one). */
export function clampQuantity(quantity: number, max = MAX_QUANTITY): number {
	if (!Number.isFinite(quantity)) return 1;
	return Math.min(Math.max(Math.trunc(quantity), 1), Math.max(max, 1));
}

export function addToCart(lines: readonly CartLine[], product: Product, quantity = 1): CartLine[] {
	const existing = lines.find((line) => line.productId === product.id);
	if (existing) return setQuantity(lines, product.id, existing.quantity + quantity);
	const line: CartLine = {
		productId: product.id,
		name: product.name,
		price: product.price,
		currency: product.currency ?? "USD",
		imageUrl: product.imageUrl,
		quantity: clampQuantity(quantity),
	};
	return [...lines, line];
}

export function setQuantity(lines: readonly CartLine[], productId: string, quantity: number): CartLine[] {
	return lines.map((line) => (line.productId === productId ? { ...line, quantity: clampQuantity(quantity) } : line));
}

export function removeLine(lines: readonly CartLine[], productId: string): CartLine[] {
	return lines.filter((line) => line.productId !== productId);
}

/** Keeps name and price current when the catalogue changes under a cart. */
export function refreshLine(lines: readonly CartLine[], product: Product): CartLine[] {
	return lines.map((line) =>
		line.productId === product.id ? { ...line, name: product.name, price: product.price, imageUrl: product.imageUrl } : line,
	);
}

export function lineTotal(line: CartLine): number {
	return line.price * line.quantity;
}

export function cartTotals(lines: readonly CartLine[]): CartTotals {
	return {
		count: lines.reduce((sum, line) => sum + line.quantity, 0),
		subtotal: lines.reduce((sum, line) => sum + lineTotal(line), 0),
		currency: lines[0]?.currency ?? "USD",
	};
}

export function orderItems(lines: readonly CartLine[]): { productId: string; quantity: number }[] {
	return lines.map(({ productId, quantity }) => ({ productId, quantity }));
}

function isCartLine(value: unknown): value is CartLine {
	if (typeof value !== "object" || value === null) return false;
	const line = value as Record<string, unknown>;
	return (
		typeof line.productId === "string" &&
		typeof line.name === "string" &&
		typeof line.currency === "string" &&
		Number.isInteger(line.price) &&
		Number.isInteger(line.quantity)
	);
}

/** Reads a saved cart; storage may hold anything (an old version, another tab's edit, a hand edit). */
export function parseCart(saved: string | null): CartLine[] {
	if (!saved) return [];
	try {
		const parsed: unknown = JSON.parse(saved);
		if (!Array.isArray(parsed)) return [];
		return parsed.filter(isCartLine).map((line) => ({ ...line, quantity: clampQuantity(line.quantity) }));
	} catch {
		return [];
	}
}
