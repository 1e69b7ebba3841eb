import { hostname, userInfo } from "node:os";
import { Errors, type ReplOptions, type ServiceBroker } from "moleculer";
import { getBorderCharacters, table } from "table";
import type { StockLevel } from "../contracts/actions";
import { formatMoney } from "../contracts/money";
import { ADMIN_TRANSITIONS, ORDER_STATUSES, type Order, type OrderStatus } from "../contracts/orders";
import { deadLetterTopic } from "../platform/dead-letters";
import { DELIVERY_STATUSES, type DeliveryStatus } from "../platform/delivery-queue";
import type { Settings } from "../platform/settings";
import type { AuthUser } from "../platform/tokens";

/**
 * The operators' daily jobs as moleculer-repl commands (`help` lists them, `help <command>` shows
 * the details). Each one calls the same actions as the REST API, as an admin named after the
 * operator's login, so an order's history and the stock ledger show who did what from the REPL.
 */

interface Movement {
	at: string;
	kind: string;
	delta: number;
	available: number;
	reserved: number;
	held: number;
	reason: string;
	by: string;
	orderId: string | null;
	holdId: string | null;
}

/** An open cart as `carts.list` answers it for operators. */
interface CartRow {
	id: string;
	userId: string | null;
	items: { quantity: number }[];
	total: number;
	currency: string;
	hold: { expiresAt: string; seconds: number } | null;
	holdId: string | null;
	updatedAt: string;
}

interface Product {
	id: string;
	name: string;
	sku: string;
}

interface Webhook {
	id: string;
	url: string;
	events: string[];
	createdAt: string;
}

interface Delivery {
	id: string;
	eventId: string;
	type: string;
	status: DeliveryStatus;
	attempts: number;
	lastStatusCode: number | null;
	lastError: string | null;
	nextAttemptAt: string | null;
	deliveredAt: string | null;
}

/** What moleculer-repl hands an action: declared arguments by name, flags under `options`. */
interface CommandArgs {
	options: Record<string, string | boolean | undefined>;
	[argument: string]: unknown;
}

interface Command {
	command: string;
	description: string;
	options?: { option: string; description: string }[];
	action(broker: ServiceBroker, args: CommandArgs): Promise<void>;
}

function operator(): AuthUser {
	const login = userInfo().username;
	return { id: `operator:${login}`, email: `${login}@${hostname()}`, role: "admin" };
}

function print(text: string): void {
	process.stdout.write(`${text}\n`);
}

/** Calls an action as the operator, with the same checks as the REST API. */
function callAsOperator<T>(broker: ServiceBroker, action: string, params: Record<string, unknown> = {}): Promise<T> {
	return broker.call<T, Record<string, unknown>>(action, params, { meta: { user: operator() } });
}

/** A table with a header row, in plain ASCII so it reads the same in any terminal and log. */
function grid(header: string[], rows: (string | number)[][]): string {
	return table([header, ...rows.map((row) => row.map(String))], {
		border: getBorderCharacters("ramac"),
		drawHorizontalLine: (line, count) => line === 0 || line === 1 || line === count,
	}).trimEnd();
}

/** A rebuild reads every event or order there is: far longer than a request may take. */
const REBUILD_TIMEOUT_MS = 30 * 60_000;

const money = (minor: number, currency: string) => formatMoney(minor, currency, "en-US");
const when = (at: string | Date) => new Date(at).toISOString().replace("T", " ").slice(0, 19);
const signed = (n: number) => (n > 0 ? `+${n}` : String(n));

/** An action's refusal as one readable line (plus the failing fields), instead of a stack trace. */
function explain(err: unknown): string {
	if (err instanceof Errors.ValidationError && Array.isArray(err.data)) {
		const fields = (err.data as { field?: string; message?: string }[]).map((field) => `  ${field.field}: ${field.message}`);
		return [`Error: ${err.message}`, ...fields].join("\n");
	}
	if (err instanceof Errors.MoleculerError) {
		const allowed = (err.data as { allowed?: string[] } | undefined)?.allowed;
		const hint = allowed ? ` (allowed from here: ${allowed.length > 0 ? allowed.join(", ") : "none"})` : "";
		return `Error: ${err.message}${hint} [${err.code} ${err.type}]`;
	}
	return `Error: ${err instanceof Error ? err.message : String(err)}`;
}

function positiveInt(value: unknown, name: string, fallback: number, max: number): number {
	if (value === undefined) return fallback;
	const n = Number(value);
	if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`--${name} must be a whole number from 1 to ${max}, got "${value}"`);
	return n;
}

function deliveryStatus(value: unknown): DeliveryStatus | undefined {
	if (value === undefined) return undefined;
	const status = DELIVERY_STATUSES.find((known) => known === value);
	if (!status) throw new Error(`Unknown delivery status "${value}": use one of ${DELIVERY_STATUSES.join(", ")}`);
	return status;
}

function orderStatus(value: unknown): OrderStatus {
	const status = ORDER_STATUSES.find((known) => known === value);
	if (!status) throw new Error(`Unknown status "${value}": use one of ${ORDER_STATUSES.join(", ")}`);
	return status;
}

/** `+5` or `5` adds, `-3` takes away, `=20` sets the available units. */
function parseChange(change: string): { delta: number } | { set: number } {
	const set = /^=(\d+)$/.exec(change);
	if (set) return { set: Number(set[1]) };
	if (/^[+-]?\d+$/.test(change)) return { delta: Number(change) };
	throw new Error(`Change "${change}" is not +N, -N or =N (e.g. +10 to add, -2 to remove, =25 to set)`);
}

async function productNames(broker: ServiceBroker, ids: string[]): Promise<Map<string, string>> {
	if (ids.length === 0) return new Map();
	const products = await callAsOperator<Product[]>(broker, "products.getMany", { ids });
	return new Map(products.map((product) => [product.id, product.name]));
}

function orderView(order: Order): string {
	const { shippingAddress: to } = order;
	const next = ADMIN_TRANSITIONS[order.status];
	return [
		grid(
			["ORDER", order.id],
			[
				["status", order.status],
				["next (order-status)", next.length > 0 ? next.join(", ") : "none: final"],
				["payment", order.paymentStatus],
				["customer", order.userId ?? `guest ${order.email}`],
				["total", money(order.total, order.currency)],
				["ship to", `${to.name}, ${to.line1}, ${to.postalCode} ${to.city}, ${to.country}`],
				["created", when(order.createdAt)],
				["updated", when(order.updatedAt)],
			],
		),
		grid(
			["PRODUCT", "NAME", "QTY", "PRICE", "SUBTOTAL"],
			order.items.map((item) => [
				item.productId,
				item.name,
				item.quantity,
				money(item.price, order.currency),
				money(item.price * item.quantity, order.currency),
			]),
		),
		grid(
			["AT (UTC)", "STATUS", "BY", "NOTE"],
			order.history.map((entry) => [when(entry.at), entry.status, entry.by, entry.note ?? ""]),
		),
	].join("\n");
}

const COMMANDS: Command[] = [
	{
		command: "orders [status]",
		description: `List orders, newest first, optionally of one status (${ORDER_STATUSES.join(", ")})`,
		options: [
			{ option: "-n, --limit <count>", description: "orders per page (1-100, default 20)" },
			{ option: "-p, --page <page>", description: "page number (default 1)" },
		],
		async action(broker, args) {
			const pageSize = positiveInt(args.options.limit, "limit", 20, 100);
			const page = positiveInt(args.options.page, "page", 1, 100_000);
			const status = args.status === undefined ? undefined : orderStatus(args.status);
			const result = await callAsOperator<{ rows: Order[]; total: number; totalPages: number }>(broker, "orders.list", {
				status,
				page,
				pageSize,
			});
			const what = status ? `${status} order(s)` : "order(s)";
			if (result.total === 0) return print(`No ${what}.`);
			if (result.rows.length === 0) return print(`Page ${page} is past the last page (${result.totalPages}) of ${result.total} ${what}.`);
			print(
				grid(
					["ORDER", "STATUS", "CUSTOMER", "ITEMS", "TOTAL", "UPDATED (UTC)"],
					result.rows.map((order) => [
						order.id,
						order.status,
						order.userId ?? "guest",
						order.items.reduce((sum, item) => sum + item.quantity, 0),
						money(order.total, order.currency),
						when(order.updatedAt),
					]),
				),
			);
			print(`Page ${page} of ${result.totalPages}: ${result.total} ${what} in all.`);
		},
	},
	{
		command: "order <id>",
		description: "Show an order: status, what may come next, lines and its full history",
		async action(broker, args) {
			print(orderView(await callAsOperator<Order>(broker, "orders.get", { id: args.id })));
		},
	},
	{
		command: "order-status <id> <status>",
		description: "Move an order on (processing, shipped, delivered) or cancel it; stock and refunds follow as from the admin app",
		async action(broker, args) {
			const order = await callAsOperator<Order>(broker, "orders.setStatus", { id: args.id, status: orderStatus(args.status) });
			print(`Order ${order.id} is now ${order.status} (by ${operator().id}).`);
			print(orderView(order));
		},
	},
	{
		command: "stock <productId>",
		description: "Show a product's stock and its latest stock movements",
		options: [{ option: "-n, --limit <count>", description: "movements to show (1-500, default 10)" }],
		async action(broker, args) {
			const limit = positiveInt(args.options.limit, "limit", 10, 500);
			const level = await callAsOperator<StockLevel>(broker, "inventory.get", { productId: args.productId });
			const movements = await callAsOperator<Movement[]>(broker, "inventory.movements", { productId: level.productId, limit });
			const name = (await productNames(broker, [level.productId])).get(level.productId) ?? "(no such product any more)";
			print(
				grid(
					["PRODUCT", "NAME", "AVAILABLE", "RESERVED", "HELD", "LOW-STOCK AT"],
					[[level.productId, name, level.available, level.reserved, level.held, level.lowStockThreshold]],
				),
			);
			print(
				grid(
					["AT (UTC)", "KIND", "CHANGE", "AVAILABLE", "RESERVED", "HELD", "REASON", "BY"],
					movements.map((move) => [
						when(move.at),
						move.kind,
						signed(move.delta),
						move.available,
						move.reserved,
						move.held,
						move.orderId ? `${move.reason} (${move.orderId})` : move.holdId ? `${move.reason} (hold ${move.holdId})` : move.reason,
						move.by,
					]),
				),
			);
		},
	},
	{
		command: "stock-adjust <productId> <change> <reason>",
		description: 'Change available stock: +N adds, -N removes, =N sets; the reason goes into the ledger (quote it: "damaged in transit")',
		async action(broker, args) {
			const change = parseChange(String(args.change));
			const level = await callAsOperator<StockLevel>(broker, "inventory.adjust", {
				productId: args.productId,
				reason: args.reason,
				...change,
			});
			const name = (await productNames(broker, [level.productId])).get(level.productId) ?? level.productId;
			print(`Stock of ${name}: ${level.available} available, ${level.reserved} reserved (by ${operator().id}: "${args.reason}").`);
		},
	},
	{
		command: "carts",
		description: "List open carts, last changed first: whose, how many units, the total, and the hold on their units with its time left",
		options: [{ option: "-n, --limit <count>", description: "carts to show (1-500, default 20)" }],
		async action(broker, args) {
			const limit = positiveInt(args.options.limit, "limit", 20, 500);
			const carts = await callAsOperator<CartRow[]>(broker, "carts.list", { limit });
			if (carts.length === 0) return print("No open carts.");
			print(
				grid(
					["CART", "OWNER", "UNITS", "TOTAL", "HOLD", "HELD UNTIL (UTC)", "UPDATED (UTC)"],
					carts.map((cart) => [
						cart.id,
						cart.userId ?? "guest",
						cart.items.reduce((sum, line) => sum + line.quantity, 0),
						money(cart.total, cart.currency),
						cart.hold ? `${cart.holdId} (${cart.hold.seconds} s left)` : "none",
						cart.hold ? when(cart.hold.expiresAt) : "",
						when(cart.updatedAt),
					]),
				),
			);
		},
	},
	{
		command: "low-stock",
		description: "List products at or below their low-stock threshold, emptiest first",
		async action(broker) {
			const low = await callAsOperator<StockLevel[]>(broker, "inventory.lowStock");
			if (low.length === 0) return print("No product is low on stock.");
			const names = await productNames(
				broker,
				low.map((level) => level.productId),
			);
			print(
				grid(
					["PRODUCT", "NAME", "AVAILABLE", "RESERVED", "LOW-STOCK AT"],
					low.map((level) => [level.productId, names.get(level.productId) ?? "", level.available, level.reserved, level.lowStockThreshold]),
				),
			);
		},
	},
	{
		command: "webhooks",
		description: "List the webhook endpoints: where each sends, and which events (their secrets are never shown again)",
		async action(broker) {
			const hooks = await callAsOperator<Webhook[]>(broker, "webhooks.list");
			if (hooks.length === 0) return print("No webhooks. Admins add them in the web app (Admin > Webhooks) or with POST /api/webhooks.");
			print(
				grid(
					["WEBHOOK", "URL", "EVENTS", "CREATED (UTC)"],
					hooks.map((hook) => [hook.id, hook.url, hook.events.join(", "), when(hook.createdAt)]),
				),
			);
		},
	},
	{
		command: "webhook-deliveries <id>",
		description: "Show a webhook's delivery log, newest first; --retry sends one delivery again now",
		options: [
			{ option: "-s, --status <status>", description: `only deliveries of this status (${DELIVERY_STATUSES.join(", ")})` },
			{ option: "-n, --limit <count>", description: "deliveries to show (1-100, default 20)" },
			{ option: "--retry <deliveryId>", description: "try this failed or pending delivery again now" },
		],
		async action(broker, args) {
			const retry = args.options.retry;
			if (typeof retry === "string") {
				await callAsOperator<Delivery>(broker, "webhooks.retry", { id: args.id, deliveryId: retry });
				return print(`Delivery ${retry} is pending again and being tried now; "webhook-deliveries ${args.id}" shows how it went.`);
			}
			const status = deliveryStatus(args.options.status);
			const pageSize = positiveInt(args.options.limit, "limit", 20, 100);
			const { rows, total } = await callAsOperator<{ rows: Delivery[]; total: number }>(broker, "webhooks.deliveries", {
				id: args.id,
				status,
				pageSize,
			});
			const what = status ? `${status} deliveries` : "deliveries";
			if (total === 0) return print(`No ${what} for webhook ${args.id}.`);
			print(
				grid(
					["DELIVERY", "EVENT", "STATUS", "ATTEMPTS", "LAST ANSWER", "NEXT TRY / DELIVERED (UTC)"],
					rows.map((row) => [
						row.id,
						`${row.type} ${row.eventId}`,
						row.status,
						row.attempts,
						row.lastError ?? (row.lastStatusCode === null ? "" : String(row.lastStatusCode)),
						row.deliveredAt ? when(row.deliveredAt) : row.nextAttemptAt ? when(row.nextAttemptAt) : "",
					]),
				),
			);
			print(`${rows.length} of ${total} ${what}.`);
		},
	},
	{
		command: "insights-rebuild",
		description:
			"Drop the sales figures and build them again: from the order and account events on Kafka (distributed), or from the orders and accounts stores (embedded)",
		async action(broker) {
			print("Rebuilding the sales figures...");
			const result = await broker.call<{ source: string; read: number; facts: number; hours: number }, Record<string, never>>(
				"insights.rebuild",
				{},
				{ timeout: REBUILD_TIMEOUT_MS },
			);
			print(`Rebuilt from ${result.read} ${result.source}: ${result.facts} fact(s) in ${result.hours} hour(s).`);
		},
	},
];

function deadLettersCommand(config: Settings): Command {
	return {
		command: "dead-letters",
		description: "List the domain events whose handlers kept failing; --replay sends them back to the group that failed them",
		options: [{ option: "--replay", description: "republish every listed message to its topic, for the failed consumer group only" }],
		async action(_broker, args) {
			if (!config.channelsBrokers)
				return print(
					"Embedded mode: domain events are delivered in-process, so there is no dead-letter topic to list or replay.\n" +
						"Start the REPL with the cluster's TRANSPORTER (kafka://...) to work on its dead letters.",
				);
			const topic = deadLetterTopic({ brokers: config.channelsBrokers, topicPrefix: config.topicPrefix });
			const rows = (letters: Awaited<ReturnType<typeof topic.list>>) =>
				letters.map((letter) => [
					`${letter.partition}:${letter.offset}`,
					when(letter.deadAt),
					letter.topic,
					letter.group,
					letter.type ?? "?",
					letter.eventId ?? "?",
				]);
			const header = ["PARTITION:OFFSET", "DEAD SINCE (UTC)", "TOPIC", "FAILED GROUP", "EVENT", "EVENT ID"];
			if (!args.options.replay) {
				const letters = await topic.list();
				if (letters.length === 0) return print(`No dead letters waiting on ${topic.topic}.`);
				print(grid(header, rows(letters)));
				return print(`${letters.length} dead letter(s) on ${topic.topic}; "dead-letters --replay" sends them back.`);
			}
			const { replayed, unroutable } = await topic.replay();
			if (replayed.length + unroutable.length === 0) return print(`No dead letters waiting on ${topic.topic}.`);
			if (replayed.length > 0) print(grid(header, rows(replayed)));
			print(`Replayed ${replayed.length} dead letter(s) from ${topic.topic} to their topics.`);
			if (unroutable.length > 0)
				print(`Skipped ${unroutable.length} message(s) without x-original-channel / x-original-group headers: not written by the adapter.`);
		},
	};
}

/** The command definitions for moleculer's `replOptions.customCommands`. */
export function replCommands(config: Settings): NonNullable<ReplOptions["customCommands"]> {
	return [...COMMANDS, deadLettersCommand(config)].map(({ command, description, options, action }) => ({
		command,
		description,
		options,
		// moleculer's typings say `args: string[]`; moleculer-repl passes the parsed CommandArgs.
		action: async (broker: ServiceBroker, args: unknown) => {
			try {
				await action(broker, args as CommandArgs);
			} catch (err) {
				print(explain(err));
			}
		},
	}));
}
