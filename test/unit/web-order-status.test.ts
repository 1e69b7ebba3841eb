import { actionLabel, adminTransitions, BOARD_COLUMNS, canCancel, statusLabel } from "../../frontend/src/lib/order-status";
import { ORDER_STATUSES } from "../../lib/contracts/orders";

describe("web order status controls", () => {
	it("offers an admin only the moves the server accepts", () => {
		expect(adminTransitions("pending")).toEqual(["cancelled"]);
		expect(adminTransitions("confirmed")).toEqual(["processing", "cancelled"]);
		expect(adminTransitions("processing")).toEqual(["shipped", "cancelled"]);
		expect(adminTransitions("shipped")).toEqual(["delivered"]);
		for (const closed of ["delivered", "cancelled", "failed"] as const) expect(adminTransitions(closed)).toEqual([]);
	});

	it("lets a customer cancel before processing, an admin until shipping", () => {
		const customer = ORDER_STATUSES.filter((status) => canCancel(status, "customer"));
		const admin = ORDER_STATUSES.filter((status) => canCancel(status, "admin"));
		expect(customer.sort()).toEqual(["confirmed", "pending"]);
		expect(admin.sort()).toEqual(["confirmed", "pending", "processing"]);
	});

	it("labels every status and every offered move", () => {
		for (const status of ORDER_STATUSES) {
			expect(statusLabel(status)).toMatch(/^[A-Z]/);
			for (const next of adminTransitions(status)) expect(actionLabel(next)).toMatch(/^[A-Z]/);
		}
		expect(actionLabel("processing")).toBe("Start processing");
	});

	it("puts every status in exactly one board column", () => {
		for (const status of ORDER_STATUSES) expect(BOARD_COLUMNS.filter((column) => column.statuses.includes(status))).toHaveLength(1);
	});
});
