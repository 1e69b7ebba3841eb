import { accountsSuite } from "../support/accounts.suite";
import { type Agora, startAgora } from "../support/agora";

let agora: Agora;

beforeAll(async () => {
	agora = await startAgora();
});

afterAll(async () => {
	await agora?.stop();
});

describe("accounts, embedded mode", () => {
	accountsSuite(() => agora);
});
