/** The shapes of the REST API and Socket.IO events (docs/api.md, docs/events.md) that the web app reads. */

import type { StockLevel } from "../../../lib/contracts/actions";
import type { Cart, CartHold, CartLine, NewGuestCart } from "../../../lib/contracts/carts";
import type { ErrorBody, FieldProblem } from "../../../lib/contracts/errors";
import type { DomainEventType, EventPayloads } from "../../../lib/contracts/events";
import type {
	Order as ContractOrder,
	HistoryEntry,
	OrderStatus,
	ShippingAddress,
	ShippingCharge,
	TaxCharge,
} from "../../../lib/contracts/orders";
import type { ProductFigures, SalesAnswer, SalesQuery, StatsPush, Totals } from "../../../lib/contracts/sales-figures";

export type { DomainEventType, ErrorBody, FieldProblem, OrderStatus, ShippingAddress, ShippingCharge, TaxCharge };

export type Role = "customer" | "admin";

export interface User {
	id: string;
	email: string;
	name: string;
	role: Role;
	createdAt?: string;
}

export interface AuthResult {
	user: User;
	token: string;
}

export interface Product {
	id: string;
	name: string;
	sku: string;
	/** Minor units (cents). */
	price: number;
	currency?: string;
	category: string;
	description?: string;
	imageUrl?: string | null;
	lowStockThreshold?: number;
	/** Available units, from the inventory; pushes of product changes may leave it out. */
	stock?: number;
	createdAt?: string;
	updatedAt?: string;
}

export interface ProductInput {
	name: string;
	sku: string;
	price: number;
	category: string;
	description?: string;
	imageUrl?: string | null;
	stock?: number;
	lowStockThreshold?: number;
}

export interface Page<T> {
	rows: T[];
	total: number;
	page: number;
	pageSize: number;
	totalPages: number;
}

export type ProductSort = "price" | "-price" | "name" | "-name" | "newest";

export interface ProductQuery {
	q?: string;
	category?: string;
	page?: number;
	pageSize?: number;
	sort?: ProductSort;
}

/** Stock of one product (GET /inventory/:productId). */
export type Inventory = StockLevel;

export type InventoryAdjustment = { delta: number; reason: string } | { set: number; reason: string };

/** An order as the API answers it and its pushes carry it: the contract's one Order, its times as ISO strings. */
export type Order = Omit<ContractOrder, "history" | "createdAt" | "updatedAt"> & {
	history: (Omit<HistoryEntry, "at"> & { at: string })[];
	createdAt: string;
	updatedAt: string;
};
export type OrderItem = Order["items"][number];
export type OrderHistoryEntry = Order["history"][number];

/** POST /carts/:id/checkout answers a guest's order with the token that reads and follows it (`Order-Token`). */
export type PlacedOrder = Order & { accessToken?: string };

/** A cart as the API answers it and `cart.updated` pushes it: the contract's own. */
export type { Cart, CartHold, CartLine };

/** POST /carts answers a guest's new cart with the secret that names it from then on (`Cart-Secret`). */
export type NewCart = Cart & Partial<Pick<NewGuestCart, "secret">>;

/** Where and how a cart ships (PUT /carts/:id/shipping); a guest gives the email the order goes to. */
export interface CartShipping {
	address: ShippingAddress;
	method: string;
	email?: string;
}

/** A way to ship to one country (GET /shipping/methods?country=...). */
export interface ShippingOption {
	id: string;
	name: string;
	price: number;
	currency: string;
	/** Days to deliver, for people ("3-5"). */
	days: string;
}

/** Inventory pushes: the event contract's payloads (everyone sees only the available units). */
export type InventoryChange = Pick<EventPayloads["inventory.updated"], "productId" | "available">;
export type LowStockAlert = EventPayloads["inventory.low-stock"];

/** GET /stats/sales and `stats.updated`: the insights service's own shapes. */
export type SalesFigures = SalesAnswer;
export type SalesTotals = Totals;
export type SalesBucket = SalesAnswer["buckets"][number];
export type TopProduct = ProductFigures;
export type StatsUpdate = StatsPush;
export type { SalesQuery };

/** A webhook endpoint as GET /webhooks lists it: never with its secret. */
export interface Webhook {
	id: string;
	url: string;
	events: DomainEventType[];
	createdAt: string;
}

/** POST /webhooks answers the new endpoint with the secret that signs its deliveries, this once. */
export interface NewWebhook extends Webhook {
	secret: string;
}

export type DeliveryStatus = "pending" | "delivered" | "failed";

export interface Delivery {
	id: string;
	eventId: string;
	type: DomainEventType;
	status: DeliveryStatus;
	attempts: number;
	lastStatusCode: number | null;
	lastError: string | null;
	nextAttemptAt: string | null;
	deliveredAt: string | null;
}

export interface DeliveryPage {
	rows: Delivery[];
	total: number;
}
