import { type Agora, startAgora } from "../support/agora";
import { realtimeSuite, SOCKET_LIMITS } from "../support/realtime.suite";

let agora: Agora;

beforeAll(async () => {
	agora = await startAgora({
		distributed: true,
		env: SOCKET_LIMITS,
		nodes: [
			{ services: ["api"] },
			{ services: ["api"] },
			{ services: ["users", "products", "inventory"] },
			{ services: ["orders", "payments", "realtime"] },
		],
	});
});

afterAll(async () => {
	await agora?.stop();
});

describe("realtime, distributed: two gateway processes, events over Kafka", () => {
	realtimeSuite(() => agora);
});
