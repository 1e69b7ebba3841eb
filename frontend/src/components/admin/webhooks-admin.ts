import { css, html, LitElement, nothing } from "lit";
import { customElement, state } from "lit/decorators.js";
import { repeat } from "lit/directives/repeat.js";
import { DOMAIN_EVENTS } from "../../../../lib/contracts/events";
import { ApiError } from "../../api/client";
import type { DomainEventType, NewWebhook, Webhook } from "../../api/types";
import { formatDateTime } from "../../lib/format";
import { type FieldErrors, missingMessage } from "../../lib/problems";
import { apiContext, toastContext } from "../../state/contexts";
import { use } from "../../state/controllers";
import "../shared/confirm-button";
import { focusFirstInvalid, inputField } from "../shared/form-field";
import { Loader } from "../shared/loader";
import { base, buttons, forms } from "../shared/styles";

/** The events an integrator usually wants first: an order's story. */
const SUGGESTED: readonly DomainEventType[] = ["order.created", "order.updated", "order.cancelled"];

/**
 * Webhook endpoints: admins add a receiver URL for some domain events, see its signing secret
 * once, open its delivery log, or delete it.
 */
@customElement("agora-webhooks-admin")
export class WebhooksAdmin extends LitElement {
	static override styles = [
		base,
		buttons,
		forms,
		css`
			.layout {
				display: grid;
				gap: var(--agora-space-5);
			}
			.events {
				display: grid;
				grid-template-columns: repeat(auto-fill, minmax(11rem, 1fr));
				gap: var(--agora-space-2) var(--agora-space-4);
			}
			.events label {
				display: flex;
				align-items: center;
				min-height: 2.25rem;
				gap: var(--agora-space-2);
				font-weight: 400;
				font-family: ui-monospace, monospace;
				font-size: 0.875rem;
			}
			/* A thumb's target: the label around it takes the tap too. */
			.events input {
				width: 1.25rem;
				height: 1.25rem;
				min-height: auto;
				margin: 0;
			}
			.secret {
				border-left: 6px solid var(--agora-accent);
			}
			.secret input {
				font-family: ui-monospace, monospace;
			}
			ul.endpoints {
				display: grid;
				gap: var(--agora-space-3);
				margin: 0;
				padding: 0;
				list-style: none;
			}
			.endpoint {
				display: grid;
				gap: var(--agora-space-2);
			}
			.url {
				font-weight: 700;
				overflow-wrap: anywhere;
			}
			.types {
				font-family: ui-monospace, monospace;
				font-size: 0.8125rem;
				overflow-wrap: anywhere;
			}
			.actions {
				display: flex;
				flex-wrap: wrap;
				gap: var(--agora-space-2);
			}
		`,
	];

	@state() private errors: FieldErrors = {};
	@state() private formError = "";
	@state() private busy = false;
	/** The endpoint just made, whose secret is on screen until the admin dismisses it. */
	@state() private created: NewWebhook | null = null;

	readonly #api = use(this, apiContext);
	readonly #toasts = use(this, toastContext);
	readonly #hooks = new Loader<Webhook[]>(this, () => this.#api.value.webhooks.list());

	override connectedCallback(): void {
		super.connectedCallback();
		void this.#hooks.run();
	}

	override render() {
		return html`<div class="layout">
			${this.created ? this.#secret(this.created) : nothing}
			<section class="card" aria-labelledby="new-heading">
				<h2 id="new-heading">New webhook</h2>
				<p class="muted">Agora sends each chosen event to this URL as a signed POST, and tries again for a while if it does not answer with a 2xx.</p>
				${this.#form()}
			</section>
			<section aria-labelledby="list-heading">
				<h2 id="list-heading">Webhooks</h2>
				${this.#hooks.render((hooks) => this.#list(hooks), "Loading webhooks…")}
			</section>
		</div>`;
	}

	#secret(hook: NewWebhook) {
		return html`<section class="card secret" role="status" aria-labelledby="secret-heading">
			<h2 id="secret-heading">Webhook added: copy its secret now</h2>
			<p>Your receiver checks each call's <code>Agora-Signature</code> with this secret. It is shown only this once.</p>
			<div class="field">
				<label for="secret">Signing secret for ${hook.url}</label>
				<input id="secret" readonly .value=${hook.secret} @focus=${(event: FocusEvent) => (event.target as HTMLInputElement).select()} />
			</div>
			<p><button class="button" type="button" @click=${() => (this.created = null)}>I have saved the secret</button></p>
		</section>`;
	}

	#form() {
		return html`<form novalidate @submit=${this.#submit} aria-busy=${this.busy ? "true" : "false"}>
			${this.formError ? html`<p class="form-error" role="alert">${this.formError}</p>` : nothing}
			${inputField({
				name: "url",
				label: "Receiver URL",
				type: "url",
				required: true,
				hint: "A public http:// or https:// address, such as https://example.com/hooks/agora.",
				error: this.errors.url,
			})}
			<fieldset aria-describedby=${this.errors.events ? "events-error" : nothing}>
				<legend>Events</legend>
				<div class="events">
					${DOMAIN_EVENTS.map(
						(type) =>
							html`<label><input type="checkbox" name="events" value=${type} ?checked=${SUGGESTED.includes(type)} />${type}</label>`,
					)}
				</div>
				${this.errors.events ? html`<p class="field-error" id="events-error">${this.errors.events}</p>` : nothing}
			</fieldset>
			<div><button class="button primary" type="submit" ?disabled=${this.busy}>Add webhook</button></div>
		</form>`;
	}

	#list(hooks: readonly Webhook[]) {
		if (hooks.length === 0)
			return html`<agora-state-panel kind="empty" heading="No webhooks yet">
				<p>Add one above to tell another system what happens in the shop.</p>
			</agora-state-panel>`;
		return html`<ul class="endpoints">
			${repeat(
				hooks,
				(hook) => hook.id,
				(hook) => html`<li class="card endpoint">
					<span class="url">${hook.url}</span>
					<span class="types">${hook.events.join(", ")}</span>
					<span class="muted">Added ${formatDateTime(hook.createdAt)}</span>
					<div class="actions">
						<a class="button small" href="/admin/webhooks/${encodeURIComponent(hook.id)}">Deliveries<span class="sr-only"> to ${hook.url}</span></a>
						<agora-confirm-button small label="Delete" question="Delete this webhook and its log?" confirmLabel="Yes, delete" keepLabel="Keep"
							@confirm=${() => this.#delete(hook)}></agora-confirm-button>
					</div>
				</li>`,
			)}
		</ul>`;
	}

	#submit = async (event: SubmitEvent) => {
		event.preventDefault();
		const form = event.target as HTMLFormElement;
		const data = new FormData(form);
		const url = String(data.get("url") ?? "").trim();
		const events = data.getAll("events").map(String) as DomainEventType[];
		const errors: FieldErrors = {};
		if (!url) errors.url = missingMessage("url");
		if (events.length === 0) errors.events = missingMessage("events");
		this.errors = errors;
		this.formError = "";
		if (Object.keys(errors).length > 0) {
			await this.updateComplete;
			focusFirstInvalid(this.shadowRoot);
			return;
		}
		this.busy = true;
		try {
			this.created = await this.#api.value.webhooks.create(url, events);
			form.reset();
			await this.#hooks.run();
			await this.updateComplete;
			this.renderRoot.querySelector<HTMLInputElement>("#secret")?.focus();
		} catch (error) {
			this.errors = error instanceof ApiError ? error.fieldErrors : {};
			this.formError =
				Object.keys(this.errors).length > 0
					? "Please correct the highlighted fields."
					: error instanceof Error
						? error.message
						: "The webhook could not be added.";
			await this.updateComplete;
			focusFirstInvalid(this.shadowRoot);
		} finally {
			this.busy = false;
		}
	};

	async #delete(hook: Webhook): Promise<void> {
		try {
			await this.#api.value.webhooks.remove(hook.id);
			this.#hooks.patch((hooks) => hooks.filter((row) => row.id !== hook.id));
			if (this.created?.id === hook.id) this.created = null;
			this.#toasts.value.show(`The webhook to ${hook.url} was deleted.`, "success");
		} catch (error) {
			this.#toasts.value.error(error, "The webhook could not be deleted.");
		}
	}
}

declare global {
	interface HTMLElementTagNameMap {
		"agora-webhooks-admin": WebhooksAdmin;
	}
}
