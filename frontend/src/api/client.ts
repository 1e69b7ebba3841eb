/** A thin typed client for the REST API (docs/api.md). */
import { type FieldErrors, fieldErrors } from "../lib/problems";
import type {
	AuthResult,
	Cart,
	CartShipping,
	Delivery,
	DeliveryPage,
	DeliveryStatus,
	DomainEventType,
	ErrorBody,
	Inventory,
	InventoryAdjustment,
	NewCart,
	NewWebhook,
	Order,
	OrderStatus,
	Page,
	PlacedOrder,
	Product,
	ProductInput,
	ProductQuery,
	SalesFigures,
	SalesQuery,
	ShippingOption,
	User,
	Webhook,
} from "./types";

export class ApiError extends Error {
	constructor(
		readonly status: number,
		readonly body: ErrorBody,
	) {
		super(body.message);
		this.name = "ApiError";
	}

	get fieldErrors(): FieldErrors {
		return this.status === 422 || this.status === 409 ? fieldErrors(this.body) : {};
	}
}

type Query = Record<string, string | number | undefined>;

interface RequestOptions {
	body?: unknown;
	query?: Query;
	headers?: Record<string, string>;
}

export interface ApiClientOptions {
	token: () => string | null;
	/** A signed-in request was refused as unauthenticated: the token expired or its account is gone. */
	onUnauthorized?: () => void;
	base?: string;
}

function withQuery(path: string, query: Query = {}): string {
	const params = new URLSearchParams();
	for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== "") params.set(key, String(value));
	const search = params.toString();
	return search ? `${path}?${search}` : path;
}

const id = (value: string) => encodeURIComponent(value);

/** A cart by its id; a guest's carries the secret POST /carts gave, a signed-in customer's the token alone. */
export interface CartKey {
	id: string;
	secret?: string;
}

const cartHeaders = (key: { secret?: string }): Record<string, string> => (key.secret ? { "cart-secret": key.secret } : {});

export class ApiClient {
	readonly #options: ApiClientOptions;

	constructor(options: ApiClientOptions) {
		this.#options = options;
	}

	async request<T>(method: string, path: string, { body, query, headers = {} }: RequestOptions = {}): Promise<T> {
		const token = this.#options.token();
		const init: RequestInit = {
			method,
			headers: {
				accept: "application/json",
				...(body === undefined ? {} : { "content-type": "application/json" }),
				...(token ? { authorization: `Bearer ${token}` } : {}),
				...headers,
			},
			body: body === undefined ? undefined : JSON.stringify(body),
		};
		let res: Response;
		try {
			res = await fetch(withQuery(`${this.#options.base ?? "/api"}${path}`, query), init);
		} catch {
			throw new ApiError(0, { name: "NetworkError", message: "Agora can't be reached. Check your connection and try again.", code: 0 });
		}
		const text = await res.text();
		const parsed: unknown = text ? safeJson(text) : undefined;
		if (res.ok) return parsed as T;
		if (res.status === 401 && token) this.#options.onUnauthorized?.();
		throw new ApiError(
			res.status,
			isErrorBody(parsed) ? parsed : { name: "HttpError", message: fallbackMessage(res.status), code: res.status },
		);
	}

	readonly auth = {
		login: (email: string, password: string) => this.request<AuthResult>("POST", "/auth/login", { body: { email, password } }),
		register: (fields: { email: string; password: string; name: string }) =>
			this.request<AuthResult>("POST", "/auth/register", { body: fields }),
		me: () => this.request<User>("GET", "/auth/me"),
	};

	readonly products = {
		list: (query: ProductQuery = {}) => this.request<Page<Product>>("GET", "/products", { query: { ...query } }),
		get: (productId: string) => this.request<Product>("GET", `/products/${id(productId)}`),
		create: (input: ProductInput) => this.request<Product>("POST", "/products", { body: input }),
		update: (productId: string, changes: Partial<Omit<ProductInput, "stock">>) =>
			this.request<Product>("PATCH", `/products/${id(productId)}`, { body: changes }),
		remove: (productId: string) => this.request<void>("DELETE", `/products/${id(productId)}`),
	};

	readonly inventory = {
		get: (productId: string) => this.request<Inventory>("GET", `/inventory/${id(productId)}`),
		adjust: (productId: string, adjustment: InventoryAdjustment) =>
			this.request<Inventory>("POST", `/inventory/${id(productId)}/adjust`, { body: adjustment }),
		lowStock: () => this.request<Inventory[]>("GET", "/inventory/low-stock"),
	};

	readonly orders = {
		list: (query: { status?: OrderStatus; page?: number; pageSize?: number } = {}) =>
			this.request<Page<Order>>("GET", "/orders", { query: { ...query } }),
		/** A guest reads their order with its access token instead of signing in. */
		get: (orderId: string, accessToken?: string) =>
			this.request<Order>("GET", `/orders/${id(orderId)}`, { headers: accessToken ? { "order-token": accessToken } : {} }),
		setStatus: (orderId: string, status: OrderStatus) =>
			this.request<Order>("PATCH", `/orders/${id(orderId)}/status`, { body: { status } }),
		cancel: (orderId: string) => this.request<Order>("POST", `/orders/${id(orderId)}/cancel`),
	};

	readonly carts = {
		/**
		 * A guest's new cart, or a signed-in customer's one open cart. Signed in with a guest cart's
		 * secret, the guest cart's lines move into the account's cart, which is answered.
		 */
		open: (guestSecret?: string) => this.request<NewCart>("POST", "/carts", { headers: cartHeaders({ secret: guestSecret }) }),
		get: (key: CartKey) => this.request<Cart>("GET", `/carts/${id(key.id)}`, { headers: cartHeaders(key) }),
		/** Sets a line's quantity; 0 removes it. */
		setQuantity: (key: CartKey, productId: string, quantity: number) =>
			this.request<Cart>("PUT", `/carts/${id(key.id)}/items/${id(productId)}`, { body: { quantity }, headers: cartHeaders(key) }),
		setShipping: (key: CartKey, shipping: CartShipping) =>
			this.request<Cart>("PUT", `/carts/${id(key.id)}/shipping`, { body: shipping, headers: cartHeaders(key) }),
		/** Holds the cart's units for the checkout; asking again extends the hold. */
		hold: (key: CartKey) => this.request<Cart>("POST", `/carts/${id(key.id)}/hold`, { headers: cartHeaders(key) }),
		/** The key makes a retried submit (a double click, a timeout) return the first order instead of a second one. */
		checkout: (key: CartKey, body: { payment: { cardNumber: string }; email?: string }, idempotencyKey: string) =>
			this.request<PlacedOrder>("POST", `/carts/${id(key.id)}/checkout`, {
				body,
				headers: { ...cartHeaders(key), "idempotency-key": idempotencyKey },
			}),
	};

	readonly shipping = {
		methods: (country: string) => this.request<ShippingOption[]>("GET", "/shipping/methods", { query: { country } }),
	};

	readonly webhooks = {
		list: () => this.request<Webhook[]>("GET", "/webhooks"),
		create: (url: string, events: DomainEventType[]) => this.request<NewWebhook>("POST", "/webhooks", { body: { url, events } }),
		remove: (webhookId: string) => this.request<void>("DELETE", `/webhooks/${id(webhookId)}`),
		deliveries: (webhookId: string, query: { status?: DeliveryStatus; page?: number; pageSize?: number } = {}) =>
			this.request<DeliveryPage>("GET", `/webhooks/${id(webhookId)}/deliveries`, { query: { ...query } }),
		retry: (webhookId: string, deliveryId: string) =>
			this.request<Delivery>("POST", `/webhooks/${id(webhookId)}/deliveries/${id(deliveryId)}/retry`),
	};

	readonly stats = {
		sales: (query: SalesQuery) => this.request<SalesFigures>("GET", "/stats/sales", { query: { ...query } }),
	};
}

function safeJson(text: string): unknown {
	try {
		return JSON.parse(text);
	} catch {
		return text;
	}
}

function isErrorBody(value: unknown): value is ErrorBody {
	return typeof value === "object" && value !== null && typeof (value as ErrorBody).message === "string";
}

function fallbackMessage(status: number): string {
	if (status === 429) return "Too many requests. Wait a moment and try again.";
	if (status >= 500) return "Something went wrong on our side. Try again in a moment.";
	return "That did not work. Reload the page and try again.";
}
