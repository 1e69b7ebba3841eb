import { userInfo } from "node:os";
import { guestShopper } from "./carts.suite";
import { createProduct, orderBody, orderReaches, stockOf } from "./commerce.suite";
import { adminToken, type Client, type Json, newCustomer } from "./http";
import type { ReplSession } from "./repl";

/** The `by` the REPL's commands write into histories and the stock ledger. */
export const OPERATOR = `operator:${userInfo().username}`;

/**
 * An operator's daily jobs through `npm run repl`, checked on the screen and, behind it, through
 * the REST API: what the commands show is what the system holds, and what they change sticks.
 */
export function operatorSuite(setup: () => { repl: ReplSession; api: Client }): void {
	let repl: ReplSession;
	let api: Client;
	let admin: string;
	let product: Json;
	let customer: { token: string; id: string };
	let order: Json;

	beforeAll(async () => {
		({ repl, api } = setup());
		admin = await adminToken(api);
		product = await createProduct(api, admin, { name: "Operator Teapot", stock: 6, lowStockThreshold: 2 });
		customer = await newCustomer(api, "Olive Operator-Test");
		const placed = await api.post("/orders", orderBody([{ productId: product.id, quantity: 1 }]), { token: customer.token });
		expect(placed.status).toBe(201);
		order = await orderReaches(api, customer.token, placed.body.id, "confirmed");
	});

	it("lists its commands, each with a help text", async () => {
		const help = await repl.run("help");
		for (const command of [
			"orders",
			"order <id>",
			"order-status <id> <status>",
			"stock",
			"stock-adjust",
			"low-stock",
			"carts",
			"dead-letters",
		])
			expect(help).toMatch(new RegExp(`^\\s+${command.replace(/[<>]/g, "\\$&")}.*\\s{2,}\\w+`, "m"));
		expect(await repl.run("help stock-adjust")).toMatch(/\+N adds, -N removes, =N sets/);
	});

	it("lists orders by status, and refuses an unknown status with the list of known ones", async () => {
		const confirmed = await repl.run("orders confirmed --limit 100");
		expect(confirmed).toContain(order.id);
		expect(confirmed).toMatch(new RegExp(`${order.id}\\s*\\|\\s*confirmed\\s*\\|\\s*${customer.id}\\s*\\|\\s*1\\s*\\|\\s*\\$25\\.00`));
		expect(await repl.run("orders delivered")).toBe("No delivered order(s).");
		expect(await repl.run("orders --page 999")).toMatch(/^Page 999 is past the last page \(1\) of \d+ order\(s\)\.$/);
		expect(await repl.run("orders shipped-yesterday")).toContain(
			'Error: Unknown status "shipped-yesterday": use one of pending, confirmed, processing, shipped, delivered, failed, cancelled',
		);
	});

	it("shows an order with its lines and full history", async () => {
		const shown = await repl.run(`order ${order.id}`);
		expect(shown).toMatch(/status\s*\|\s*confirmed/);
		expect(shown).toMatch(/next \(order-status\)\s*\|\s*processing, cancelled/);
		expect(shown).toMatch(/Operator Teapot\s*\|\s*1\s*\|\s*\$25\.00/);
		expect(shown).toMatch(new RegExp(`pending\\s*\\|\\s*${customer.id}\\s*\\|\\s*order placed`));
		expect(shown).toMatch(/confirmed\s*\|\s*payments\s*\|\s*payment received/);
		expect(await repl.run("order no-such-order")).toContain("Error: Order not found [404 ORDER_NOT_FOUND]");
	});

	it("moves an order on in the operator's name; an illegal move is refused and changes nothing", async () => {
		const refused = await repl.run(`order-status ${order.id} delivered`);
		expect(refused).toContain("Error: An order that is confirmed cannot become delivered (allowed from here: processing, cancelled)");
		expect((await api.get(`/orders/${order.id}`, { token: customer.token })).body.status).toBe("confirmed");

		const moved = await repl.run(`order-status ${order.id} processing`);
		expect(moved).toContain(`Order ${order.id} is now processing (by ${OPERATOR}).`);
		const seen = (await api.get(`/orders/${order.id}`, { token: customer.token })).body;
		expect(seen.status).toBe("processing");
		expect(seen.history.at(-1)).toMatchObject({ status: "processing", by: OPERATOR });
	});

	it("adjusts stock with a reason that the ledger keeps under the operator's name, and shows it", async () => {
		const before = await stockOf(api, product.id);
		const taken = await repl.run(`stock-adjust ${product.id} -3 "damaged in transit"`);
		expect(taken).toContain(`Stock of Operator Teapot: ${before.available - 3} available`);
		expect((await stockOf(api, product.id)).available).toBe(before.available - 3);

		const moves = (await api.get(`/inventory/${product.id}/movements`, { token: admin })).body;
		expect(moves[0]).toMatchObject({ kind: "adjust", delta: -3, reason: "damaged in transit", by: OPERATOR });

		const shown = await repl.run(`stock ${product.id}`);
		expect(shown).toMatch(new RegExp(`Operator Teapot\\s*\\|\\s*${before.available - 3}\\s*\\|\\s*0\\s*\\|\\s*0\\s*\\|\\s*2`));
		expect(shown).toMatch(new RegExp(`adjust\\s*\\|\\s*-3\\s*\\|.*damaged in transit\\s*\\|\\s*${OPERATOR}`));

		await repl.run(`stock-adjust ${product.id} =1 "stock take"`);
		expect((await stockOf(api, product.id)).available).toBe(1);
		expect(await repl.run("low-stock")).toMatch(new RegExp(`${product.id}\\s*\\|\\s*Operator Teapot\\s*\\|\\s*1\\s*\\|\\s*0\\s*\\|\\s*2`));
	});

	it("refuses a bad stock change with a clear line and leaves the stock alone", async () => {
		const before = await stockOf(api, product.id);
		expect(await repl.run(`stock-adjust ${product.id} -50 "too many"`)).toContain("Error: Stock cannot go below zero [409 NEGATIVE_STOCK]");
		expect(await repl.run(`stock-adjust ${product.id} lots "restock"`)).toContain('Error: Change "lots" is not +N, -N or =N');
		expect(await repl.run(`stock-adjust ${product.id} +5`)).toContain("missing required argument 'reason'");
		expect(await repl.run("stock no-such-product")).toContain("[404");
		expect(await stockOf(api, product.id)).toEqual(before);
	});

	it("shows open carts with their holds, and held units beside a product's stock", async () => {
		const guest = await guestShopper(api);
		await guest.set(product.id, 1);
		await guest.hold();
		const carts = await repl.run("carts --limit 500");
		expect(carts).toMatch(new RegExp(`${guest.cart.id}\\s*\\|\\s*guest\\s*\\|\\s*1\\s*\\|\\s*\\$25\\.00\\s*\\|\\s*\\S+ \\(\\d+ s left\\)`));
		const shown = await repl.run(`stock ${product.id}`);
		const { available } = await stockOf(api, product.id);
		expect(shown).toMatch(new RegExp(`Operator Teapot\\s*\\|\\s*${available}\\s*\\|\\s*0\\s*\\|\\s*1\\s*\\|`));
		expect(shown).toMatch(/hold\s*\|\s*-1\s*\|.*checkout hold \(hold \S+\)/);
	});

	it("keeps moleculer-repl's own commands: call, services, nodes", async () => {
		const called = await repl.run(`call inventory.get --productId ${product.id}`);
		expect(called).toMatch(new RegExp(`productId: '${product.id}'`));
		expect(called).toMatch(/available: \d+/);
		const services = await repl.run("services");
		for (const name of ["orders", "inventory", "products", "payments", "users", "api"])
			expect(services).toMatch(new RegExp(`\\b${name}\\b`));
		expect(await repl.run("nodes")).toMatch(/Node ID/i);
	});
}
