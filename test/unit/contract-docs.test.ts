import "../support/gateway-settings";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { ERROR_TYPES } from "../../lib/contracts/errors";
import { DOMAIN_EVENTS } from "../../lib/contracts/events";
import { ADMIN_TRANSITIONS, CUSTOMER_CANCELLABLE, ORDER_STATUSES, type OrderStatus } from "../../lib/contracts/orders";
import { ADMINS_ROOM, userRoom } from "../../lib/contracts/realtime";
import gateway from "../../services/api/api.service";
import { ROUTES as SOCKET_ROUTES } from "../../services/realtime.service";

/**
 * docs/api.md and docs/events.md are the contract for users and integrators; these checks keep
 * their tables equal to what the code does, so a new route, event or status move cannot ship
 * undocumented (or documented and gone).
 */
const ROOT = path.join(__dirname, "..", "..");
const DOCS = path.join(ROOT, "docs");

/** The cells of each row of the first table under `## <section>`, backticks removed. */
function table(file: string, section: string): string[][] {
	const text = readFileSync(path.join(DOCS, file), "utf8");
	const start = text.indexOf(`\n## ${section}\n`);
	if (start < 0) throw new Error(`${file} has no section "${section}"`);
	const lines = text.slice(start).split("\n");
	const first = lines.findIndex((line) => line.startsWith("|"));
	const rows: string[][] = [];
	for (const line of lines.slice(first + 2)) {
		if (!line.startsWith("|")) break;
		rows.push(
			line
				.slice(1, -1)
				.split("|")
				.map((cell) => cell.trim().replaceAll("`", "")),
		);
	}
	return rows;
}

describe("docs/api.md", () => {
	test("the route table lists exactly the gateway's routes, from which the OpenAPI document is made", () => {
		// HEAD is the GET routes' own, said once in the text.
		const aliases = Object.keys(gateway.settings?.routes?.[0]?.aliases ?? {}).filter((route) => !route.startsWith("HEAD "));
		expect(aliases.length).toBeGreaterThan(15);
		expect(
			table("api.md", "Routes")
				.map(([route]) => route)
				.sort(),
		).toEqual(aliases.sort());
	});
});

describe("docs/api.md errors", () => {
	test("the error table lists every type of the catalogue (lib/contracts/errors.ts) under its status, and no other", () => {
		const byStatus = (pairs: [string, number][]) => {
			const grouped: Record<string, string[]> = {};
			for (const [type, status] of pairs) grouped[status] = [...(grouped[status] ?? []), type];
			return Object.fromEntries(Object.entries(grouped).map(([status, types]) => [status, types.sort()]));
		};
		const documented = table("api.md", "Errors").flatMap(([status, , types]) =>
			(types ? types.split(", ") : []).map((type): [string, number] => [type, Number(status)]),
		);
		const catalogue = Object.entries(ERROR_TYPES).map(([type, { status }]): [string, number] => [type, status]);
		expect(documented.length).toBeGreaterThan(25);
		expect(byStatus(documented)).toEqual(byStatus(catalogue));
	});
});

describe("docs/events.md", () => {
	test("the Socket.IO table lists exactly the events the realtime service pushes, to the rooms it pushes them to", () => {
		const owner = "owner-1";
		const audience = (rooms: string[] | null) => {
			if (rooms === null) return "everyone";
			const who = [rooms.includes(userRoom(owner)) && "the order's owner", rooms.includes(ADMINS_ROOM) && "admins"].filter(Boolean);
			return who.join(" and ");
		};
		// A route reads at most an order's owner or a product's stock, so one sample serves them all.
		const sample = { userId: owner, productId: "p", available: 1 };
		const routeOf = (route: unknown) => route as (data: typeof sample) => { rooms: string[] | null };
		const pushed = Object.entries(SOCKET_ROUTES).map(([event, route]) => [event, audience(routeOf(route)(sample).rooms)]);
		expect(
			table("events.md", "Socket.IO")
				.map(([event, who]) => [event, who])
				.sort(),
		).toEqual(pushed.sort());
	});

	test("the topic table lists exactly the durable domain events", () => {
		expect(
			table("events.md", "Kafka topics")
				.map(([topic]) => topic)
				.sort(),
		).toEqual([...DOMAIN_EVENTS].sort());
	});

	test("the state table lists exactly the moves of lib/contracts/orders.ts, with who may make each", () => {
		const rows = table("events.md", "Order states").map(([from, to, who = ""]) => ({ move: `${from} -> ${to}`, who }));
		const moves = (filter: (who: string) => boolean) =>
			rows
				.filter(({ who }) => filter(who))
				.map(({ move }) => move)
				.sort();
		const adminMoves = Object.entries(ADMIN_TRANSITIONS).flatMap(([from, targets]) => targets.map((to) => `${from} -> ${to}`));
		expect(moves((who) => who.includes("admin"))).toEqual(adminMoves.sort());
		expect(moves((who) => who.includes("customer"))).toEqual(CUSTOMER_CANCELLABLE.map((from) => `${from} -> cancelled`).sort());
		// The payment's verdict is the system's alone: the statuses no person may set, from pending.
		const byPeople = new Set<OrderStatus>(["pending", ...Object.values(ADMIN_TRANSITIONS).flat(), "cancelled"]);
		const systemMoves = ORDER_STATUSES.filter((status) => !byPeople.has(status)).map((to) => `pending -> ${to}`);
		expect(moves((who) => who.startsWith("system"))).toEqual(systemMoves.sort());
		expect(rows.every(({ who }) => who.startsWith("system") || who.includes("admin"))).toBe(true);
	});
});

describe("the repository stands alone", () => {
	const tracked = execFileSync("git", ["ls-files"], { cwd: ROOT, encoding: "utf8" }).split("\n").filter(Boolean);

	test("no file refers to a design document outside the repository", () => {
		const outside = /\.\.\/shared\/DESIGN|DESIGN\.md/;
		const offenders = tracked.filter(
			(file) =>
				file !== path.relative(ROOT, __filename) &&
				existsSync(path.join(ROOT, file)) &&
				outside.test(readFileSync(path.join(ROOT, file), "utf8")),
		);
		expect(offenders).toEqual([]);
	});

	test("every relative link of the README and docs/ leads to a file of the repository", () => {
		const broken = tracked
			.filter((file) => file === "README.md" || (file.startsWith("docs/") && file.endsWith(".md")))
			.flatMap((file) =>
				[...readFileSync(path.join(ROOT, file), "utf8").matchAll(/\]\(([^)#:\s]+)(#[^)]*)?\)/g)].map((link) => ({
					file,
					target: path.join(path.dirname(file), link[1] as string),
				})),
			)
			.filter(({ target }) => !tracked.includes(target));
		expect(broken).toEqual([]);
	});
});
