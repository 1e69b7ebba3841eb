/** The app's URLs and who may open them; pure, so routing decisions are unit-tested in Node. */
import type { Role } from "../api/types";

export type RouteName =
	| "catalogue"
	| "product"
	| "cart"
	| "checkout"
	| "orders"
	| "order"
	| "login"
	| "admin"
	| "admin-orders"
	| "admin-products"
	| "admin-inventory"
	| "admin-webhooks"
	| "admin-webhook"
	| "not-found";

/** `signed-in`: any account; `guest-order`: an account, or a guest holding the order's access token; `admin`: the admin role only. */
export type Access = "public" | "signed-in" | "guest-order" | "admin";

interface RouteDefinition {
	name: RouteName;
	pattern: string;
	access: Access;
	title: string;
}

export interface Route {
	name: RouteName;
	params: Record<string, string>;
	access: Access;
	title: string;
}

const ROUTES: readonly RouteDefinition[] = [
	{ name: "catalogue", pattern: "/", access: "public", title: "Shop" },
	{ name: "product", pattern: "/products/:id", access: "public", title: "Product" },
	{ name: "cart", pattern: "/cart", access: "public", title: "Your cart" },
	{ name: "checkout", pattern: "/checkout", access: "public", title: "Checkout" },
	{ name: "orders", pattern: "/orders", access: "signed-in", title: "Your orders" },
	{ name: "order", pattern: "/orders/:id", access: "guest-order", title: "Order" },
	{ name: "login", pattern: "/login", access: "public", title: "Sign in" },
	{ name: "admin", pattern: "/admin", access: "admin", title: "Dashboard" },
	{ name: "admin-orders", pattern: "/admin/orders", access: "admin", title: "Orders board" },
	{ name: "admin-products", pattern: "/admin/products", access: "admin", title: "Products" },
	{ name: "admin-inventory", pattern: "/admin/inventory", access: "admin", title: "Inventory" },
	{ name: "admin-webhooks", pattern: "/admin/webhooks", access: "admin", title: "Webhooks" },
	{ name: "admin-webhook", pattern: "/admin/webhooks/:id", access: "admin", title: "Webhook deliveries" },
];

const segments = (path: string) => path.split("/").filter(Boolean);

function matchPattern(pattern: string, path: string): Record<string, string> | null {
	const expected = segments(pattern);
	const actual = segments(path);
	if (expected.length !== actual.length) return null;
	const params: Record<string, string> = {};
	for (const [i, part] of expected.entries()) {
		const value = actual[i] ?? "";
		if (part.startsWith(":")) {
			try {
				params[part.slice(1)] = decodeURIComponent(value);
			} catch {
				return null; // a malformed escape such as "%E0" names no resource
			}
		} else if (part !== value) {
			return null;
		}
	}
	return params;
}

/** The route for a pathname; a trailing slash is ignored, an unknown path is `not-found`. */
export function matchRoute(pathname: string): Route {
	for (const { pattern, ...route } of ROUTES) {
		const params = matchPattern(pattern, pathname);
		if (params) return { ...route, params };
	}
	return { name: "not-found", params: {}, access: "public", title: "Page not found" };
}

export function isAdminRoute(route: Route): boolean {
	return route.access === "admin";
}

export type GuardDecision =
	| { kind: "allow" }
	/** The session is still being restored: decide once it is known. */
	| { kind: "wait" }
	| { kind: "redirect"; to: string; reason?: "admins-only" };

export interface SessionView {
	restoring: boolean;
	role: Role | null;
	/** The orders this browser placed as a guest and can read by their access tokens. */
	guestOrders?: readonly string[];
}

/** Whether the current visitor may see a route; `location` is where to come back to after signing in. */
export function guard(route: Route, session: SessionView, location: string): GuardDecision {
	if (route.access === "public") return { kind: "allow" };
	// A guest's own order needs no account, even while a saved session is still being checked.
	if (route.access === "guest-order" && route.params.id && session.guestOrders?.includes(route.params.id)) return { kind: "allow" };
	if (session.restoring) return { kind: "wait" };
	if (!session.role) return { kind: "redirect", to: `/login?next=${encodeURIComponent(location)}` };
	if (route.access === "admin" && session.role !== "admin") return { kind: "redirect", to: "/", reason: "admins-only" };
	return { kind: "allow" };
}

/**
 * Where to go after signing in: only a path on this site, so a crafted link such as
 * /login?next=https://evil.example cannot send a fresh session elsewhere.
 */
export function safeNext(next: string | null, fallback = "/"): string {
	if (!next?.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return fallback;
	return next;
}
