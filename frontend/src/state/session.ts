import type { ApiClient } from "../api/client";
import type { User } from "../api/types";
import { Store } from "./store";

export interface SessionState {
	/** A saved token is being checked against the server; guarded pages wait for the answer. */
	restoring: boolean;
	user: User | null;
	token: string | null;
}

const TOKEN_KEY = "agora.token";

/** Who is signed in. The token is kept in localStorage so a reload or a new tab stays signed in. */
export class SessionStore extends Store<SessionState> {
	readonly #api: ApiClient;
	readonly #storage: Storage;

	constructor(api: ApiClient, storage: Storage) {
		const token = storage.getItem(TOKEN_KEY);
		super({ restoring: token !== null, user: null, token });
		this.#api = api;
		this.#storage = storage;
	}

	get user(): User | null {
		return this.value.user;
	}

	get token(): string | null {
		return this.value.token;
	}

	/** Whether this visitor may buy: everyone but admins, whom the API refuses an order. */
	get canBuy(): boolean {
		return this.value.user?.role !== "admin";
	}

	/** Checks the saved token; an expired or revoked one signs out quietly. */
	async restore(): Promise<void> {
		if (!this.value.token) return;
		try {
			const user = await this.#api.auth.me();
			this.set({ ...this.value, restoring: false, user });
		} catch {
			this.signOut();
		}
	}

	async signIn(email: string, password: string): Promise<User> {
		const { user, token } = await this.#api.auth.login(email, password);
		this.#start(user, token);
		return user;
	}

	async register(fields: { email: string; password: string; name: string }): Promise<User> {
		const { user, token } = await this.#api.auth.register(fields);
		this.#start(user, token);
		return user;
	}

	signOut(): void {
		this.#storage.removeItem(TOKEN_KEY);
		this.set({ restoring: false, user: null, token: null });
	}

	#start(user: User, token: string): void {
		this.#storage.setItem(TOKEN_KEY, token);
		this.set({ restoring: false, user, token });
	}
}
