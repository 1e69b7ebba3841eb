import { type Agora, startAgora } from "../support/agora";
import { commerceSuite } from "../support/commerce.suite";

let agora: Agora;

beforeAll(async () => {
	agora = await startAgora();
});

afterAll(async () => {
	await agora?.stop();
});

describe("commerce, embedded mode", () => {
	commerceSuite(() => agora);
});
