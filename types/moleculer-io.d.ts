/** moleculer-io ships no typings; it exports a mixin schema (the api service mixes it in). */
declare module "moleculer-io" {
	import type { ServiceSchema } from "moleculer";

	const SocketIOService: Partial<ServiceSchema>;
	export = SocketIOService;
}
