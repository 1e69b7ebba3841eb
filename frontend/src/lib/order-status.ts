/**
 * The order lifecycle as the UI presents it. Which moves are legal comes from the server's own
 * rules (lib/contracts/orders.ts at the repository root), so the board can never offer a move the API refuses.
 */
import { ADMIN_TRANSITIONS, canCancel, type OrderStatus } from "../../../lib/contracts/orders";

export { canCancel };

/** The happy path, for the progress line on an order page. */
export const FULFILMENT_STEPS: readonly OrderStatus[] = ["pending", "confirmed", "processing", "shipped", "delivered"];

/** Board columns, left to right; the two ways an order ends early share the last one. */
export const BOARD_COLUMNS: readonly { title: string; statuses: readonly OrderStatus[] }[] = [
	{ title: "Pending", statuses: ["pending"] },
	{ title: "Confirmed", statuses: ["confirmed"] },
	{ title: "Processing", statuses: ["processing"] },
	{ title: "Shipped", statuses: ["shipped"] },
	{ title: "Delivered", statuses: ["delivered"] },
	{ title: "Cancelled or failed", statuses: ["cancelled", "failed"] },
];

const LABELS: Record<OrderStatus, string> = {
	pending: "Pending",
	confirmed: "Confirmed",
	processing: "Processing",
	shipped: "Shipped",
	delivered: "Delivered",
	cancelled: "Cancelled",
	failed: "Payment failed",
};

/**
 * What a button that moves an order into the status says, for the statuses ADMIN_TRANSITIONS leads
 * to: an order starts `pending`, and `confirmed` and `failed` are the payment's verdict, never a move.
 */
const ACTIONS: Partial<Record<OrderStatus, string>> = {
	processing: "Start processing",
	shipped: "Mark shipped",
	delivered: "Mark delivered",
	cancelled: "Cancel order",
};

export function statusLabel(status: OrderStatus): string {
	return LABELS[status];
}

export function actionLabel(status: OrderStatus): string | undefined {
	return ACTIONS[status];
}

/** The statuses an admin may move an order to: the only buttons the board shows. */
export function adminTransitions(status: OrderStatus): readonly OrderStatus[] {
	return ADMIN_TRANSITIONS[status];
}
