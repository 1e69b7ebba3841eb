/**
 * Every change is written with the event that announces it, in one write (the outbox of
 * mixins/domain-events.mixin.ts), in one process (test/support/in-process.ts). A change takes
 * more than one write (its record and the entity, or a stock line and the catalogue's level): here
 * the service's second write fails, as when its process dies or its database goes away right
 * after the first. Whatever the first write was, the change and its event then stand or fall
 * together: once the outbox relay has run, a change anyone can see has been announced once, and
 * one nobody can see has not been announced. (The distributed tier's event-outbox test takes the
 * event broker away instead; the settlement races hold the orders and payments writers.)
 */
import type { DomainEvent, DomainEventType } from "../../lib/contracts/events";
import type { DbAdapter } from "../../lib/platform/store";
import { ADMIN, type Shop, startShop } from "../support/in-process";

interface Outboxed {
	adapter: DbAdapter;
	collections: Record<string, DbAdapter>;
	outboxes: string[];
	relay(): Promise<void>;
}

const WRITES = ["insert", "updateById", "updateMany", "removeById", "removeMany"] as const;

let shop: Shop;

beforeAll(async () => {
	shop = await startShop(["products", "inventory", "users"]);
});

afterAll(() => shop?.stop());

/**
 * Runs `change` with the second write `service` makes to any of its collections failing (the
 * database gone), then puts every write back. Answers whether that write was tried.
 */
async function withSecondWriteFailing(service: string, change: () => Promise<unknown>): Promise<boolean> {
	const { adapter, collections } = shop.service<Outboxed>(service);
	const adapters = [...new Set([adapter, ...Object.values(collections)])];
	const originals = adapters.map((store) => WRITES.map((method) => store[method]));
	let writes = 0;
	for (const store of adapters)
		for (const method of WRITES) {
			const write = store[method].bind(store) as (...args: unknown[]) => Promise<unknown>;
			(store as unknown as Record<string, unknown>)[method] = async (...args: unknown[]) => {
				if (++writes === 2) throw new Error("connection to the database lost (injected)");
				return write(...args);
			};
		}
	try {
		await change().catch(() => undefined);
	} finally {
		adapters.forEach((store, i) => {
			WRITES.forEach((method, j) => {
				(store as unknown as Record<string, unknown>)[method] = originals[i]?.[j];
			});
		});
	}
	return writes >= 2;
}

/** What a restarted node's relay does later: everything still waiting in `service`'s outboxes is old enough to take over. */
async function relayLater(service: string): Promise<void> {
	const outboxed = shop.service<Outboxed>(service);
	for (const name of outboxed.outboxes)
		await outboxed.collections[name]?.updateMany({ pending: true }, { $set: { createdAt: new Date(0) } });
	await outboxed.relay();
}

/** How many events of `type` announced it: a copy the relay sent again (its sent mark not yet written) has the same id and counts once. */
const announced = <E extends DomainEventType>(type: E, key: (event: DomainEvent<E>) => boolean) =>
	new Set(shop.sentOf(type, key).map((event) => event.id)).size;

const catalogued = async (name: string) =>
	(await shop.broker.call<{ rows: { id: string }[] }, object>("products.list", { q: name, pageSize: 10 })).rows.map((row) => row.id);

const priceOf = (id: string) =>
	shop.broker.call<{ price: number }, object>("products.get", { id }).then(
		(product) => product.price,
		() => null,
	);

let unique = 0;
const tag = () => `outbox-${Date.now()}-${unique++}`;

describe("a crash between a change's first write and its second", () => {
	test("a product created: in the catalogue if and only if product.created is announced", async () => {
		const name = `Kettle ${tag()}`;
		const create = () =>
			shop.broker.call("products.create", { name, sku: `OB-${unique++}`, price: 1500, category: "brewing", stock: 4 }, ADMIN);
		expect(await withSecondWriteFailing("products", create)).toBe(true);
		await relayLater("products");

		const ids = await catalogued(name);
		const told = announced("product.created", (event) => event.data.name === name);
		expect({ inCatalogue: ids.length, announced: told }).toEqual({ inCatalogue: ids.length, announced: ids.length });
	});

	test("a product's price changed: the new price shows if and only if product.updated with it is announced", async () => {
		const id = await shop.newProduct(4);
		const update = () => shop.broker.call("products.update", { id, price: 2750 }, ADMIN);
		expect(await withSecondWriteFailing("products", update)).toBe(true);
		await relayLater("products");

		const changed = (await priceOf(id)) === 2750;
		const told = announced("product.updated", (event) => event.data.id === id && event.data.price === 2750);
		expect({ changed, announced: told }).toEqual({ changed, announced: changed ? 1 : 0 });
	});

	test("a product deleted: gone from the catalogue if and only if product.deleted is announced", async () => {
		const id = await shop.newProduct(4);
		const remove = () => shop.broker.call("products.remove", { id }, ADMIN);
		expect(await withSecondWriteFailing("products", remove)).toBe(true);
		await relayLater("products");

		const gone = (await priceOf(id)) === null;
		const told = announced("product.deleted", (event) => event.data.id === id);
		expect({ gone, announced: told }).toEqual({ gone, announced: gone ? 1 : 0 });
	});

	test("a customer registered: the account signs in if and only if user.registered is announced", async () => {
		const email = `${tag()}@example.com`;
		const register = () => shop.broker.call("users.register", { email, password: "correct-horse", name: "Olive Outbox" });
		expect(await withSecondWriteFailing("users", register)).toBe(true);
		await relayLater("users");

		const signsIn = await shop.broker.call("users.login", { email, password: "correct-horse" }).then(
			() => true,
			() => false,
		);
		const told = announced("user.registered", (event) => event.data.email === email);
		expect({ signsIn, announced: told }).toEqual({ signsIn, announced: signsIn ? 1 : 0 });
	});

	test("a stock adjustment: the new level shows if and only if inventory.updated with it is announced", async () => {
		const productId = await shop.newProduct(4);
		const adjust = () => shop.broker.call("inventory.adjust", { productId, delta: 3, reason: "delivery" }, ADMIN);
		expect(await withSecondWriteFailing("inventory", adjust)).toBe(true);
		await relayLater("inventory");

		const changed = (await shop.stockOf(productId)).available === 7;
		const told = announced("inventory.updated", (event) => event.data.productId === productId && event.data.available === 7);
		expect({ changed, announced: told }).toEqual({ changed, announced: changed ? 1 : 0 });
	});
});
