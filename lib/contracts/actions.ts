/**
 * The actions services call on each other: each one's params and reply, declared once, so a call
 * is typed at both ends (`call` in lib/platform/actions.ts) the way events are (lib/contracts/events.ts).
 * The REST routes' own shapes are in docs/api.md; the gateway calls those by name.
 */
import type { Order, OrderLine, ShippingAddress } from "./orders";

/** Stock of one product, as the API shows it: units on sale, units orders wait to pay for, units checkouts hold. */
export interface StockLevel {
	productId: string;
	available: number;
	reserved: number;
	held: number;
	lowStockThreshold: number;
}

/** What a catalogue entry gives an order: the name and the price to copy. */
export interface CatalogueEntry {
	id: string;
	name: string;
	price: number;
	currency: string;
}

/** A checkout's hold on a cart's units, until `expiresAt` (inventory.hold). */
export interface Hold {
	holdId: string;
	items: OrderLine[];
	expiresAt: string;
}

/** A payment as clients and events see it (its provider authorization stays inside payments). */
export interface PaymentView {
	id: string;
	orderId: string;
	userId: string | null;
	amount: number;
	currency: string;
	status: "pending" | "succeeded" | "failed" | "voided" | "refunded";
	cardLast4: string;
	failureReason: string | null;
	createdAt: string | Date;
	updatedAt: string | Date;
}

/** Who an order is for: a signed-in customer, or a guest known by email. */
export type Buyer = { userId: string } | { email: string };

/** What a checkout hands to `orders.checkout`: the cart's lines, where and how they go, and the card. */
export interface CheckoutParams {
	items: OrderLine[];
	shippingAddress: ShippingAddress;
	shippingMethod: string;
	payment: { cardNumber: string };
	buyer: Buyer;
	/** The cart's hold: its units become the order's reservation. */
	holdId?: string;
	/** Repeating a checkout with the same key answers the first order. */
	idempotencyKey?: string;
}

export interface ActionContracts {
	"products.getMany": { params: { ids: string[] }; reply: CatalogueEntry[] };
	"inventory.init": { params: { productId: string; available: number; lowStockThreshold: number }; reply: StockLevel };
	"inventory.setThreshold": { params: { productId: string; lowStockThreshold: number }; reply: StockLevel };
	"inventory.availability": { params: { productIds: string[] }; reply: Record<string, StockLevel> };
	"inventory.reserve": { params: { orderId: string; items: OrderLine[]; holdId?: string }; reply: { orderId: string; items: OrderLine[] } };
	"inventory.release": { params: { orderId: string; items: OrderLine[]; reason: string }; reply: undefined };
	"inventory.hold": { params: { holdId: string; items: OrderLine[]; ttlSeconds?: number }; reply: Hold };
	"inventory.releaseHold": { params: { holdId: string }; reply: undefined };
	"payments.prepare": {
		params: { orderId: string; userId: string | null; amount: number; currency: string; cardNumber: string };
		reply: PaymentView;
	};
	"payments.refund": { params: { orderId: string }; reply: PaymentView | null };
	"orders.checkout": { params: CheckoutParams; reply: Order & { accessToken?: string } };
	"users.exists": { params: { id: string }; reply: boolean };
}

export type ActionName = keyof ActionContracts;
