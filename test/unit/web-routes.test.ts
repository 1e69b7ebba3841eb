import { guard, matchRoute, safeNext } from "../../frontend/src/lib/routes";

describe("web routes", () => {
	it("matches every page of the app, with its parameters", () => {
		const cases: [string, string, Record<string, string>][] = [
			["/", "catalogue", {}],
			["/products/abc-123", "product", { id: "abc-123" }],
			["/cart", "cart", {}],
			["/checkout", "checkout", {}],
			["/orders", "orders", {}],
			["/orders/o%201", "order", { id: "o 1" }],
			["/orders/", "orders", {}],
			["/login", "login", {}],
			["/admin", "admin", {}],
			["/admin/orders", "admin-orders", {}],
			["/admin/products", "admin-products", {}],
			["/admin/inventory", "admin-inventory", {}],
		];
		for (const [path, name, params] of cases) expect(matchRoute(path)).toMatchObject({ name, params });
	});

	it("sends unknown and malformed paths to not-found", () => {
		for (const path of ["/nope", "/products", "/products/a/b", "/admin/users", "/orders/%E0%A4%A"])
			expect(matchRoute(path).name).toBe("not-found");
	});

	it("lets anyone see public pages and waits for a session being restored", () => {
		expect(guard(matchRoute("/"), { restoring: true, role: null }, "/")).toEqual({ kind: "allow" });
		expect(guard(matchRoute("/orders"), { restoring: true, role: null }, "/orders")).toEqual({ kind: "wait" });
	});

	it("sends visitors to sign in, and back afterwards", () => {
		expect(guard(matchRoute("/orders/1"), { restoring: false, role: null }, "/orders/1?x=1")).toEqual({
			kind: "redirect",
			to: "/login?next=%2Forders%2F1%3Fx%3D1",
		});
	});

	it("keeps customers out of the admin pages", () => {
		expect(guard(matchRoute("/admin/orders"), { restoring: false, role: "customer" }, "/admin/orders")).toEqual({
			kind: "redirect",
			to: "/",
			reason: "admins-only",
		});
		expect(guard(matchRoute("/admin/orders"), { restoring: false, role: "admin" }, "/admin/orders")).toEqual({ kind: "allow" });
		expect(guard(matchRoute("/checkout"), { restoring: false, role: "customer" }, "/checkout")).toEqual({ kind: "allow" });
	});

	it("lets a guest check out, and read only the orders this browser placed", () => {
		expect(guard(matchRoute("/checkout"), { restoring: false, role: null }, "/checkout")).toEqual({ kind: "allow" });
		const guest = { restoring: false, role: null, guestOrders: ["o1"] };
		expect(guard(matchRoute("/orders/o1"), guest, "/orders/o1")).toEqual({ kind: "allow" });
		expect(guard(matchRoute("/orders/o1"), { ...guest, restoring: true }, "/orders/o1")).toEqual({ kind: "allow" });
		expect(guard(matchRoute("/orders/o2"), guest, "/orders/o2")).toEqual({ kind: "redirect", to: "/login?next=%2Forders%2Fo2" });
		expect(guard(matchRoute("/orders"), guest, "/orders")).toEqual({ kind: "redirect", to: "/login?next=%2Forders" });
	});

	it("returns after sign-in only to a path on this site", () => {
		expect(safeNext("/orders/1")).toBe("/orders/1");
		expect(safeNext(null)).toBe("/");
		for (const next of ["https://evil.example", "//evil.example", "/\\evil.example", "javascript:alert(1)"])
			expect(safeNext(next)).toBe("/");
	});
});
