import type { CallingOptions, Context, ServiceBroker } from "moleculer";
import type { ActionContracts, ActionName } from "../contracts/actions";

/** A call another service answers, typed by lib/contracts/actions.ts: params checked, reply known. */
export function call<A extends ActionName>(
	caller: Context | ServiceBroker,
	action: A,
	params: ActionContracts[A]["params"],
	opts?: CallingOptions,
): Promise<ActionContracts[A]["reply"]> {
	return caller.call<ActionContracts[A]["reply"], ActionContracts[A]["params"]>(action, params, opts);
}
