import { Errors, ServiceBroker } from "moleculer";
import { ShopValidator } from "../../lib/platform/validator";

const broker = new ServiceBroker({ logger: false, validator: new ShopValidator() });
broker.createService({
	name: "labels",
	actions: {
		set: {
			params: {
				label: { type: "string", min: 2, max: 3 },
				note: { type: "string", optional: true },
				colour: { type: "string", optional: true, nullable: true },
				size: { type: "number", default: 1 },
			},
			handler: (ctx) => ctx.params,
		},
	},
});
beforeAll(() => broker.start());
afterAll(() => broker.stop());

/** The validation errors of a call that must fail. */
async function refusal(params: object): Promise<{ field: string; type: string; message: string }[]> {
	const error = await broker.call("labels.set", params).then(
		() => null,
		(err: unknown) => err,
	);
	expect(error).toBeInstanceOf(Errors.ValidationError);
	return (error as Errors.ValidationError).data as { field: string; type: string; message: string }[];
}

describe("string lengths are counted in characters, as the OpenAPI document states them", () => {
	test("three emoji (six UTF-16 code units) fit in three characters", async () => {
		await expect(broker.call("labels.set", { label: "📦🚚🏠" })).resolves.toMatchObject({ label: "📦🚚🏠" });
	});

	test("four characters are still too many, and one too few", async () => {
		expect((await refusal({ label: "abcd" }))[0]).toMatchObject({ field: "label", type: "stringMax" });
		expect((await refusal({ label: "📦" }))[0]).toMatchObject({ field: "label", type: "stringMin" });
	});
});

describe("null is a value, refused where the document does not allow it", () => {
	test("an optional parameter sent as null is a 422 naming it, not taken as left out", async () => {
		expect(await refusal({ label: "ab", note: null })).toEqual([expect.objectContaining({ field: "note", type: "notNull" })]);
	});

	test("left out, nullable or defaulted, null is still fine", async () => {
		await expect(broker.call("labels.set", { label: "ab" })).resolves.toEqual({ label: "ab", size: 1 });
		await expect(broker.call("labels.set", { label: "ab", colour: null, size: null })).resolves.toEqual({
			label: "ab",
			colour: null,
			size: 1,
		});
	});
});
