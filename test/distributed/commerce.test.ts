import { type Agora, startAgora } from "../support/agora";
import { commerceSuite } from "../support/commerce.suite";

let agora: Agora;

beforeAll(async () => {
	agora = await startAgora({
		distributed: true,
		nodes: [{ services: ["api"] }, { services: ["users", "products", "inventory"] }, { services: ["orders", "payments", "realtime"] }],
	});
});

afterAll(async () => {
	await agora?.stop();
});

describe("commerce, distributed: three processes over Kafka, stored in FerretDB", () => {
	commerceSuite(() => agora);
});
