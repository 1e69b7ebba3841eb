import { type Agora, pod, startAgora } from "../support/agora";
import { CART_ENV, cartsSuite } from "../support/carts.suite";

let agora: Agora;

beforeAll(async () => {
	// Carts run beside orders, as the orders pod role deploys them; the roles that only react to
	// events share one process, to spare the machine.
	agora = await startAgora({
		distributed: true,
		env: CART_ENV,
		nodes: [pod("gateway"), pod("catalog"), pod("orders"), { services: ["payments", "users", "realtime", "insights"] }],
	});
});

afterAll(async () => {
	await agora?.stop();
});

describe("carts and checkout, distributed: carts beside orders over Kafka, stored in FerretDB", () => {
	cartsSuite(() => agora);
});
