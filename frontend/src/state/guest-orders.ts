import { Store } from "./store";

const ORDERS_KEY = "agora.guest-orders";

/** Order ids to the access tokens that read them. */
type Tokens = Readonly<Record<string, string>>;

function parseTokens(saved: string | null): Tokens {
	if (!saved) return {};
	try {
		const parsed: unknown = JSON.parse(saved);
		if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return {};
		return Object.fromEntries(Object.entries(parsed).filter((entry): entry is [string, string] => typeof entry[1] === "string"));
	} catch {
		return {};
	}
}

/**
 * The orders this browser placed as a guest, with their access tokens: kept in localStorage, so a
 * guest's confirmation page still reads and follows the order after a reload or in a new tab.
 */
export class GuestOrderStore extends Store<Tokens> {
	readonly #storage: Storage;
	#followed: string | null = null;

	constructor(storage: Storage) {
		super(parseTokens(storage.getItem(ORDERS_KEY)));
		this.#storage = storage;
	}

	tokenOf(orderId: string): string | null {
		return this.value[orderId] ?? null;
	}

	/** The access token the live connection follows an order with, when nobody is signed in. */
	get followed(): string | null {
		return this.#followed;
	}

	/** Follows `orderId` live (null: none); true when that changed, so the connection must start again. */
	follow(orderId: string | null): boolean {
		const token = orderId === null ? null : this.tokenOf(orderId);
		if (token === this.#followed) return false;
		this.#followed = token;
		return true;
	}

	remember(orderId: string, accessToken: string): void {
		this.set({ ...this.value, [orderId]: accessToken });
		this.#storage.setItem(ORDERS_KEY, JSON.stringify(this.value));
	}
}
