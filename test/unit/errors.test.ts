import { once } from "node:events";
import { connect, createServer } from "node:net";
import { Errors } from "moleculer";
import { ERROR_TYPES, refusedForGood } from "../../lib/contracts/errors";
import { shopError } from "../../lib/platform/shop-error";
import { DatabaseUnavailableError, databaseUnreachable } from "../../mixins/db.mixin";
import { TooManyAttemptsError } from "../../services/api/auth-limits";
import { clientFacing, errorBody, MethodNotAllowedError } from "../../services/api/http-errors";

describe("the error catalogue", () => {
	it("gives each error the catalogue's status, and tells a client error from one worth repeating", () => {
		const outOfStock = shopError("OUT_OF_STOCK", "Not enough stock", { productId: "p1" });
		expect(outOfStock).toBeInstanceOf(Errors.MoleculerClientError);
		expect(errorBody(outOfStock)).toEqual({
			name: "MoleculerClientError",
			message: "Not enough stock",
			code: 409,
			type: "OUT_OF_STOCK",
			data: { productId: "p1" },
		});
		// Placement reads a client error as "refused for sure, nothing reserved": a busy one is not.
		const stillPlacing = shopError("ORDER_BEING_PLACED", "still being placed");
		expect(stillPlacing).not.toBeInstanceOf(Errors.MoleculerClientError);
		expect(stillPlacing.retryable).toBe(true);
		expect(stillPlacing.code).toBe(409);
		expect(shopError("STOCK_BUSY", "busy").code).toBe(503);
	});

	it("gives the error classes that carry more than shopError can the catalogue's status too", () => {
		for (const err of [new MethodNotAllowedError("PUT", ["GET"]), new TooManyAttemptsError(3), new DatabaseUnavailableError()]) {
			const { code, type } = errorBody(err);
			if (!type) throw new Error(`${err.name} answers with no catalogue type`);
			expect({ type, code }).toEqual({ type, code: ERROR_TYPES[type].status });
		}
	});

	it("takes a write to a connection the database closed (the driver passes Node's error on) for the database being away", async () => {
		const server = createServer((socket) => socket.end());
		await once(server.listen(0, "127.0.0.1"), "listening");
		const address = server.address();
		if (typeof address !== "object" || !address) throw new Error("no address");
		const socket = connect(address.port, "127.0.0.1");
		await once(socket, "end");
		const written = new Promise<Error>((resolve) => socket.once("error", resolve));
		socket.write("command");
		const err = await written;
		server.close();
		expect(err.message).toBe("This socket has been ended by the other party");
		expect(databaseUnreachable(err)).toBe(true);
		expect(databaseUnreachable(new Error("a bad query"))).toBe(false);
	});

	it("answers the cluster's troubles as the gateway's own 503 and 504, named as before", () => {
		const unavailable = errorBody(clientFacing(new Errors.ServiceNotAvailableError({ action: "orders.place", nodeID: "n1" })));
		expect(unavailable).toMatchObject({ name: "MoleculerError", code: 503, type: "SERVICE_UNAVAILABLE" });
		const timeout = errorBody(clientFacing(new Errors.RequestTimeoutError({ action: "orders.place", nodeID: "n1" })));
		expect(timeout).toMatchObject({ name: "MoleculerError", code: 504, type: "TIMEOUT" });
	});

	it("keeps a type outside the catalogue out of the answer", () => {
		const body = errorBody(new Errors.MoleculerClientError("Queue is full", 429, "QUEUE_FULL"));
		expect(body).toMatchObject({ code: 429, message: "Queue is full" });
		expect(body.type).toBeUndefined();
	});

	it("says which refusals are final, so the web app knows when a new Idempotency-Key is safe", () => {
		const body = (code: number, type?: string) => ({ name: "x", message: "x", code, type }) as Parameters<typeof refusedForGood>[0];
		expect(refusedForGood(body(409, "OUT_OF_STOCK"))).toBe(true);
		expect(refusedForGood(body(422, "VALIDATION_ERROR"))).toBe(true);
		// The first request with this key may still place the order: a new key could order twice.
		expect(refusedForGood(body(409, "ORDER_BEING_PLACED"))).toBe(false);
		expect(refusedForGood(body(429, "TOO_MANY_ATTEMPTS"))).toBe(false);
		expect(refusedForGood(body(503, "SERVICE_UNAVAILABLE"))).toBe(false);
		expect(refusedForGood(body(504))).toBe(false);
		expect(refusedForGood(body(400, "SOMETHING_NEW"))).toBe(true);
	});
});
