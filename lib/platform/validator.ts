/**
 * The brokers' parameter validator: Moleculer's fastest-validator, made to check what the OpenAPI
 * document (JSON Schema) says, in two places where it did not:
 * - string lengths are counted in characters, not UTF-16 code units ("20 characters at most"
 *   refused a postal code of ten emoji);
 * - an optional parameter sent as null is refused (422 naming it), not taken as left out: the
 *   document does not allow null there, and a null that got through was written as the value.
 *   Rules that say `nullable: true` or have a default keep fastest-validator's behaviour.
 */
import { Validators } from "moleculer";

/** The line of fastest-validator's string rule that measures the value. */
const UTF16_LENGTH = "var len = value.length;";
const CHARACTER_LENGTH = "var len = Array.from(value).length;";

type RuleCompiler = (this: unknown, ...args: unknown[]) => { source: string; sanitized?: boolean };

interface CompiledRule {
	schema: { optional?: boolean; nullable?: boolean; default?: unknown; type?: string };
	messages: Record<string, string>;
}

/** The parts of fastest-validator's instance this changes. */
interface FastestValidator {
	rules: Record<string, RuleCompiler>;
	add(type: string, compiler: RuleCompiler): void;
	addMessage(name: string, message: string): void;
	makeError(error: { type: string; actual: string; messages: Record<string, string> }): string;
	wrapRequiredCheckSourceCode(rule: CompiledRule, innerSrc: string, context: unknown, resVar: string): string;
}

export class ShopValidator extends Validators.Fastest {
	constructor() {
		super();
		const validator = (this as unknown as { validator: FastestValidator }).validator;
		const stringRule = validator.rules.string;
		const wrapPresenceCheck = validator.wrapRequiredCheckSourceCode;
		// An upgrade that changes either must be looked at, not passed silently.
		if (!stringRule || typeof wrapPresenceCheck !== "function")
			throw new Error("fastest-validator changed: review lib/platform/validator.ts");

		validator.add("string", function (this: unknown, ...args: unknown[]) {
			const compiled = stringRule.apply(this, args);
			if (!compiled.source.includes(UTF16_LENGTH))
				throw new Error("fastest-validator's string rule changed: review lib/platform/validator.ts");
			return { ...compiled, source: compiled.source.replace(UTF16_LENGTH, CHARACTER_LENGTH) };
		});

		validator.addMessage("notNull", "The '{field}' field cannot be null.");
		validator.wrapRequiredCheckSourceCode = function (this: FastestValidator, rule, innerSrc, context, resVar) {
			const { optional, nullable, default: fallback, type } = rule.schema;
			if (optional !== true || nullable === true || fallback !== undefined || type === "forbidden")
				return wrapPresenceCheck.call(this, rule, innerSrc, context, resVar);
			const refuseNull = this.makeError({ type: "notNull", actual: "value", messages: rule.messages });
			return `if (value === undefined) {} else if (value === null) { ${refuseNull} } ${innerSrc ? `else { ${innerSrc} }` : ""}`;
		};
	}
}
