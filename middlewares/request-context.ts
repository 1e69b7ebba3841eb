import type { Context, Middleware, Service } from "moleculer";
import { runInContext } from "../lib/platform/request-context";

type ChannelHandler = (ctx: Context, raw: unknown) => Promise<unknown>;

/** @moleculer/channels wraps channel handlers with a `localChannel` hook that moleculer's typings do not know. */
interface ChannelAwareMiddleware extends Middleware {
	localChannel(next: ChannelHandler): ChannelHandler;
}

/**
 * Each local action and channel handler runs inside its context (lib/platform/request-context.ts), so log
 * lines and the domain events it publishes carry the request id without a `ctx` parameter.
 */
export const requestContextMiddleware: ChannelAwareMiddleware = {
	name: "RequestContext",
	localAction(next) {
		return function (this: Service, ctx: Context) {
			return runInContext(ctx, () => next.call(this, ctx));
		};
	},
	localChannel(next) {
		return (ctx, raw) => runInContext(ctx, () => next(ctx, raw));
	},
};
