/**
 * The orders-and-revenue chart of the admin overview. It carries Chart.js, so the overview loads
 * this module with a dynamic import: the shop's pages never download it. Chart.js draws on a
 * canvas and sizes it through the CSSOM only (no style attributes, no injected stylesheet), which
 * the gateway's CSP (style-src 'self') allows. A canvas says nothing to a screen reader: the
 * overview shows the same figures as a table.
 */
import {
	BarController,
	BarElement,
	CategoryScale,
	Chart,
	type ChartConfiguration,
	Legend,
	LinearScale,
	LineController,
	LineElement,
	PointElement,
	Tooltip,
} from "chart.js";
import { css, html, LitElement, type PropertyValues } from "lit";
import { customElement, property, query } from "lit/decorators.js";
import type { SalesBucket } from "../../api/types";
import { formatMoney, toMajorUnits } from "../../lib/format";

Chart.register(BarController, BarElement, LineController, LineElement, PointElement, CategoryScale, LinearScale, Tooltip, Legend);

const hourLabel = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dayLabel = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });

/** A bucket's start as the axis shows it: the hour, or the day. */
export function bucketLabel(at: string, bucket: "hour" | "day"): string {
	return (bucket === "hour" ? hourLabel : dayLabel).format(new Date(at));
}

@customElement("agora-sales-chart")
export class SalesChart extends LitElement {
	static override styles = css`
		:host {
			display: block;
		}
		.frame {
			position: relative;
			height: 16rem;
		}
	`;

	@property({ attribute: false }) buckets: SalesBucket[] = [];
	@property() bucket: "hour" | "day" = "hour";
	@property() currency = "USD";
	/** What the chart shows, in words, for screen readers (the canvas is an image to them). */
	@property() summary = "";

	@query("canvas") private canvas!: HTMLCanvasElement;
	#chart: Chart<"bar" | "line", number[], string> | null = null;

	override render() {
		return html`<div class="frame"><canvas role="img" aria-label=${this.summary}></canvas></div>`;
	}

	protected override updated(changed: PropertyValues<this>): void {
		if (!changed.has("buckets") && !changed.has("bucket")) return;
		const labels = this.buckets.map((bucket) => bucketLabel(bucket.at, this.bucket));
		const orders = this.buckets.map((bucket) => bucket.orders);
		const revenue = this.buckets.map((bucket) => Number(toMajorUnits(bucket.revenue, this.currency)));
		if (this.#chart) {
			this.#chart.data.labels = labels;
			const [ordersSet, revenueSet] = this.#chart.data.datasets;
			if (ordersSet) ordersSet.data = orders;
			if (revenueSet) revenueSet.data = revenue;
			this.#chart.update();
			return;
		}
		this.#chart = new Chart(this.canvas, this.#config(labels, orders, revenue));
	}

	override disconnectedCallback(): void {
		super.disconnectedCallback();
		this.#chart?.destroy();
		this.#chart = null;
	}

	#config(labels: string[], orders: number[], revenue: number[]): ChartConfiguration<"bar" | "line", number[], string> {
		const theme = getComputedStyle(this);
		const color = (name: string, fallback: string) => theme.getPropertyValue(name).trim() || fallback;
		const accent = color("--agora-accent", "#2e6a4f");
		const info = color("--agora-info", "#1e5786");
		const muted = color("--agora-text-muted", "#545e58");
		const cents = (index: number) => this.buckets[index]?.revenue ?? 0;
		const axisMoney = new Intl.NumberFormat(undefined, { style: "currency", currency: this.currency, maximumFractionDigits: 0 });
		return {
			type: "bar",
			data: {
				labels,
				datasets: [
					{ type: "bar", label: "Orders", data: orders, backgroundColor: accent, yAxisID: "orders", order: 2 },
					{
						type: "line",
						label: "Revenue",
						data: revenue,
						borderColor: info,
						backgroundColor: info,
						pointRadius: 2,
						yAxisID: "revenue",
						order: 1,
					},
				],
			},
			options: {
				responsive: true,
				maintainAspectRatio: false,
				animation: window.matchMedia("(prefers-reduced-motion: reduce)").matches ? false : { duration: 300 },
				interaction: { mode: "index", intersect: false },
				plugins: {
					legend: { labels: { color: muted, boxWidth: 12 } },
					tooltip: {
						callbacks: {
							label: (item) =>
								item.dataset.yAxisID === "revenue"
									? `Revenue: ${formatMoney(cents(item.dataIndex), this.currency)}`
									: `Orders: ${item.raw}`,
						},
					},
				},
				scales: {
					x: { ticks: { color: muted, maxRotation: 0, autoSkipPadding: 8 }, grid: { display: false } },
					orders: { position: "left", beginAtZero: true, ticks: { color: muted, precision: 0 } },
					revenue: {
						position: "right",
						beginAtZero: true,
						grid: { drawOnChartArea: false },
						ticks: { color: muted, callback: (value) => axisMoney.format(Number(value)) },
					},
				},
			},
		};
	}
}

declare global {
	interface HTMLElementTagNameMap {
		"agora-sales-chart": SalesChart;
	}
}
