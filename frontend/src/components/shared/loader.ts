import { html, type ReactiveControllerHost, type TemplateResult } from "lit";
import "./state-panel";

/**
 * Data a component fetches, with its loading and error states. Only the latest request counts,
 * so answers that overtake each other (quick paging, a changed id) never show stale data.
 */
export class Loader<T> {
	readonly #host: ReactiveControllerHost;
	readonly #fetch: () => Promise<T>;
	#request = 0;

	value: T | undefined;
	loading = false;
	error: Error | null = null;

	constructor(host: ReactiveControllerHost, fetch: () => Promise<T>) {
		this.#host = host;
		this.#fetch = fetch;
	}

	async run(): Promise<void> {
		const request = ++this.#request;
		this.loading = true;
		this.#host.requestUpdate();
		try {
			const value = await this.#fetch();
			if (request !== this.#request) return;
			this.value = value;
			this.error = null;
		} catch (error) {
			if (request !== this.#request) return;
			this.error = error instanceof Error ? error : new Error(String(error));
		} finally {
			if (request === this.#request) {
				this.loading = false;
				this.#host.requestUpdate();
			}
		}
	}

	/** Applies a live change to the loaded value. */
	patch(change: (value: T) => T): void {
		if (this.value === undefined) return;
		const next = change(this.value);
		if (next === this.value) return;
		this.value = next;
		this.#host.requestUpdate();
	}

	/**
	 * The loaded value, or the loading or error panel. A reload keeps showing the previous value,
	 * so the page does not flash while a filter changes. Needs the host's `buttons` styles.
	 */
	render(ready: (value: T) => TemplateResult, loadingLabel = "Loading…"): TemplateResult {
		if (this.error && !this.loading)
			return html`<agora-state-panel kind="error" heading=${this.error.message}>
				<button class="button" type="button" @click=${() => this.run()}>Try again</button>
			</agora-state-panel>`;
		if (this.value === undefined) return html`<agora-state-panel kind="loading" heading=${loadingLabel}></agora-state-panel>`;
		return ready(this.value);
	}
}
