import type { Order } from "../../frontend/src/api/types";
import { upsertOrder } from "../../frontend/src/lib/order-list";

describe("web live order lists", () => {
	const order = (id: string, status: Order["status"], updatedAt: string, createdAt = updatedAt): Order => ({
		id,
		userId: "u",
		items: [],
		subtotal: 0,
		shipping: null,
		tax: null,
		total: 0,
		paymentStatus: "pending",
		shippingAddress: { name: "Ann", line1: "1 Main St", city: "Springfield", postalCode: "12345", country: "US" },
		cardLast4: "4242",
		currency: "USD",
		status,
		history: [],
		createdAt,
		updatedAt,
	});

	it("adds new orders newest first, and only where asked", () => {
		const list = [order("a", "pending", "2026-01-01T10:00:00Z")];
		const next = upsertOrder(list, order("b", "pending", "2026-01-01T11:00:00Z"));
		expect(next.map((o) => o.id)).toEqual(["b", "a"]);
		expect(upsertOrder(list, order("b", "pending", "2026-01-01T11:00:00Z"), { insert: false })).toBe(list);
	});

	it("takes newer versions and ignores late or replayed older ones", () => {
		const list = [order("a", "processing", "2026-01-01T12:00:00Z", "2026-01-01T10:00:00Z")];
		expect(upsertOrder(list, order("a", "confirmed", "2026-01-01T11:00:00Z"))).toBe(list);
		expect(upsertOrder(list, order("a", "shipped", "2026-01-01T13:00:00Z"))[0]?.status).toBe("shipped");
		// An optimistic copy keeps the server's timestamp, so undoing it is accepted.
		expect(upsertOrder(list, { ...list[0], status: "cancelled" } as Order)[0]?.status).toBe("cancelled");
	});
});
