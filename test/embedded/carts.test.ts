import { type Agora, startAgora } from "../support/agora";
import { CART_ENV, cartsSuite } from "../support/carts.suite";

let agora: Agora;

beforeAll(async () => {
	agora = await startAgora({ env: CART_ENV });
});

afterAll(async () => {
	await agora?.stop();
});

describe("carts and checkout, embedded mode", () => {
	cartsSuite(() => agora);
});
