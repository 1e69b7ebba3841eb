import { css, html, LitElement, nothing, type PropertyValues } from "lit";
import { customElement, property, state } from "lit/decorators.js";
import { repeat } from "lit/directives/repeat.js";
import type { Delivery, DeliveryPage, DeliveryStatus, Webhook } from "../../api/types";
import { formatDateTime } from "../../lib/format";
import { apiContext, toastContext } from "../../state/contexts";
import { use } from "../../state/controllers";
import { Loader } from "../shared/loader";
import "../shared/pager";
import { base, buttons } from "../shared/styles";

const PAGE_SIZE = 20;

const FILTERS: readonly { status: DeliveryStatus | null; label: string }[] = [
	{ status: null, label: "All" },
	{ status: "pending", label: "Pending" },
	{ status: "delivered", label: "Delivered" },
	{ status: "failed", label: "Failed" },
];

const STATUS_LABELS: Record<DeliveryStatus, string> = { pending: "Pending", delivered: "Delivered", failed: "Failed" };

interface Query {
	status: DeliveryStatus | null;
	page: number;
}

function readQuery(search: string): Query {
	const params = new URLSearchParams(search);
	const status = FILTERS.find((filter) => filter.status === params.get("status"))?.status ?? null;
	const page = Number(params.get("page"));
	return { status, page: Number.isInteger(page) && page > 1 ? page : 1 };
}

/** What the receiver last said, in words. */
function lastAnswer(delivery: Delivery): string {
	if (delivery.lastError) return delivery.lastError;
	if (delivery.lastStatusCode !== null) return `Answered ${delivery.lastStatusCode}`;
	return "Not tried yet";
}

/** One webhook's delivery log: each event sent to it, how its tries went, and a retry for those that did not arrive. */
@customElement("agora-webhook-deliveries")
export class WebhookDeliveries extends LitElement {
	static override styles = [
		base,
		buttons,
		css`
			.url {
				overflow-wrap: anywhere;
			}
			nav ul {
				display: flex;
				flex-wrap: wrap;
				gap: var(--agora-space-2);
				margin: 0 0 var(--agora-space-4);
				padding: 0;
				list-style: none;
			}
			nav a[aria-current="page"] {
				color: var(--agora-on-accent);
				background: var(--agora-accent);
				border-color: var(--agora-accent);
			}
			ul.log {
				display: grid;
				gap: var(--agora-space-3);
				margin: 0;
				padding: 0;
				list-style: none;
			}
			.delivery {
				display: grid;
				grid-template-columns: minmax(0, 1fr) auto;
				gap: var(--agora-space-2) var(--agora-space-4);
				align-items: center;
			}
			.type {
				font-family: ui-monospace, monospace;
				font-weight: 700;
				overflow-wrap: anywhere;
			}
			.badge {
				justify-self: end;
				padding: 0.125rem 0.625rem;
				font-size: 0.8125rem;
				font-weight: 700;
				border-radius: 999px;
				color: var(--agora-warning);
				background: var(--agora-warning-soft);
			}
			.badge.delivered {
				color: var(--agora-accent-strong);
				background: var(--agora-accent-soft);
			}
			.badge.failed {
				color: var(--agora-danger);
				background: var(--agora-danger-soft);
			}
			.details {
				grid-column: 1 / -1;
				display: flex;
				flex-wrap: wrap;
				gap: var(--agora-space-1) var(--agora-space-4);
				margin: 0;
				font-size: 0.875rem;
			}
			.details dt {
				font-weight: 700;
			}
			.details dd {
				margin: 0;
				overflow-wrap: anywhere;
			}
			.details div {
				display: flex;
				gap: var(--agora-space-1);
				min-width: 0;
			}
			.retry {
				grid-column: 1 / -1;
			}
		`,
	];

	@property() webhookId = "";
	@property() search = "";
	/** Deliveries being sent again from this page. */
	@state() private retrying: ReadonlySet<string> = new Set();

	readonly #api = use(this, apiContext);
	readonly #toasts = use(this, toastContext);
	readonly #webhook = new Loader<Webhook | null>(this, async () => {
		const hooks = await this.#api.value.webhooks.list();
		return hooks.find((hook) => hook.id === this.webhookId) ?? null;
	});
	readonly #log = new Loader<DeliveryPage>(this, () => {
		const { status, page } = readQuery(this.search);
		return this.#api.value.webhooks.deliveries(this.webhookId, { status: status ?? undefined, page, pageSize: PAGE_SIZE });
	});

	protected override willUpdate(changed: PropertyValues<this>): void {
		if (changed.has("webhookId")) void this.#webhook.run();
		if (changed.has("webhookId") || changed.has("search")) void this.#log.run();
	}

	override render() {
		return this.#webhook.render((hook) => {
			if (!hook)
				return html`<agora-state-panel kind="empty" heading="This webhook does not exist any more">
					<a href="/admin/webhooks">Back to the webhooks</a>
				</agora-state-panel>`;
			return html`<div class="page-head">
					<h2>Deliveries to <span class="url">${hook.url}</span></h2>
					<div>
						<a class="button small" href="/admin/webhooks">All webhooks</a>
						<button class="button small" type="button" @click=${() => this.#log.run()}>Refresh</button>
					</div>
				</div>
				${this.#filters()} ${this.#log.render((page) => this.#list(page), "Loading deliveries…")}`;
		}, "Loading the webhook…");
	}

	#href(status: DeliveryStatus | null, page = 1): string {
		const params = new URLSearchParams();
		if (status) params.set("status", status);
		if (page > 1) params.set("page", String(page));
		const query = params.toString();
		return `/admin/webhooks/${encodeURIComponent(this.webhookId)}${query ? `?${query}` : ""}`;
	}

	#filters() {
		const current = readQuery(this.search).status;
		return html`<nav aria-label="Show deliveries">
			<ul>
				${FILTERS.map(
					(filter) =>
						html`<li><a class="button small" href=${this.#href(filter.status)} aria-current=${filter.status === current ? "page" : "false"}>${filter.label}</a></li>`,
				)}
			</ul>
		</nav>`;
	}

	#list(page: DeliveryPage) {
		const { status, page: number } = readQuery(this.search);
		if (page.rows.length === 0)
			return html`<agora-state-panel kind="empty" heading=${status ? `No ${STATUS_LABELS[status].toLowerCase()} deliveries` : "Nothing sent yet"}>
				<p>Deliveries appear here as the events this webhook asked for happen.</p>
			</agora-state-panel>`;
		return html`<ul class="log" aria-label="Deliveries">
				${repeat(
					page.rows,
					(delivery) => delivery.id,
					(delivery) => this.#row(delivery),
				)}
			</ul>
			<agora-pager .page=${number} .totalPages=${Math.max(1, Math.ceil(page.total / PAGE_SIZE))} .href=${(n: number) => this.#href(status, n)}></agora-pager>`;
	}

	#row(delivery: Delivery) {
		const when = delivery.deliveredAt
			? ["Delivered", formatDateTime(delivery.deliveredAt)]
			: delivery.nextAttemptAt
				? ["Next try", formatDateTime(delivery.nextAttemptAt)]
				: null;
		return html`<li class="card delivery" aria-label="${delivery.type}, ${STATUS_LABELS[delivery.status]}">
			<span class="type">${delivery.type}</span>
			<span class="badge ${delivery.status}">${STATUS_LABELS[delivery.status]}</span>
			<dl class="details">
				<div><dt>Tries</dt><dd>${delivery.attempts}</dd></div>
				<div><dt>Last answer</dt><dd>${lastAnswer(delivery)}</dd></div>
				${when ? html`<div><dt>${when[0]}</dt><dd>${when[1]}</dd></div>` : nothing}
				<div><dt>Delivery</dt><dd class="muted">${delivery.id}</dd></div>
			</dl>
			${
				delivery.status === "delivered"
					? nothing
					: html`<div class="retry">
						<button class="button small" type="button" ?disabled=${this.retrying.has(delivery.id)} @click=${() => this.#retry(delivery)}>
							Send again now<span class="sr-only"> (${delivery.type})</span>
						</button>
					</div>`
			}
		</li>`;
	}

	async #retry(delivery: Delivery): Promise<void> {
		this.retrying = new Set(this.retrying).add(delivery.id);
		try {
			const pending = await this.#api.value.webhooks.retry(this.webhookId, delivery.id);
			this.#log.patch((page) => ({ ...page, rows: page.rows.map((row) => (row.id === pending.id ? pending : row)) }));
			this.#toasts.value.show(`The ${delivery.type} event is being sent again. Refresh to see how it went.`, "success");
		} catch (error) {
			this.#toasts.value.error(error, "The delivery could not be sent again.");
		} finally {
			const rest = new Set(this.retrying);
			rest.delete(delivery.id);
			this.retrying = rest;
		}
	}
}

declare global {
	interface HTMLElementTagNameMap {
		"agora-webhook-deliveries": WebhookDeliveries;
	}
}
