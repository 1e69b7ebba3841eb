/**
 * The placement saga's undo, generated from its own step list (services/orders/placement.ts
 * `placementPlan`): for every step, the placement fails at it (the step never ran) and, for every
 * step but the last, right after it (the step happened, as a call that timed out may have). Either
 * way nothing may be left: no order, no units reserved, no payment that could be charged, no
 * `order.created`. A step added to the plan is covered without a line of this file changing.
 */
import { Context } from "moleculer";
import { type SagaPlan, type SagaStep, stepNames } from "../../lib/platform/saga";
import { type Placement, type PlacementHost, placementPlan, preparePlacement, runPlacement } from "../../services/orders/placement";
import { ADDRESS, GOOD_CARD } from "../support/commerce.suite";
import { ADMIN, CUSTOMER, type Shop, startShop } from "../support/in-process";

let shop: Shop;
let host: PlacementHost;

beforeAll(async () => {
	shop = await startShop(["products", "inventory", "payments", "orders"]);
	host = shop.service<{ host(): PlacementHost }>("orders").host();
});

afterAll(() => shop?.stop());

/** `plan` with step `name` failing: instead of running, or right after it ran. */
function failing(plan: SagaPlan<Placement>, name: string, when: "at" | "after"): SagaPlan<Placement> {
	const fail = (step: SagaStep<Placement>): SagaStep<Placement> =>
		step.name !== name
			? step
			: {
					...step,
					async run(placement) {
						if (when === "after") await step.run(placement);
						throw new Error(`injected failure ${when} ${name}`);
					},
				};
	return plan.map((entry) => (Array.isArray(entry) ? entry.map(fail) : fail(entry as SagaStep<Placement>)));
}

const steps = stepNames(placementPlan({} as PlacementHost));
const last = steps.at(-1);
const cases = steps.flatMap((name) => [{ name, when: "at" as const }, ...(name === last ? [] : [{ name, when: "after" as const }])]);

test("the plan has steps to check", () => {
	expect(steps).toEqual(["writeOrder", "reserveStock", "preparePayment", "finishPlacement"]);
});

test.each(cases)("a placement failing $when $name leaves nothing reserved, chargeable or announced", async ({ name, when }) => {
	const productId = await shop.newProduct(5);
	const ctx = new Context(shop.broker);
	ctx.meta = CUSTOMER.meta;
	const placement = await preparePlacement(host, ctx, {
		lines: [{ productId, quantity: 2 }],
		shippingAddress: ADDRESS,
		cardNumber: GOOD_CARD,
		buyer: { userId: CUSTOMER.meta.user.id },
	});
	const orderId = placement.order._id;

	await expect(runPlacement(host, placement, failing(placementPlan(host), name, when))).rejects.toThrow(`injected failure ${when} ${name}`);

	await expect(shop.orderOf(orderId)).rejects.toMatchObject({ type: "ORDER_NOT_FOUND" });
	expect(await shop.stockOf(productId)).toMatchObject({ available: 5, reserved: 0, held: 0 });
	const payments = await shop.broker.call<{ status: string }[], object>("payments.list", { orderId }, ADMIN);
	expect(payments.filter((payment) => payment.status !== "voided")).toEqual([]);
	expect(shop.sentOf("order.created", (event) => event.data.id === orderId)).toEqual([]);
});
