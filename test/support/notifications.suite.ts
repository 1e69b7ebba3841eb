import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Agora } from "./agora";
import { createProduct, DECLINED_CARD, orderBody, orderReaches } from "./commerce.suite";
import { adminToken, type Client, client, type Json, newCustomer } from "./http";
import type { ReplSession } from "./repl";
import type { ReceivedMail, SmtpServer } from "./smtp-server";
import { eventually } from "./wait";
import { startWebhookReceiver, type WebhookReceiver } from "./webhook-receiver";

/** The shop's public address in the suite's clusters: the emails link back to it. */
export const PUBLIC_URL = "https://shop.example.test";

/**
 * The settings of the suite's main cluster: its emails go to the test SMTP server, its webhooks may
 * reach the receiver on 127.0.0.1, and a failing delivery is retried after 1 s, 2 s, 4 s, then failed.
 */
export function notificationsEnv(smtp: SmtpServer): Record<string, string> {
	return {
		SMTP_URL: smtp.url,
		MAIL_FROM: "Agora Test Shop <orders@shop.example.test>",
		PUBLIC_URL,
		WEBHOOK_ALLOW_PRIVATE: "1",
		WEBHOOK_MAX_ATTEMPTS: "4",
		WEBHOOK_RETRY_SECONDS: "1",
	};
}

export interface NotificationsHarness {
	/** The gateway of the suite's main cluster, which runs with notificationsEnv. */
	url: string;
	/** An operator's REPL on that cluster. */
	repl: ReplSession;
	smtp: SmtpServer;
	/** A cluster of the same mode with neither SMTP_URL nor WEBHOOK_ALLOW_PRIVATE (started when first asked for). */
	strict(): Promise<Agora>;
	/** Publishes every event of these orders again, byte for byte; resolves once every consumer has handled the copies. */
	redeliver?(orderIds: string[]): Promise<void>;
	/** Publishes `order.created` for a guest's order (one that carries `email`), as checkout orders arrive. */
	publishGuestOrder?(order: Json): Promise<void>;
}

const kindOf = (mail: ReceivedMail) => /\.(order\.[a-z]+)@/.exec(mail.messageId)?.[1] ?? "?";

/**
 * Order emails and webhooks (issue 26) against a real SMTP server (aiosmtpd) and a real HTTP
 * receiver in this process that checks every signature.
 */
export function notificationsSuite(harness: () => NotificationsHarness, { embedded }: { embedded: boolean }): void {
	let api: Client;
	let admin: string;
	let smtp: SmtpServer;
	let receiver: WebhookReceiver;
	let product: Json;
	/** Orders whose emails the tests counted, for the redelivery check. */
	const counted: string[] = [];

	const mailsOf = (orderId: string) => smtp.messages().filter((mail) => mail.subject.includes(orderId));
	const kinds = (orderId: string) => mailsOf(orderId).map(kindOf).sort();
	const waitForKinds = (orderId: string, expected: string[], timeoutMs = 30_000) =>
		eventually(
			async () => {
				expect(kinds(orderId)).toEqual([...expected].sort());
			},
			{ timeoutMs, intervalMs: 250 },
		);

	async function place(token: string, quantity = 1, card?: string): Promise<Json> {
		const res = await api.post("/orders", orderBody([{ productId: product.id, quantity }], card), { token });
		expect(res.status).toBe(201);
		return res.body;
	}

	async function webhook(receiverPath: string, events: string[]): Promise<Json> {
		const res = await api.post("/webhooks", { url: `${receiver.url}${receiverPath}`, events }, { token: admin });
		expect(res.status).toBe(201);
		receiver.secrets.set(receiverPath, res.body.secret);
		return res.body;
	}

	const log = async (webhookId: string, query = ""): Promise<Json> => {
		const res = await api.get(`/webhooks/${webhookId}/deliveries?pageSize=100${query}`, { token: admin });
		expect(res.status).toBe(200);
		return res.body;
	};

	const callsAbout = (receiverPath: string, orderId: string) =>
		receiver.calls.filter((call) => call.path === receiverPath && (call.event.data.orderId ?? call.event.data.id) === orderId);

	beforeAll(async () => {
		({ smtp } = harness());
		api = client(harness().url);
		admin = await adminToken(api);
		product = await createProduct(api, admin, { stock: 1000, price: 2500 });
		receiver = await startWebhookReceiver();
	});

	afterAll(async () => {
		await receiver?.close();
	});

	describe("order emails", () => {
		test("a paid order's emails (received, confirmed, shipped) go to the account's address with its lines, total and link", async () => {
			const ann = await newCustomer(api, "Ann Mailer");
			const order = await place(ann.token, 2);
			await orderReaches(api, admin, order.id, "confirmed");
			for (const status of ["processing", "shipped"])
				expect((await api.patch(`/orders/${order.id}/status`, { status }, { token: admin })).status).toBe(200);
			await waitForKinds(order.id, ["order.received", "order.confirmed", "order.shipped"]);
			counted.push(order.id);

			const [received] = mailsOf(order.id).filter((mail) => kindOf(mail) === "order.received");
			expect(received?.rcptTo).toBe(ann.email);
			expect(received?.to).toBe(`Ann Mailer <${ann.email}>`);
			expect(received?.from).toBe("Agora Test Shop <orders@shop.example.test>");
			expect(received?.subject).toBe(`Order ${order.id} received`);
			const link = `${PUBLIC_URL}/orders/${order.id}`;
			for (const part of [received?.text, received?.html]) {
				expect(part).toContain("2 × Test Kettle");
				expect(part).toContain("$50.00");
				expect(part).toContain(link);
			}
			const shipped = mailsOf(order.id).find((mail) => kindOf(mail) === "order.shipped");
			expect(shipped?.text).toContain("on its way to Ann Shopper, 1 Market Street, 12345 Springfield, US");
		});

		test("a cancelled paid order's email tells of the refund; a declined order's says nothing was charged", async () => {
			const bo = await newCustomer(api, "Bo Mailer");
			const paid = await place(bo.token);
			await orderReaches(api, admin, paid.id, "confirmed");
			expect((await api.post(`/orders/${paid.id}/cancel`, undefined, { token: bo.token })).status).toBe(200);
			const declined = await place(bo.token, 1, DECLINED_CARD);
			await orderReaches(api, admin, declined.id, "failed");
			await waitForKinds(paid.id, ["order.received", "order.confirmed", "order.cancelled"]);
			await waitForKinds(declined.id, ["order.received", "order.failed"]);
			counted.push(paid.id, declined.id);

			const cancelled = mailsOf(paid.id).find((mail) => kindOf(mail) === "order.cancelled");
			expect(cancelled?.subject).toBe(`Order ${paid.id} cancelled`);
			expect(cancelled?.text).toContain("The $25.00 you paid is refunded to your card ending in 4242.");
			const failed = mailsOf(declined.id).find((mail) => kindOf(mail) === "order.failed");
			expect(failed?.subject).toBe(`Order ${declined.id} could not be completed`);
			expect(failed?.text).toContain("We could not take your payment (Card declined)");
			expect(failed?.text).toContain("You have not been charged.");
			expect(failed?.rcptTo).toBe(bo.email);
		});

		if (!embedded)
			test("events delivered again, byte for byte, send no email twice", async () => {
				const before = Object.fromEntries(counted.map((id) => [id, kinds(id)]));
				await harness().redeliver?.(counted);
				// Every consumer has handled the copies; a second email would be on its way by now.
				await sleep(3_000);
				expect(Object.fromEntries(counted.map((id) => [id, kinds(id)]))).toEqual(before);
			});

		if (!embedded)
			test("a guest's order (one that carries an email) is mailed to that address", async () => {
				const ann = await newCustomer(api, "Guest Template");
				const template = await place(ann.token);
				const guest = { ...template, id: crypto.randomUUID(), userId: "guest", email: `guest-${Date.now()}@example.com` };
				await harness().publishGuestOrder?.(guest);
				await waitForKinds(guest.id, ["order.received"]);
				const [mail] = mailsOf(guest.id);
				expect(mail?.rcptTo).toBe(guest.email);
				expect(mail?.to).toBe(`Ann Shopper <${guest.email}>`);
			});

		if (embedded)
			test("without SMTP_URL the embedded mode writes each email to DATA_DIR/mail as a .eml file", async () => {
				const shop = await harness().strict();
				const strictApi = client(shop.url);
				const cy = await newCustomer(strictApi, "Cy Files");
				const strictProduct = await createProduct(strictApi, await adminToken(strictApi), { stock: 5 });
				const placed = await strictApi.post("/orders", orderBody([{ productId: strictProduct.id, quantity: 1 }]), { token: cy.token });
				await orderReaches(strictApi, cy.token, placed.body.id, "confirmed");
				const file = (kind: string) => path.join(shop.env.DATA_DIR as string, "mail", `${placed.body.id}-${kind}.eml`);
				await eventually(async () => {
					expect(existsSync(file("order.received")) && existsSync(file("order.confirmed"))).toBe(true);
				});
				const eml = readFileSync(file("order.confirmed"), "utf8");
				expect(eml).toContain(`Subject: Order ${placed.body.id} confirmed`);
				expect(eml).toContain(cy.email);
			});

		test("while the mail server is down orders still confirm, and their emails arrive once it is back", async () => {
			const di = await newCustomer(api, "Di Waiting");
			await smtp.stop();
			try {
				const order = await place(di.token);
				// The saga does not wait for mail: confirmed as quickly as ever.
				await orderReaches(api, admin, order.id, "confirmed");
				await sleep(3_000);
				expect(kinds(order.id)).toEqual([]);
				await smtp.start();
				await waitForKinds(order.id, ["order.received", "order.confirmed"], 90_000);
			} finally {
				// Back for the tests after this one, whatever happened in it.
				await smtp.start();
			}
		});
	});

	describe("webhooks", () => {
		test("only admins manage webhooks; a new one shows its secret once, the list never", async () => {
			const cy = await newCustomer(api, "Cy Curious");
			expect((await api.get("/webhooks")).status).toBe(401);
			expect((await api.get("/webhooks", { token: cy.token })).status).toBe(403);
			expect((await api.post("/webhooks", { url: `${receiver.url}/x`, events: ["order.created"] }, { token: cy.token })).status).toBe(403);
			const made = await webhook("/listed", ["order.created", "order.created", "product.updated"]);
			expect(made).toEqual({
				id: expect.any(String),
				url: `${receiver.url}/listed`,
				events: ["order.created", "product.updated"],
				secret: expect.stringMatching(/^whsec_[0-9a-f]{48}$/),
				createdAt: expect.any(String),
			});
			const list = await api.get("/webhooks", { token: admin });
			expect(list.status).toBe(200);
			const { secret: _secret, ...shown } = made;
			expect(list.body).toContainEqual(shown);
			expect(JSON.stringify(list.body)).not.toContain("whsec_");
		});

		test("unknown event types, a malformed URL and no events are 422 naming the field; nothing is made", async () => {
			const before = (await api.get("/webhooks", { token: admin })).body.length;
			const unknown = await api.post(
				"/webhooks",
				{ url: `${receiver.url}/x`, events: ["order.created", "order.exploded"] },
				{ token: admin },
			);
			expect(unknown.status).toBe(422);
			expect(unknown.body.data.map((problem: Json) => problem.field)).toEqual(["events[1]"]);
			const bad = await api.post("/webhooks", { url: "ftp://example.com/hook", events: [] }, { token: admin });
			expect(bad.status).toBe(422);
			expect(bad.body.data.map((problem: Json) => problem.field).sort()).toEqual(["events", "url"]);
			const unresolvable = await api.post(
				"/webhooks",
				{ url: "https://no-such-host.invalid/hook", events: ["order.created"] },
				{ token: admin },
			);
			expect(unresolvable.status).toBe(422);
			expect(unresolvable.body.data[0]).toMatchObject({
				field: "url",
				message: expect.stringContaining("No server named no-such-host.invalid could be found"),
			});
			expect((await api.get("/webhooks", { token: admin })).body).toHaveLength(before);
		});

		test("every delivery is signed with the endpoint's secret; a tampered body fails verification", async () => {
			const hook = await webhook("/signed", ["order.created"]);
			const ed = await newCustomer(api, "Ed Signed");
			const order = await place(ed.token);
			const [call] = await eventually(async () => {
				const calls = callsAbout("/signed", order.id);
				expect(calls).toHaveLength(1);
				return calls;
			});
			expect(call?.headers["agora-event"]).toBe("order.created");
			expect(call?.headers["content-type"]).toBe("application/json");
			expect(call?.headers["agora-signature"]).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
			expect(call?.event).toMatchObject({ type: "order.created", data: { id: order.id, status: "pending" } });
			expect(receiver.verifies(call as never)).toBe(true);
			expect(receiver.verifies(call as never, (call?.body ?? "").replace('"quantity":1', '"quantity":9'))).toBe(false);
			const { rows } = await log(hook.id);
			expect(rows).toContainEqual(
				expect.objectContaining({
					id: call?.headers["agora-delivery"],
					eventId: call?.event.id,
					status: "delivered",
					attempts: 1,
					lastStatusCode: 204,
				}),
			);
		});

		test("a receiver that fails and recovers gets its deliveries, one order's events in order, the log showing attempts", async () => {
			receiver.answer("/flaky", 500);
			const hook = await webhook("/flaky", ["order.created", "payment.succeeded", "order.updated"]);
			const fay = await newCustomer(api, "Fay Flaky");
			const order = await place(fay.token);
			await orderReaches(api, admin, order.id, "confirmed");
			// The first event is retried; the later ones of the same order wait behind it.
			const created = await eventually(async () => {
				const tried = callsAbout("/flaky", order.id);
				expect(tried.length).toBeGreaterThanOrEqual(2);
				return tried[0];
			});
			expect(callsAbout("/flaky", order.id).map((call) => call.event.type)).toEqual(
				callsAbout("/flaky", order.id).map(() => "order.created"),
			);
			const waiting = (await log(hook.id)).rows.find((row: Json) => row.eventId === created?.event.id);
			expect(waiting).toMatchObject({ status: "pending", lastStatusCode: 500, lastError: "The receiver answered 500", deliveredAt: null });
			expect(waiting.attempts).toBeGreaterThanOrEqual(2);
			expect(Date.parse(waiting.nextAttemptAt)).toBeGreaterThan(0);

			receiver.answer("/flaky", 204);
			const accepted = await eventually(async () => {
				const calls = receiver.accepted("/flaky").filter((call) => (call.event.data.orderId ?? call.event.data.id) === order.id);
				expect(calls.map((call) => call.event.type)).toEqual(["order.created", "payment.succeeded", "order.updated"]);
				return calls;
			});
			const times = accepted.map((call) => call.event.at);
			expect(times).toEqual([...times].sort());
			const row = (await log(hook.id)).rows.find((entry: Json) => entry.eventId === created?.event.id);
			expect(row).toMatchObject({ status: "delivered", lastStatusCode: 204, lastError: null, nextAttemptAt: null });
			expect(row.attempts).toBe(waiting.attempts + 1);
		});

		test("a delivery that keeps failing ends failed; the retry route sends it again once the receiver is back", async () => {
			receiver.answer("/down", 500);
			const hook = await webhook("/down", ["order.created"]);
			const gus = await newCustomer(api, "Gus Down");
			const order = await place(gus.token);
			const failed = await eventually(
				async () => {
					const { rows } = await log(hook.id, "&status=failed");
					expect(rows).toHaveLength(1);
					return rows[0];
				},
				{ timeoutMs: 60_000 },
			);
			expect(failed).toMatchObject({ type: "order.created", attempts: 4, lastStatusCode: 500, nextAttemptAt: null, deliveredAt: null });
			expect(callsAbout("/down", order.id)).toHaveLength(4);

			receiver.answer("/down", 204);
			const retried = await api.post(`/webhooks/${hook.id}/deliveries/${failed.id}/retry`, undefined, { token: admin });
			expect(retried.status).toBe(202);
			expect(retried.body).toMatchObject({ id: failed.id, status: "pending" });
			await eventually(async () => {
				expect((await log(hook.id, "&status=delivered")).rows).toEqual([
					expect.objectContaining({ id: failed.id, status: "delivered", attempts: 5, lastStatusCode: 204, lastError: null }),
				]);
			});
			expect(receiver.accepted("/down")).toHaveLength(1);
			expect((await log(hook.id, "&status=failed")).total).toBe(0);

			const again = await api.post(`/webhooks/${hook.id}/deliveries/${failed.id}/retry`, undefined, { token: admin });
			expect([again.status, again.body.type]).toEqual([409, "ILLEGAL_TRANSITION"]);
			expect((await api.post(`/webhooks/${hook.id}/deliveries/no-such-delivery/retry`, undefined, { token: admin })).status).toBe(404);
			expect((await api.get(`/webhooks/${hook.id}/deliveries?status=lost`, { token: admin })).status).toBe(422);
		});

		test("the REPL lists the webhooks and a webhook's deliveries, and sends a failed one again", async () => {
			const { repl } = harness();
			receiver.answer("/operator", 500);
			const hook = await webhook("/operator", ["order.created"]);
			const jo = await newCustomer(api, "Jo Operator");
			await place(jo.token);
			const failed = await eventually(
				async () => {
					const { rows } = await log(hook.id, "&status=failed");
					expect(rows).toHaveLength(1);
					return rows[0];
				},
				{ timeoutMs: 60_000 },
			);
			expect(await repl.run("webhooks")).toMatch(new RegExp(`${hook.id}\\s*\\|\\s*${receiver.url}/operator\\s*\\|\\s*order\\.created`));
			const shown = await repl.run(`webhook-deliveries ${hook.id} --status failed`);
			expect(shown).toMatch(
				new RegExp(
					`${failed.id}\\s*\\|\\s*order\\.created ${failed.eventId}\\s*\\|\\s*failed\\s*\\|\\s*4\\s*\\|\\s*The receiver answered 500`,
				),
			);
			expect(shown).toContain("1 of 1 failed deliveries.");
			expect(await repl.run(`webhook-deliveries ${hook.id} --status lost`)).toContain('Error: Unknown delivery status "lost"');

			receiver.answer("/operator", 204);
			expect(await repl.run(`webhook-deliveries ${hook.id} --retry ${failed.id}`)).toContain(`Delivery ${failed.id} is pending again`);
			await eventually(async () => expect((await log(hook.id, "&status=delivered")).total).toBe(1));
			expect(await repl.run(`webhook-deliveries ${hook.id} --retry ${failed.id}`)).toContain("[409 ILLEGAL_TRANSITION]");
		});

		test("each endpoint gets each event once, also when the event is delivered again", async () => {
			const one = await webhook("/one", ["order.created", "order.updated"]);
			const two = await webhook("/two", ["order.created", "order.updated"]);
			const hal = await newCustomer(api, "Hal Twice");
			const order = await place(hal.token);
			await orderReaches(api, admin, order.id, "confirmed");
			const eventIds = (receiverPath: string) => callsAbout(receiverPath, order.id).map((call) => call.event.id);
			await eventually(async () => {
				for (const receiverPath of ["/one", "/two"]) expect(eventIds(receiverPath)).toHaveLength(2);
			});
			if (!embedded) {
				await harness().redeliver?.([order.id]);
				await sleep(3_000);
			}
			// A redelivered payment verdict makes orders announce the order again, as a new event (ids
			// differ): each endpoint gets that one too, and every event id once.
			const ids = eventIds("/one");
			for (const receiverPath of ["/one", "/two"]) expect(eventIds(receiverPath).sort()).toEqual([...new Set(ids)].sort());
			for (const hook of [one, two])
				expect((await log(hook.id)).rows.filter((row: Json) => ids.includes(row.eventId))).toHaveLength(ids.length);
		});

		test("deleting a webhook removes it and its log, and its events stop", async () => {
			const hook = await webhook("/gone", ["order.created"]);
			expect((await api.delete(`/webhooks/${hook.id}`, { token: admin })).status).toBe(204);
			expect((await api.get("/webhooks", { token: admin })).body.map((row: Json) => row.id)).not.toContain(hook.id);
			expect((await api.get(`/webhooks/${hook.id}/deliveries`, { token: admin })).status).toBe(404);
			expect((await api.delete(`/webhooks/${hook.id}`, { token: admin })).status).toBe(404);
			const ivy = await newCustomer(api, "Ivy Gone");
			const order = await place(ivy.token);
			await orderReaches(api, admin, order.id, "confirmed");
			await sleep(1_000);
			expect(callsAbout("/gone", order.id)).toEqual([]);
		});

		test("without WEBHOOK_ALLOW_PRIVATE, private, loopback and link-local addresses are refused, by address or by name", async () => {
			const shop = await harness().strict();
			const strictApi = client(shop.url);
			const token = await adminToken(strictApi);
			for (const url of [
				`${receiver.url}/inside`,
				"http://localhost:8080/hook",
				"http://[::1]/hook",
				"http://[::ffff:127.0.0.1]/hook",
				"http://169.254.169.254/latest/meta-data",
				"http://10.1.2.3/hook",
				"https://192.168.0.10/hook",
			]) {
				const res = await strictApi.post("/webhooks", { url, events: ["order.created"] }, { token });
				expect([url, res.status, res.body.data?.[0]?.field]).toEqual([url, 422, "url"]);
				expect(res.body.data[0].message).toMatch(/private, loopback or link-local address/);
			}
			expect((await strictApi.get("/webhooks", { token })).body).toEqual([]);
		});
	});
}
