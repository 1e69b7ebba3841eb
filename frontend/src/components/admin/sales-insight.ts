import { css, html, LitElement } from "lit";
import { customElement, state } from "lit/decorators.js";
import type { SalesFigures, SalesTotals } from "../../api/types";
import { debounce } from "../../lib/debounce";
import { formatMoney } from "../../lib/format";
import {
	type Change,
	type ChartSpan,
	cancellationRate,
	chartQuery,
	pointChange,
	relativeChange,
	todayQuery,
} from "../../lib/sales-periods";
import { apiContext, liveContext } from "../../state/contexts";
import { LiveSubscription, use } from "../../state/controllers";
import { Loader } from "../shared/loader";
import { base, buttons, tables, tileGrid } from "../shared/styles";

const SPANS: readonly { span: ChartSpan; label: string; period: string }[] = [
	{ span: "24h", label: "24 hours", period: "the last 24 hours" },
	{ span: "30d", label: "30 days", period: "the last 30 days" },
];

interface Tile {
	label: string;
	value: string;
	change: Change;
	/** A rise is bad news (cancellations): the colours swap. */
	lowerIsBetter?: boolean;
}

const percent = new Intl.NumberFormat(undefined, { style: "percent", maximumFractionDigits: 1 });

function tiles(now: SalesTotals, before: SalesTotals): Tile[] {
	return [
		{ label: "Revenue", value: formatMoney(now.revenue), change: relativeChange(now.revenue, before.revenue) },
		{ label: "Orders", value: String(now.orders), change: relativeChange(now.orders, before.orders) },
		{
			label: "Average order",
			value: formatMoney(now.averageOrderValue),
			change: relativeChange(now.averageOrderValue, before.averageOrderValue),
		},
		{ label: "New customers", value: String(now.newCustomers), change: relativeChange(now.newCustomers, before.newCustomers) },
		{
			label: "Cancellation rate",
			value: percent.format(cancellationRate(now)),
			change: pointChange(cancellationRate(now), cancellationRate(before)),
			lowerIsBetter: true,
		},
	];
}

/**
 * Today's sales against the same hours yesterday, a chart of orders and revenue (24 hours by the
 * hour, or 30 days by the day) and the best sellers. Everything is fetched again when the server
 * says the figures changed (`stats.updated`, at most once a second), so it moves as orders happen.
 */
@customElement("agora-sales-insight")
export class SalesInsight extends LitElement {
	static override styles = [
		base,
		buttons,
		tables,
		tileGrid,
		css`
			/* Five tiles, amounts among them and a change line under each: narrower, smaller figures that may wrap. */
			.kpis {
				grid-template-columns: repeat(auto-fit, minmax(9.5rem, 1fr));
				margin-bottom: var(--agora-space-4);
			}
			.kpi {
				padding: var(--agora-space-3) var(--agora-space-4);
			}
			.kpi strong {
				font-size: 1.6rem;
				line-height: 1.1;
				overflow-wrap: anywhere;
			}
			.change {
				font-size: 0.875rem;
				font-weight: 600;
			}
			.good {
				color: var(--agora-accent-strong);
			}
			.bad {
				color: var(--agora-danger);
			}
			.chart-head {
				display: flex;
				flex-wrap: wrap;
				align-items: center;
				justify-content: space-between;
				gap: var(--agora-space-2);
				margin-bottom: var(--agora-space-3);
			}
			.chart-head h2 {
				margin: 0;
			}
			.toggle {
				display: inline-flex;
				gap: var(--agora-space-1);
			}
			.toggle .button[aria-pressed="true"] {
				background: var(--agora-accent);
				color: var(--agora-on-accent);
				border-color: var(--agora-accent);
			}
			.chart-placeholder {
				height: 16rem;
			}
			details {
				margin-top: var(--agora-space-3);
			}
			summary {
				cursor: pointer;
				color: var(--agora-accent-strong);
			}
			.insight {
				display: grid;
				gap: var(--agora-space-4);
				align-items: start;
				margin-bottom: var(--agora-space-5);
			}
			@media (min-width: 60rem) {
				.insight {
					grid-template-columns: minmax(0, 2fr) minmax(0, 1fr);
				}
			}
		`,
	];

	readonly #api = use(this, apiContext);
	readonly #live = use(this, liveContext);
	#unwatchLive: (() => void) | undefined;
	@state() private span: ChartSpan = "24h";
	@state() private chartReady = false;

	readonly #today = new Loader<SalesFigures>(this, () => this.#api.value.stats.sales(todayQuery()));
	readonly #chart = new Loader<SalesFigures>(this, () => this.#api.value.stats.sales(chartQuery(this.span)));

	constructor() {
		super();
		const refresh = debounce(() => this.#load(), 250);
		new LiveSubscription(this, { "stats.updated": refresh });
	}

	override connectedCallback(): void {
		super.connectedCallback();
		this.#load();
		// Pushes sent while the connection was down are gone: fetch the figures again once it is back.
		let before = this.#live.value.state;
		this.#unwatchLive = this.#live.value.subscribe((state) => {
			if (state === "connected" && before !== "connected") this.#load();
			before = state;
		});
		// Chart.js stays out of the shop's bundle: only this page asks for it.
		void import("./sales-chart").then(() => {
			this.chartReady = true;
		});
	}

	override disconnectedCallback(): void {
		super.disconnectedCallback();
		this.#unwatchLive?.();
		this.#unwatchLive = undefined;
	}

	#load(): void {
		void this.#today.run();
		void this.#chart.run();
	}

	#show(span: ChartSpan): void {
		if (span === this.span) return;
		this.span = span;
		void this.#chart.run();
	}

	override render() {
		const period = SPANS.find((entry) => entry.span === this.span)?.period ?? "";
		return html`<section aria-labelledby="today-heading">
				<h2 id="today-heading">Today <span class="muted">· against the same hours yesterday</span></h2>
				${this.#today.render((figures) => this.#kpis(figures))}
			</section>
			<div class="insight">
				<section class="card chart-card" aria-labelledby="chart-heading">
					<div class="chart-head">
						<h2 id="chart-heading">Orders and revenue</h2>
						<div class="toggle" role="group" aria-label="Period">
							${SPANS.map(
								({ span, label }) =>
									html`<button class="button small" type="button" aria-pressed=${span === this.span ? "true" : "false"} @click=${() => this.#show(span)}>
										${label}
									</button>`,
							)}
						</div>
					</div>
					${this.#chart.render((figures) => this.#chartView(figures, period))}
				</section>
				<section class="card" aria-labelledby="top-heading">
					<h2 id="top-heading">Top products <span class="muted">· ${period}</span></h2>
					${this.#chart.render((figures) => this.#top(figures))}
				</section>
			</div>`;
	}

	#kpis(figures: SalesFigures) {
		return html`<ul class="tiles kpis">
			${tiles(figures.totals, figures.previous).map(({ label, value, change, lowerIsBetter }) => {
				const good = change.direction === (lowerIsBetter ? "down" : "up");
				const tone = change.direction === "same" ? "muted" : good ? "good" : "bad";
				const arrow = change.direction === "up" ? "▲" : change.direction === "down" ? "▼" : "";
				return html`<li class="card tile kpi">
					<span>${label}</span>
					<strong data-kpi=${label}>${value}</strong>
					<span class="change ${tone}"><span aria-hidden="true">${arrow}</span> ${change.text}<span class="sr-only"> against the same hours yesterday</span></span>
				</li>`;
			})}
		</ul>`;
	}

	#chartView(figures: SalesFigures, period: string) {
		const bucket = this.span === "24h" ? "hour" : "day";
		const { orders, revenue } = figures.totals;
		const summary = `Chart of orders and revenue per ${bucket} over ${period}: ${orders} orders, ${formatMoney(revenue)} in all. The table below lists each ${bucket}.`;
		return html`${
			this.chartReady
				? html`<agora-sales-chart .buckets=${figures.buckets} bucket=${bucket} summary=${summary}></agora-sales-chart>`
				: html`<div class="chart-placeholder" aria-hidden="true"></div>`
		}
			<details>
				<summary>Figures per ${bucket} as a table</summary>
				<div class="table-wrap">
					<table>
						<caption class="sr-only">Orders, revenue and cancellations per ${bucket} over ${period}</caption>
						<thead>
							<tr>
								<th scope="col">${bucket === "hour" ? "Hour from" : "Day"}</th>
								<th scope="col" class="number">Orders</th>
								<th scope="col" class="number">Revenue</th>
								<th scope="col" class="number">Cancelled</th>
							</tr>
						</thead>
						<tbody>
							${figures.buckets.map(
								(row) => html`<tr>
									<th scope="row">${this.#when(row.at, bucket)}</th>
									<td class="number">${row.orders}</td>
									<td class="number">${formatMoney(row.revenue)}</td>
									<td class="number">${row.cancelled}</td>
								</tr>`,
							)}
						</tbody>
					</table>
				</div>
			</details>`;
	}

	#when(at: string, bucket: "hour" | "day"): string {
		const options: Intl.DateTimeFormatOptions =
			bucket === "hour" ? { weekday: "short", hour: "2-digit", minute: "2-digit" } : { weekday: "short", month: "short", day: "numeric" };
		return new Intl.DateTimeFormat(undefined, options).format(new Date(at));
	}

	#top(figures: SalesFigures) {
		if (figures.topProducts.length === 0) return html`<p class="muted">No paid orders in this period.</p>`;
		return html`<div class="table-wrap">
			<table>
				<thead>
					<tr><th scope="col">Product</th><th scope="col" class="number">Units</th><th scope="col" class="number">Revenue</th></tr>
				</thead>
				<tbody>
					${figures.topProducts.map(
						(row) => html`<tr>
							<td><a href="/products/${encodeURIComponent(row.productId)}">${row.name}</a></td>
							<td class="number">${row.units}</td>
							<td class="number">${formatMoney(row.revenue)}</td>
						</tr>`,
					)}
				</tbody>
			</table>
		</div>`;
	}
}

declare global {
	interface HTMLElementTagNameMap {
		"agora-sales-insight": SalesInsight;
	}
}
