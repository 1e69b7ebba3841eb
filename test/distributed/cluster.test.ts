/**
 * The cluster as Kubernetes runs it: one process per pod, two gateways and two orders pods, over
 * the real Kafka transporter and FerretDB, with a stream of orders while pods are killed.
 */
import { type Agora, POD_ROLES, type PodRole, pod, type RunningNode, startAgora } from "../support/agora";
import { adminToken, client } from "../support/http";
import { type Attempt, checkOutcome, type OrderStream, openShop, type Shop, startOrderStream } from "../support/order-stream";
import { eventually } from "../support/wait";

let agora: Agora;
let shop: Shop;

// Each orders pod logs every request it receives at debug level: that is how we see who served what.
const ORDERS_DEBUG = { LOGLEVEL: "debug" };
const PLACE_RECEIVED = /<= Request 'orders\.place'/;

const api = () => client(agora.gatewayUrl(0));
const liveGateways = () => agora.running(POD_ROLES.gateway).map((node) => `http://127.0.0.1:${node.port}`);
const disconnectedNotice = (id: string) => new RegExp(`Node '${id}' disconnected unexpectedly`);
/** Failed attempts, of all phases or of those before `beforePhase`. */
const failures = (attempts: Attempt[], beforePhase = Number.POSITIVE_INFINITY) =>
	attempts.filter((attempt) => attempt.status !== 201 && attempt.phase < beforePhase);
const failuresIn = (attempts: Attempt[], phase: number) => failures(attempts).filter((attempt) => attempt.phase === phase);
const describeFailures = (attempts: Attempt[]) => attempts.map((attempt) => `${attempt.status} ${attempt.error}`);

/** SIGKILLs a pod and waits until every other gateway has dropped it (its heartbeats stopped); returns how long that took. */
async function killUntilDropped(victim: RunningNode): Promise<number> {
	const gateways = agora.running(POD_ROLES.gateway).filter((gateway) => gateway !== victim);
	const noticed = gateways.map((gateway) => gateway.linesMatching(disconnectedNotice(victim.id)));
	const killedAt = Date.now();
	await agora.kill(victim, "SIGKILL");
	await eventually(async () => expect(noticed.map((lines) => lines().length)).toEqual(noticed.map(() => 1)));
	return Date.now() - killedAt;
}

beforeAll(async () => {
	agora = await startAgora({
		distributed: true,
		// An order whose placing was cut off by a kill is failed by the reaper within the test.
		env: { ORDER_PENDING_TTL_SECONDS: "60" },
		nodes: [
			pod("gateway"),
			pod("gateway"),
			pod("catalog"),
			pod("orders", ORDERS_DEBUG),
			pod("orders", ORDERS_DEBUG),
			pod("payments"),
			pod("users"),
			pod("realtime"),
		],
	});
	shop = await openShop(api(), await adminToken(api()));
}, 240_000);

afterAll(async () => {
	await agora?.stop();
});

describe("six pod roles in eight processes over Kafka", () => {
	let stream: OrderStream | undefined;
	afterEach(async () => {
		await stream?.stop();
		stream = undefined;
		// A failed test may leave a role without a pod: start it again, so the next test fails only for its own reasons.
		for (const role of Object.keys(POD_ROLES) as PodRole[]) {
			if (agora.running(POD_ROLES[role]).length === 0) await agora.addNode(pod(role));
		}
	});

	test("orders placed through both gateways are served by both orders pods", async () => {
		const ordersPods = agora.running(POD_ROLES.orders);
		expect(ordersPods).toHaveLength(2);
		const served = ordersPods.map((node) => node.linesMatching(PLACE_RECEIVED));
		stream = startOrderStream(shop, liveGateways);
		await stream.accepted(30);
		const attempts = await stream.stop();

		const perPod = served.map((lines) => lines().length);
		console.info(`orders.place calls per orders pod: ${perPod.join(" / ")} (${attempts.length} orders sent)`);
		expect(perPod.reduce((sum, count) => sum + count, 0)).toBe(attempts.length);
		for (const count of perPod) expect(count).toBeGreaterThanOrEqual(Math.floor(attempts.length / 4));
		expect(describeFailures(failures(attempts))).toEqual([]);
	}, 120_000);

	test("SIGTERM of an orders pod drains: no request fails, and its replacement joins", async () => {
		const [, leaving] = agora.running(POD_ROLES.orders);
		if (!leaving) throw new Error("expected two orders pods");
		stream = startOrderStream(shop, liveGateways);
		await stream.accepted(10);
		await agora.kill(leaving, "SIGTERM");
		expect(leaving.process.exitCode).toBe(0);
		await stream.accepted(10);
		await agora.addNode(leaving.spec);
		await stream.accepted(10);
		const attempts = await stream.stop();

		expect(describeFailures(failures(attempts))).toEqual([]);
		const outcome = await checkOutcome(api(), shop, attempts);
		console.info(`SIGTERM of an orders pod: ${JSON.stringify(outcome)}`);
	}, 240_000);

	test("SIGKILL of an orders pod mid-stream: only calls routed to it before the cluster noticed fail; no order lost", async () => {
		const [victim] = agora.running(POD_ROLES.orders);
		if (!victim) throw new Error("no orders pod");
		stream = startOrderStream(shop, liveGateways);
		await stream.accepted(10);
		const noticedAfterMs = await killUntilDropped(victim);
		const afterPhase = stream.nextPhase();
		await stream.accepted(20);
		const attempts = await stream.stop();

		const cutOff = failures(attempts, afterPhase);
		console.info(
			`SIGKILL of an orders pod: ${cutOff.length} failed call(s) until both gateways dropped it ${noticedAfterMs} ms after the kill: ${describeFailures(cutOff).join("; ")}`,
		);
		// Each customer places one order at a time: it can lose the one in flight on the pod at the
		// kill, and one more routed there before the gateways noticed (their heartbeat timeout).
		expect(cutOff.length).toBeLessThanOrEqual(2 * shop.customers.length);
		for (const attempt of cutOff) expect(["SERVICE_UNAVAILABLE", "TIMEOUT"]).toContain(attempt.error);
		expect(describeFailures(failuresIn(attempts, afterPhase))).toEqual([]);
		const outcome = await checkOutcome(api(), shop, attempts);
		console.info(`SIGKILL of an orders pod: ${JSON.stringify(outcome)}`);
		await agora.addNode(victim.spec);
	}, 300_000);

	test("the payments pod crashes with orders pending; once it is back every order is confirmed or failed", async () => {
		const [usual] = agora.running(POD_ROLES.payments);
		if (!usual) throw new Error("no payments pod");
		// A provider that takes 2 s per charge: orders are still pending, their charge under way, when it dies.
		await agora.kill(usual, "SIGTERM");
		const payments = await agora.addNode(pod("payments", { PAYMENT_PROVIDER_DELAY_MS: "2000" }));
		const admin = shop.admin;
		const pendingCount = async () => (await api().get("/orders?status=pending&pageSize=1", { token: admin })).body.total as number;
		stream = startOrderStream(shop, liveGateways);
		await stream.accepted(3);
		await agora.kill(payments, "SIGKILL");
		const attempts = await stream.stop();
		// Nothing can charge them now: these orders were pending when payments died.
		const pendingWhileDown = await pendingCount();
		expect(pendingWhileDown).toBeGreaterThan(0);

		const restartedAt = Date.now();
		await agora.addNode(usual.spec);
		const outcome = await checkOutcome(api(), shop, attempts);
		console.info(
			`payments crash: ${pendingWhileDown} order(s) pending while it was down, all settled ${Date.now() - restartedAt} ms after the restart; ${JSON.stringify(outcome)}`,
		);
		expect(await pendingCount()).toBe(0);
	}, 300_000);

	test.each<PodRole>(["gateway", "catalog", "users", "realtime"])(
		"SIGKILL of the %s pod during load: calls fail only while it is down; invariants hold after its restart",
		async (role) => {
			const [victim] = agora.running(POD_ROLES[role]);
			if (!victim) throw new Error(`no ${role} pod`);
			stream = startOrderStream(shop, liveGateways);
			await stream.accepted(10);
			// Restarted as Kubernetes would: a new pod (a new node id) once the old one is known dead.
			await killUntilDropped(victim);
			await agora.addNode(victim.spec);
			const upPhase = stream.nextPhase();
			await stream.accepted(10);
			const attempts = await stream.stop();

			const whileDown = failures(attempts, upPhase);
			console.info(`SIGKILL of ${role}: ${whileDown.length} failed call(s) while down: ${describeFailures(whileDown).join("; ")}`);
			// Clean answers: an HTTP error status with a reason, or (only for the killed gateway's own connections) a cut connection.
			for (const attempt of whileDown) {
				if (attempt.status === 0) expect(role).toBe("gateway");
				else expect([503, 504]).toContain(attempt.status);
			}
			expect(describeFailures(failuresIn(attempts, upPhase))).toEqual([]);
			const outcome = await checkOutcome(api(), shop, attempts);
			console.info(`SIGKILL of ${role}: ${JSON.stringify(outcome)}`);
		},
		300_000,
	);
});
