/**
 * The order emails as the embedded mode makes them without SMTP_URL (.eml files in DATA_DIR/mail),
 * with the real notifications and users services in one broker: one email per order and kind
 * however often its event comes, to the guest's address when the order carries one, with the
 * subtotal, shipping and tax of a checkout order.
 */
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import type { DomainEvent, DomainEventType, OrderSnapshot } from "../../lib/contracts/events";
import type { Queued } from "../../lib/platform/delivery-queue";
import { settings } from "../../lib/platform/settings";
import type { DbAdapter } from "../../lib/platform/store";
import type { ChannelBroker } from "../../types/moleculer";
import { type Shop, startShop } from "../support/in-process";
import { parseMail } from "../support/smtp-server";
import { eventually } from "../support/wait";

let shop: Shop;
let userId: string;

const mailDir = () => path.join(settings().dataDir, "mail");
const mailsOf = (orderId: string) => (existsSync(mailDir()) ? readdirSync(mailDir()).filter((name) => name.startsWith(orderId)) : []);

function order(fields: Partial<OrderSnapshot> = {}): OrderSnapshot {
	const now = new Date().toISOString();
	return {
		id: crypto.randomUUID(),
		userId,
		items: [{ productId: "p1", name: "Cast Iron Teapot", price: 4500, quantity: 2 }],
		total: 10_829,
		currency: "EUR",
		status: "pending",
		paymentStatus: "pending",
		history: [{ status: "pending", at: now, by: userId, note: "order placed" }],
		createdAt: now,
		updatedAt: now,
		shippingAddress: { name: "Gia Guest", line1: "Hauptstraße 1", city: "Berlin", postalCode: "10115", country: "DE" },
		subtotal: 9000,
		shipping: { method: "standard", name: "Standard", price: 100 },
		tax: { country: "DE", rate: 1900, amount: 1729 },
		cardLast4: "4242",
		...fields,
	};
}

function publish<E extends DomainEventType>(type: E, data: DomainEvent<E>["data"], id: string = crypto.randomUUID()): Promise<void> {
	return (shop.broker as ChannelBroker).sendToChannel(type, { id, type, at: new Date().toISOString(), data }, { key: String(id) });
}

beforeAll(async () => {
	shop = await startShop(["users", "notifications"]);
	const registered = await shop.broker.call<{ user: { id: string } }, object>("users.register", {
		email: "mina@example.com",
		password: "correct-horse",
		name: "Mina Mail",
	});
	userId = registered.user.id;
});

afterAll(async () => {
	await shop?.stop();
});

test("an event delivered twice, and a second event of the same kind, write one email", async () => {
	const placed = order();
	await publish("order.created", placed, "event-1");
	await publish("order.created", placed, "event-1");
	const confirmed = { ...placed, status: "confirmed" as const, paymentStatus: "paid" as const };
	await publish("order.updated", confirmed);
	await publish("order.updated", { ...confirmed, updatedAt: new Date().toISOString() });
	await eventually(async () =>
		expect(mailsOf(placed.id).sort()).toEqual([`${placed.id}-order.confirmed.eml`, `${placed.id}-order.received.eml`]),
	);

	const mail = parseMail(path.join(mailDir(), `${placed.id}-order.received.eml`));
	expect(mail.to).toBe("Mina Mail <mina@example.com>");
	expect(mail.subject).toBe(`Order ${placed.id} received`);
	for (const line of [
		"2 × Cast Iron Teapot at €45.00: €90.00",
		"Subtotal: €90.00",
		"Shipping (Standard): €1.00",
		"Tax (19%): €17.29",
		"Total: €108.29",
	])
		expect(mail.text).toContain(line);
	expect(mail.html).toContain("Tax (19%)");
});

test("a guest's order goes to the address it carries, greeted by the name it ships to", async () => {
	const guest = order({ userId: "guest", email: "gia@example.com" });
	await publish("order.created", guest);
	await eventually(async () => expect(mailsOf(guest.id)).toHaveLength(1));
	const mail = parseMail(path.join(mailDir(), `${guest.id}-order.received.eml`));
	expect(mail.to).toBe("Gia Guest <gia@example.com>");
	expect(mail.text).toContain("Hello Gia Guest,");
});

test("the email of an order whose account is gone is given up, not retried for ever", async () => {
	const orphan = order({ userId: "no-such-account" });
	await publish("order.created", orphan);
	const messages = shop.service<{ adapter: DbAdapter }>("notifications").adapter;
	await eventually(async () =>
		expect((await messages.findById(`${orphan.id}:order.received`)) as Queued).toMatchObject({
			status: "failed",
			attempts: 1,
			lastError: "The order has no address to write to: its account no longer exists",
		}),
	);
	expect(mailsOf(orphan.id)).toEqual([]);
});
