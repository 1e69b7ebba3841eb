import { cancellationRate, chartQuery, pointChange, relativeChange, todayQuery } from "../../frontend/src/lib/sales-periods";

describe("web sales periods and changes", () => {
	const now = new Date(2026, 10, 29, 14, 20);

	it("today runs from local midnight to the end of the current hour; the chart spans 24 hours or 30 days", () => {
		expect(todayQuery(now)).toEqual({
			from: new Date(2026, 10, 29).toISOString(),
			to: new Date(2026, 10, 29, 15).toISOString(),
			bucket: "hour",
		});
		const hours = chartQuery("24h", now);
		expect(new Date(hours.to).getTime() - new Date(hours.from).getTime()).toBe(24 * 3_600_000);
		expect(hours.bucket).toBe("hour");
		expect(chartQuery("30d", now)).toEqual({
			from: new Date(2026, 9, 31).toISOString(),
			to: new Date(2026, 10, 30).toISOString(),
			bucket: "day",
		});
	});

	it("says how a figure moved against the period before", () => {
		expect(relativeChange(120, 100)).toEqual({ direction: "up", text: "+20%" });
		expect(relativeChange(97, 100)).toEqual({ direction: "down", text: "−3%" });
		expect(relativeChange(5, 0)).toEqual({ direction: "up", text: "new" });
		expect(relativeChange(0, 0)).toEqual({ direction: "same", text: "no change" });
		expect(pointChange(0.25, 0.1)).toEqual({ direction: "up", text: "+15 pts" });
		expect(pointChange(0.1, 0.1)).toEqual({ direction: "same", text: "no change" });
		expect(cancellationRate({ orders: 4, cancelled: 1, revenue: 0, failed: 0, averageOrderValue: 0, newCustomers: 0 })).toBe(0.25);
	});
});
