import { simulatedProvider } from "./simulated-provider";

/** A validator rule for a card number, as actions declare it in `params`. */
export interface CardNumberRule {
	type: "string";
	enum?: readonly string[];
	pattern?: RegExp;
	messages?: Readonly<Record<string, string>>;
}

/** The payment a provider is asked about: one per order, so the order id can key its calls. */
export interface ProviderPayment {
	orderId: string;
	amount: number;
	currency: string;
}

/** A charge's verdict; a decline says why, in words the shopper may see. */
export type ChargeResult = { approved: true } | { approved: false; reason: string };

/**
 * What the payments service needs from whoever moves the money. Every call may come again for the
 * same payment (a redelivered event, two nodes racing) and must then change nothing: a real
 * provider keys its requests by the order id.
 */
export interface PaymentProvider {
	/**
	 * The card numbers it can take. The orders service checks a placement's card with this rule
	 * before anything is reserved (a 422 by field, like every other bad field), payments.prepare again.
	 */
	readonly cardNumberRule: CardNumberRule;
	/** Registers the card for this payment; the authorization it returns is stored with the payment, never shown, and handed back below. */
	authorize(payment: ProviderPayment, cardNumber: string): Promise<string>;
	/** Takes the money, or says why not. */
	charge(payment: ProviderPayment, authorization: string): Promise<ChargeResult>;
	/** Lets an authorization that was never charged go. */
	void(payment: ProviderPayment, authorization: string): Promise<void>;
	/** Gives back the money a charge took. */
	refund(payment: ProviderPayment, authorization: string): Promise<void>;
}

/** The provider the shop pays with: a real one is plugged in here. */
export const paymentProvider: PaymentProvider = simulatedProvider;
