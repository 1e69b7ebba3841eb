import type { ServiceSchema, ServiceSettingSchema } from "moleculer";

/**
 * Types a mixin against the `this` it really runs with (its own methods and variables), then
 * hands it to `mixins: []`, whose element type Moleculer fixes to the default generics. The one
 * cast lives here because Moleculer's types cannot express "a schema for some other `this`".
 */
export function defineMixin<TSettings = ServiceSettingSchema, TMethods = object, TVars = object>(
	schema: Partial<ServiceSchema<TSettings, TMethods, TVars>>,
): Partial<ServiceSchema> {
	return schema as unknown as Partial<ServiceSchema>;
}
