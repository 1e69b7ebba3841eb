/**
 * The gateway's route table: which REST path calls which action. The router, the `Allow` header
 * and the OpenAPI document are all made from it, so a route added here is served and documented.
 */
import { CART_SECRET_HEADER } from "../../lib/contracts/carts";
import type { Route, RouteExtras } from "./openapi";
import { IDEMPOTENCY_KEY } from "./request-checks";

/** The actions a browser may call over its socket; everything else goes through REST. */
export const SOCKET_ACTIONS = ["orders.changedSince"];

/** The REST routes under /api; the OpenAPI document is derived from these and the actions' params. */
export const ALIASES: Record<string, string> = {
	"GET /health": "api.health",
	"GET /ready": "api.ready",
	"GET /openapi.json": "api.openapi",
	"POST /auth/register": "users.register",
	"POST /auth/login": "users.login",
	"GET /auth/me": "users.me",
	"GET /products": "products.list",
	"GET /products/:id": "products.get",
	"POST /products": "products.create",
	"PATCH /products/:id": "products.update",
	"DELETE /products/:id": "products.remove",
	"GET /inventory/low-stock": "inventory.lowStock",
	"GET /inventory/:productId": "inventory.get",
	"GET /inventory/:productId/movements": "inventory.movements",
	"POST /inventory/:productId/adjust": "inventory.adjust",
	"POST /orders": "orders.place",
	"GET /orders": "orders.list",
	"GET /orders/:id": "orders.get",
	"PATCH /orders/:id/status": "orders.setStatus",
	"POST /orders/:id/cancel": "orders.cancel",
	"POST /carts": "carts.open",
	"GET /carts/:id": "carts.get",
	"PUT /carts/:id/items/:productId": "carts.setItem",
	"PUT /carts/:id/shipping": "carts.setShipping",
	"POST /carts/:id/hold": "carts.hold",
	"POST /carts/:id/checkout": "carts.checkout",
	"GET /shipping/methods": "carts.shippingMethods",
	"GET /payments": "payments.list",
	"GET /stats/sales": "insights.sales",
	"POST /webhooks": "webhooks.create",
	"GET /webhooks": "webhooks.list",
	"DELETE /webhooks/:id": "webhooks.remove",
	"GET /webhooks/:id/deliveries": "webhooks.deliveries",
	"POST /webhooks/:id/deliveries/:deliveryId/retry": "webhooks.retry",
};

/** HEAD is GET without the body (Node drops it): every GET route answers it too. */
export const ROUTER_ALIASES: Record<string, string> = {
	...ALIASES,
	...Object.fromEntries(
		Object.entries(ALIASES)
			.filter(([route]) => route.startsWith("GET "))
			.map(([route, action]) => [`HEAD ${route.slice("GET ".length)}`, action]),
	),
};

export const ROUTES: Route[] = Object.entries(ALIASES).map(([route, action]) => {
	const [method = "", routePath = ""] = route.split(" ");
	return { method, path: routePath, action };
});

/** Guessing passwords or probing emails goes through these; the gateway limits them per IP and per account. */
export const AUTH_ACTIONS = ["users.login", "users.register"];

/** Request headers an action reads, as the OpenAPI document describes them. */
const idempotencyKey = (description: string) => ({ description, schema: { type: "string", pattern: IDEMPOTENCY_KEY.source } });
const cartSecret = {
	description: "A guest's cart: the secret POST /carts gave (a signed-in customer's cart goes by the token)",
	// Any string: one that is no cart's secret finds no cart (404).
	schema: { type: "string" },
};
const CART_ACTIONS = ["carts.get", "carts.setItem", "carts.setShipping", "carts.hold"];

export const REQUEST_HEADERS: RouteExtras["headers"] = {
	"orders.place": { "Idempotency-Key": idempotencyKey("Placing the same body again with the same key returns the first order") },
	"orders.get": {
		"Order-Token": {
			description: "A guest's order: the accessToken its checkout answered with",
			// Any string: one that is no order's token finds no order (404).
			schema: { type: "string" },
		},
	},
	"carts.open": {
		[CART_SECRET_HEADER]: {
			description: "Signing in: the guest cart whose lines move into the account's cart (which is closed then)",
			schema: cartSecret.schema,
		},
	},
	...Object.fromEntries(CART_ACTIONS.map((action) => [action, { [CART_SECRET_HEADER]: cartSecret }])),
	"carts.checkout": {
		[CART_SECRET_HEADER]: cartSecret,
		"Idempotency-Key": idempotencyKey("Checking out again with the same key returns the first order"),
	},
};
