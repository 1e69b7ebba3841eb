/**
 * The order emails: what each kind says, in a plain-text and an HTML part, with the order's lines,
 * totals and a link back to it.
 */
import type Mail from "nodemailer/lib/mailer";
import { formatMoney } from "../../lib/contracts/money";
import type { Order } from "../../lib/contracts/orders";

export const MAIL_KINDS = ["order.received", "order.confirmed", "order.shipped", "order.cancelled", "order.failed"] as const;
export type MailKind = (typeof MAIL_KINDS)[number];

export interface Recipient {
	email: string;
	/** How to greet them; empty when not known. */
	name: string;
}

export interface Sender {
	/** `Name <address>` or an address (`MAIL_FROM`). */
	from: string;
	/** The shop's public address, for the link back to the order. */
	publicUrl: string;
}

/** The moneys of the order: its lines, then what is added to them, then what is charged. */
function totals(order: Order): [string, string][] {
	const money = (minor: number) => formatMoney(minor, order.currency, "en-US");
	const rows: [string, string][] = [];
	// A subtotal says something only when something is added to it.
	if (order.shipping || order.tax) rows.push(["Subtotal", money(order.subtotal)]);
	if (order.shipping) rows.push([`Shipping (${order.shipping.name})`, money(order.shipping.price)]);
	if (order.tax) rows.push([`Tax (${order.tax.rate / 100}%)`, money(order.tax.amount)]);
	rows.push(["Total", money(order.total)]);
	return rows;
}

/** Why the payment failed, as the order's history says. */
function failureReason(order: Order): string {
	const entry = [...order.history].reverse().find((step) => step.status === "failed");
	return entry?.note ? ` (${entry.note})` : "";
}

function letter(kind: MailKind, order: Order): { subject: string; paragraphs: string[] } {
	const total = formatMoney(order.total, order.currency, "en-US");
	switch (kind) {
		case "order.received":
			return {
				subject: `Order ${order.id} received`,
				paragraphs: [
					"Thank you for your order. We have received it and are taking your payment; we will write again once it is confirmed.",
				],
			};
		case "order.confirmed":
			return {
				subject: `Order ${order.id} confirmed`,
				paragraphs: [`Your payment of ${total} went through and your order is confirmed. We will let you know when it ships.`],
			};
		case "order.shipped": {
			const to = order.shippingAddress;
			return {
				subject: `Order ${order.id} has shipped`,
				paragraphs: [`Your order is on its way to ${to.name}, ${to.line1}, ${to.postalCode} ${to.city}, ${to.country}.`],
			};
		}
		case "order.cancelled":
			return {
				subject: `Order ${order.id} cancelled`,
				paragraphs: [
					"Your order has been cancelled.",
					order.paymentStatus === "paid" || order.paymentStatus === "refunded"
						? `The ${total} you paid is refunded to your card ending in ${order.cardLast4}.`
						: "You have not been charged.",
				],
			};
		case "order.failed":
			return {
				subject: `Order ${order.id} could not be completed`,
				paragraphs: [`We could not take your payment${failureReason(order)}, so your order was not completed. You have not been charged.`],
			};
	}
}

const escapeHtml = (text: string) =>
	text.replace(/[&<>"']/g, (char) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[char] as string);

/** The address part of `Name <address>`, or the address itself. */
const addressOf = (from: string) => /<([^>]+)>/.exec(from)?.[1] ?? from;

export function composeMail(kind: MailKind, order: Order, to: Recipient, { from, publicUrl }: Sender): Mail.Options {
	const { subject, paragraphs } = letter(kind, order);
	const money = (minor: number) => formatMoney(minor, order.currency, "en-US");
	const link = `${publicUrl}/orders/${encodeURIComponent(order.id)}`;
	const greeting = to.name ? `Hello ${to.name},` : "Hello,";
	const lines = order.items.map((item) => ({
		label: `${item.quantity} × ${item.name}`,
		each: money(item.price),
		sum: money(item.price * item.quantity),
	}));
	const sums = totals(order);

	const text = [
		greeting,
		"",
		...paragraphs.flatMap((paragraph) => [paragraph, ""]),
		`Order ${order.id}`,
		...lines.map((line) => `  ${line.label} at ${line.each}: ${line.sum}`),
		"",
		...sums.map(([label, amount]) => `  ${label}: ${amount}`),
		"",
		`See your order: ${link}`,
		"",
		"Agora",
	].join("\n");

	const cell = 'style="padding:4px 8px;text-align:right"';
	const html = `<!doctype html>
<html><body style="font-family:sans-serif;color:#1d2320">
<p>${escapeHtml(greeting)}</p>
${paragraphs.map((paragraph) => `<p>${escapeHtml(paragraph)}</p>`).join("\n")}
<h2 style="font-size:1.1em">Order ${escapeHtml(order.id)}</h2>
<table style="border-collapse:collapse">
${lines.map((line) => `<tr><td style="padding:4px 8px">${escapeHtml(line.label)}</td><td ${cell}>${escapeHtml(line.each)}</td><td ${cell}>${escapeHtml(line.sum)}</td></tr>`).join("\n")}
${sums.map(([label, amount]) => `<tr><td colspan="2" ${cell}>${escapeHtml(label)}</td><td ${cell}><strong>${escapeHtml(amount)}</strong></td></tr>`).join("\n")}
</table>
<p><a href="${escapeHtml(link)}">See your order</a></p>
<p>Agora</p>
</body></html>`;

	return {
		from,
		to: to.name ? { name: to.name, address: to.email } : to.email,
		subject,
		text,
		html,
		// The same id for every copy: a mailbox that got one already recognises a second.
		messageId: `<${order.id}.${kind}@${addressOf(from).split("@")[1] ?? "agora.local"}>`,
	};
}
