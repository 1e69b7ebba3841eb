/**
 * A labelled form control with its hint and error, rendered into the caller's own shadow root:
 * labels, `aria-describedby` and FormData all need the control in the same tree as the form.
 */
import { html, nothing, type TemplateResult } from "lit";
import { ifDefined } from "lit/directives/if-defined.js";

interface FieldBase {
	name: string;
	label: string;
	value?: string;
	error?: string;
	hint?: string;
	required?: boolean;
}

export interface InputField extends FieldBase {
	type?: "text" | "email" | "password" | "number" | "search" | "url";
	autocomplete?: string;
	inputmode?: "numeric" | "decimal" | "text";
	min?: number;
	step?: string;
}

export interface SelectField extends FieldBase {
	options: readonly { value: string; label: string }[];
	autocomplete?: string;
}

const idOf = (name: string) => `field-${name.replace(/[^\w-]/g, "-")}`;

function wrap(field: FieldBase, control: (id: string, describedBy: string | undefined) => TemplateResult): TemplateResult {
	const id = idOf(field.name);
	const describedBy = [field.hint && `${id}-hint`, field.error && `${id}-error`].filter(Boolean).join(" ") || undefined;
	return html`<div class="field">
		<label for=${id}>${field.label}${field.required ? nothing : html` <span class="muted">(optional)</span>`}</label>
		${control(id, describedBy)}
		${field.hint ? html`<span class="hint" id="${id}-hint">${field.hint}</span>` : nothing}
		${field.error ? html`<p class="field-error" id="${id}-error">${field.error}</p>` : nothing}
	</div>`;
}

export function inputField(field: InputField): TemplateResult {
	return wrap(
		field,
		(id, describedBy) => html`<input
			id=${id}
			name=${field.name}
			type=${field.type ?? "text"}
			.value=${field.value ?? ""}
			autocomplete=${ifDefined(field.autocomplete)}
			inputmode=${ifDefined(field.inputmode)}
			min=${ifDefined(field.min)}
			step=${ifDefined(field.step)}
			?required=${field.required}
			aria-invalid=${field.error ? "true" : "false"}
			aria-describedby=${ifDefined(describedBy)}
		/>`,
	);
}

export function textareaField(field: FieldBase): TemplateResult {
	return wrap(
		field,
		(id, describedBy) => html`<textarea
			id=${id}
			name=${field.name}
			.value=${field.value ?? ""}
			?required=${field.required}
			aria-invalid=${field.error ? "true" : "false"}
			aria-describedby=${ifDefined(describedBy)}
		></textarea>`,
	);
}

export function selectField(field: SelectField): TemplateResult {
	return wrap(
		field,
		(id, describedBy) => html`<select
			id=${id}
			name=${field.name}
			autocomplete=${ifDefined(field.autocomplete)}
			?required=${field.required}
			aria-invalid=${field.error ? "true" : "false"}
			aria-describedby=${ifDefined(describedBy)}
		>
			${field.options.map((option) => html`<option value=${option.value} ?selected=${option.value === field.value}>${option.label}</option>`)}
		</select>`,
	);
}

/** Moves focus to the first control flagged invalid, so keyboard and screen reader users land on the problem. */
export function focusFirstInvalid(root: ShadowRoot | null): void {
	root?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
}
