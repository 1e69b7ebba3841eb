/**
 * The in-process tier: the real services in one ServiceBroker, as the embedded mode runs them
 * (the SQLite store in a temporary DATA_DIR, the in-process channel adapter), so a test can call
 * a service's methods and hold a step of a race where it wants it instead of timing processes.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { type Middleware, type Service, ServiceBroker, type ServiceSchema } from "moleculer";
import type { DomainEvent, DomainEventType, OrderSnapshot } from "../../lib/contracts/events";
import { serviceFile } from "../../lib/platform/service-files";
import { readSettings, type Settings, useSettings } from "../../lib/platform/settings";
import type { DbAdapter } from "../../lib/platform/store";
import brokerOptions from "../../moleculer.config";
import type { ChannelBroker } from "../../types/moleculer";

const SERVICES_DIR = path.join(__dirname, "..", "..", "services");

export const ADMIN = { meta: { user: { id: "admin-1", role: "admin" } } };
export const CUSTOMER = { meta: { user: { id: "customer-1", role: "customer" } } };

/**
 * The embedded mode's settings on `dataDir`, whatever the test process's environment says, with
 * the background loops (relay, reaper, recovery) off: a test runs their work itself, when the race
 * needs it, so nothing runs behind its back.
 */
export function embeddedSettings(dataDir: string, env: Record<string, string> = {}): Settings {
	return { ...readSettings({ DATA_DIR: dataDir, SEED_DEMO: "0", LOGLEVEL: "warn", ...env }), backgroundLoops: false };
}

/** A door a test closes to stop calls at one point, and opens to let them on. */
export interface Gate {
	wait: Promise<void>;
	open(): void;
	close(): void;
}

export function gate(): Gate {
	const door: Gate = {
		wait: Promise.resolve(),
		open: () => {},
		close() {
			door.wait = new Promise<void>((resolve) => {
				door.open = resolve;
			});
		},
	};
	return door;
}

export interface Shop {
	broker: ServiceBroker;
	/** Every event the services handed to the channel adapter, in order. */
	sent: DomainEvent[];
	sentOf<E extends DomainEventType>(type: E, key: (event: DomainEvent<E>) => boolean): DomainEvent<E>[];
	service<T>(name: string): T & Service;
	newProduct(stock: number): Promise<string>;
	stockOf(productId: string): Promise<{ available: number; reserved: number }>;
	orderOf(id: string): Promise<OrderSnapshot>;
	stop(): Promise<void>;
}

let sku = 0;

/**
 * Starts `services` (names under services/) in one broker, on `embeddedSettings`.
 */
export async function startShop(services: string[], middlewares: Middleware[] = []): Promise<Shop> {
	const dataDir = mkdtempSync(path.join(tmpdir(), "agora-in-process-"));
	useSettings(embeddedSettings(dataDir));
	const config = brokerOptions();
	const broker = new ServiceBroker({
		...config,
		nodeID: `in-process-${process.pid}`,
		logger: false,
		middlewares: [...(config.middlewares ?? []), ...middlewares],
	});
	for (const name of services) {
		const service = (await import(serviceFile(SERVICES_DIR, name) ?? name)) as { default: ServiceSchema };
		broker.createService(service.default);
	}

	const sent: DomainEvent[] = [];
	const channels = broker as ChannelBroker;
	const send = channels.sendToChannel.bind(channels);
	channels.sendToChannel = async (channel, payload, opts) => {
		await send(channel, payload, opts);
		sent.push(payload as DomainEvent);
	};

	await broker.start();

	return {
		broker,
		sent,
		sentOf: <E extends DomainEventType>(type: E, key: (event: DomainEvent<E>) => boolean) =>
			sent.filter((event): event is DomainEvent<E> => event.type === type).filter(key),
		service: <T>(name: string) => broker.getLocalService(name) as unknown as T & Service,
		async newProduct(stock) {
			const product = await broker.call<{ id: string }, object>(
				"products.create",
				{ name: "In-process kettle", sku: `IP-${Date.now()}-${sku++}`, price: 1500, category: "brewing", stock },
				ADMIN,
			);
			return product.id;
		},
		stockOf: (productId) => broker.call("inventory.get", { productId }),
		orderOf: (id) => broker.call("orders.get", { id }, ADMIN),
		async stop() {
			await broker.stop();
			rmSync(dataDir, { recursive: true, force: true });
		},
	};
}

/**
 * A point where a writer stops: `step` is what the writer runs there (it waits until `go()`), and
 * `reached` resolves once it has arrived. So a test can let the other side of a race go first.
 */
export function stopPoint() {
	const door = gate();
	door.close();
	let arrive = () => {};
	const reached = new Promise<void>((resolve) => {
		arrive = resolve;
	});
	return {
		reached,
		go: () => door.open(),
		async step() {
			arrive();
			await door.wait;
		},
	};
}

/**
 * Runs `step` before the first `insert` (or `updateMany`) of `adapter` whose document (or query)
 * `matches`, then lets that write go on: a competing writer's line written first, or a stop
 * point that holds the writer between its decision and its write. Resolves once that write has
 * been tried (whether it succeeded or not).
 */
export function beforeWrite(
	adapter: DbAdapter,
	method: "insert" | "updateMany",
	matches: (docOrQuery: Record<string, unknown>) => boolean,
	step: () => Promise<void>,
): Promise<void> {
	let done = false;
	let tried = () => {};
	const written = new Promise<void>((resolve) => {
		tried = resolve;
	});
	const around = async <T>(docOrQuery: object, write: () => Promise<T>): Promise<T> => {
		if (done || !matches(docOrQuery as Record<string, unknown>)) return write();
		done = true;
		await step();
		try {
			return await write();
		} finally {
			tried();
		}
	};
	if (method === "insert") {
		const insert = adapter.insert.bind(adapter);
		adapter.insert = (doc: object) => around(doc, () => insert(doc));
	} else {
		const updateMany = adapter.updateMany.bind(adapter);
		adapter.updateMany = (query: object, update: object) => around(query, () => updateMany(query, update));
	}
	return written;
}
