import type { OrderStatus, PaymentStatus } from "../../lib/contracts/orders";
import { PushThrottle, STATS_EVENT } from "../../lib/contracts/realtime";
import {
	accountFacts,
	addFigures,
	emptySum,
	type OrderFactsSource,
	orderFacts,
	topProducts,
	totals,
} from "../../lib/contracts/sales-figures";

const at = (minute: number) => new Date(Date.UTC(2026, 10, 29, 10, minute)).toISOString();

function order(
	history: [OrderStatus, number][],
	paymentStatus: PaymentStatus = "pending",
	updated = history.at(-1)?.[1] ?? 0,
): OrderFactsSource {
	return {
		id: "o1",
		items: [
			{ productId: "kettle", name: "Kettle", price: 1000, quantity: 2 },
			{ productId: "cup", name: "Cup", price: 250, quantity: 4 },
		],
		total: 3000,
		paymentStatus,
		history: history.map(([status, minute]) => ({ status, at: at(minute) })),
		createdAt: at(0),
		updatedAt: at(updated),
	};
}

function figuresOf(...snapshots: OrderFactsSource[]) {
	// Facts are keyed: each order event carries the whole order, so later ones repeat earlier facts.
	const unique = new Map(snapshots.flatMap(orderFacts).map((fact) => [fact.key, fact]));
	const sum = emptySum();
	for (const fact of unique.values()) addFigures(sum, fact);
	return { totals: totals(sum), top: topProducts(sum.products.values()) };
}

describe("sales facts of an order", () => {
	it("counts an order once when placed, its revenue and units when paid, dated by the order's own history", () => {
		const placed = order([["pending", 0]]);
		const confirmed = order([
			["pending", 0],
			["confirmed", 59],
		]);
		expect(orderFacts(confirmed).map((fact) => [fact.key, fact.at.toISOString()])).toEqual([
			["placed:o1", at(0)],
			["paid:o1", at(59)],
		]);
		expect(figuresOf(placed, confirmed, confirmed).totals).toEqual({
			orders: 1,
			revenue: 3000,
			cancelled: 0,
			failed: 0,
			averageOrderValue: 3000,
			newCustomers: 0,
		});
		expect(figuresOf(confirmed).top).toEqual([
			{ productId: "kettle", name: "Kettle", units: 2, revenue: 2000 },
			{ productId: "cup", name: "Cup", units: 4, revenue: 1000 },
		]);
	});

	it("a cancel after payment takes the revenue and units back when it happens; a pending cancel only counts", () => {
		const refunded = order(
			[
				["pending", 0],
				["confirmed", 1],
				["cancelled", 30],
			],
			"refunded",
		);
		const back = orderFacts(refunded).find((fact) => fact.key === "takenBack:o1");
		expect(back).toMatchObject({ revenue: -3000, paid: -1, at: new Date(at(30)) });
		expect(figuresOf(refunded)).toEqual({
			totals: { orders: 1, revenue: 0, cancelled: 1, failed: 0, averageOrderValue: 0, newCustomers: 0 },
			top: [],
		});
		const pendingCancel = order([
			["pending", 0],
			["cancelled", 1],
		]);
		expect(figuresOf(pendingCancel).totals).toMatchObject({ orders: 1, revenue: 0, cancelled: 1 });
	});

	it("a declined payment is a failed order without revenue; an operator's refund without a cancel takes revenue back", () => {
		expect(
			figuresOf(
				order([
					["pending", 0],
					["failed", 1],
				]),
			).totals,
		).toMatchObject({ orders: 1, failed: 1, revenue: 0 });
		const refundedOnly = order(
			[
				["pending", 0],
				["confirmed", 1],
			],
			"refunded",
			45,
		);
		expect(orderFacts(refundedOnly).find((fact) => fact.key === "takenBack:o1")?.at).toEqual(new Date(at(45)));
		expect(figuresOf(refundedOnly).totals.revenue).toBe(0);
	});

	it("counts customers, not admins, when their account is made", () => {
		expect(accountFacts({ id: "u1", role: "customer", createdAt: at(5) })).toMatchObject([{ key: "customer:u1", newCustomers: 1 }]);
		expect(accountFacts({ id: "a1", role: "admin", createdAt: at(5) })).toEqual([]);
	});

	it("ranks the five best sellers by revenue, then units", () => {
		const lines = ["a", "b", "c", "d", "e", "f"].map((productId, n) => ({
			productId,
			name: productId,
			units: 1 + (n % 2),
			revenue: 100 * (n % 3),
		}));
		expect(topProducts(lines).map((line) => line.productId)).toEqual(["f", "c", "b", "e", "d"]);
	});
});

describe("push throttle of a gateway", () => {
	beforeEach(() => jest.useFakeTimers());
	afterEach(() => jest.useRealTimers());

	it("sends stats.updated at once, then at most one a second: the newest of those that waited", () => {
		const sent: unknown[] = [];
		const throttle = new PushThrottle((push) => sent.push(push.payload));
		const stats = (n: number) => ({ event: STATS_EVENT, rooms: ["admins"], payload: n });
		throttle.push(stats(1));
		for (let n = 2; n <= 50; n++) throttle.push(stats(n));
		expect(sent).toEqual([1]);
		jest.advanceTimersByTime(1_000);
		expect(sent).toEqual([1, 50]);
		jest.advanceTimersByTime(5_000);
		expect(sent).toEqual([1, 50]);
		throttle.push(stats(51));
		expect(sent).toEqual([1, 50, 51]);
		throttle.stop();
	});

	it("passes every other push straight through", () => {
		const sent: string[] = [];
		const throttle = new PushThrottle((push) => sent.push(push.event));
		for (let n = 0; n < 3; n++) throttle.push({ event: "order.created", rooms: null, payload: n });
		expect(sent).toEqual(["order.created", "order.created", "order.created"]);
	});

	it("emits a push of an event once, however often it comes (a new realtime pod handles again what a crashed one had not committed)", () => {
		const sent: unknown[] = [];
		const throttle = new PushThrottle((push) => sent.push(push.payload));
		for (const [id, payload] of [
			["e1", 1],
			["e2", 2],
			["e1", 1],
			["e2", 2],
			["e3", 3],
		] as const)
			throttle.push({ event: "order.updated", id, rooms: ["admins"], payload });
		expect(sent).toEqual([1, 2, 3]);
	});
});
