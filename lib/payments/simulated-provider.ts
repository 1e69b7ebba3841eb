import { setTimeout as sleep } from "node:timers/promises";
import { settings } from "../platform/settings";
import type { PaymentProvider } from "./payment-provider";

type Verdict = "approve" | "decline";

/** The only cards the simulation knows, and what it answers when each is charged. */
export const TEST_CARDS: Readonly<Record<string, Verdict>> = {
	"4242424242424242": "approve",
	"4000000000000002": "decline",
};

/**
 * A provider that moves no money: a card's authorization is the verdict its charge will give, and
 * with nothing taken there is nothing to void or refund. A real provider takes a while to answer a
 * charge; the simulation can too (`PAYMENT_PROVIDER_DELAY_MS`: demos, crash tests).
 */
export const simulatedProvider: PaymentProvider = {
	cardNumberRule: {
		type: "string",
		enum: Object.keys(TEST_CARDS),
		messages: { stringEnum: "Use a test card: 4242424242424242 (succeeds) or 4000000000000002 (is declined)" },
	},

	async authorize(_payment, cardNumber): Promise<Verdict> {
		// cardNumberRule has let through only test cards.
		return TEST_CARDS[cardNumber] ?? "decline";
	},

	async charge(_payment, authorization) {
		const delayMs = settings().paymentProviderDelayMs;
		if (delayMs > 0) await sleep(delayMs);
		return authorization === "approve" ? { approved: true } : { approved: false, reason: "Card declined" };
	},

	async void() {},

	async refund() {},
};
