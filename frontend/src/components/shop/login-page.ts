import { css, html, LitElement, nothing } from "lit";
import { customElement, property, state } from "lit/decorators.js";
import { ApiError } from "../../api/client";
import type { FieldErrors } from "../../lib/problems";
import { safeNext } from "../../lib/routes";
import { sessionContext, toastContext } from "../../state/contexts";
import { use, watch } from "../../state/controllers";
import { focusFirstInvalid, inputField } from "../shared/form-field";
import { navigate } from "../shared/navigation";
import { base, buttons, forms } from "../shared/styles";

type Mode = "sign-in" | "register";

/** Sign in or create an account, then go back to where the visitor was heading. */
@customElement("agora-login-page")
export class LoginPage extends LitElement {
	static override styles = [
		base,
		buttons,
		forms,
		css`
			:host {
				max-width: 26rem;
				margin: 0 auto;
			}
			.switch {
				margin: var(--agora-space-4) 0 0;
				text-align: center;
			}
		`,
	];

	@property() search = "";
	@state() private mode: Mode = "sign-in";
	@state() private errors: FieldErrors = {};
	@state() private formError = "";
	@state() private busy = false;
	@state() private email = "";

	readonly #session = watch(this, sessionContext);
	readonly #toasts = use(this, toastContext);

	override render() {
		const user = this.#session.value.user;
		if (user)
			return html`<div class="card">
				<h1>You are signed in</h1>
				<p>Signed in as ${user.name} (${user.email}).</p>
				<a class="button primary" href=${this.#next()}>Continue</a>
			</div>`;
		const registering = this.mode === "register";
		return html`<div class="card">
			<h1>${registering ? "Create your account" : "Sign in"}</h1>
			<form novalidate @submit=${this.#submit} aria-busy=${this.busy ? "true" : "false"}>
				${this.formError ? html`<p class="form-error" role="alert">${this.formError}</p>` : nothing}
				${registering ? inputField({ name: "name", label: "Your name", autocomplete: "name", required: true, error: this.errors.name }) : nothing}
				${inputField({ name: "email", label: "Email", type: "email", autocomplete: "email", required: true, value: this.email, error: this.errors.email })}
				${inputField({
					name: "password",
					label: "Password",
					type: "password",
					autocomplete: registering ? "new-password" : "current-password",
					required: true,
					error: this.errors.password,
					hint: registering ? "At least 8 characters." : undefined,
				})}
				<button class="button primary" type="submit" ?disabled=${this.busy}>${registering ? "Create account" : "Sign in"}</button>
			</form>
			<p class="switch">
				${registering ? "Already have an account?" : "New to Agora?"}
				<button class="link-button" type="button" @click=${this.#toggle}>${registering ? "Sign in" : "Create an account"}</button>
			</p>
		</div>`;
	}

	#next(): string {
		return safeNext(new URLSearchParams(this.search).get("next"));
	}

	#toggle = () => {
		this.mode = this.mode === "register" ? "sign-in" : "register";
		this.errors = {};
		this.formError = "";
	};

	#submit = async (event: SubmitEvent) => {
		event.preventDefault();
		const data = new FormData(event.target as HTMLFormElement);
		const field = (name: string) => String(data.get(name) ?? "");
		this.email = field("email").trim();
		this.busy = true;
		this.errors = {};
		this.formError = "";
		try {
			const session = this.#session.value;
			const user =
				this.mode === "register"
					? await session.register({ name: field("name").trim(), email: this.email, password: field("password") })
					: await session.signIn(this.email, field("password"));
			this.#toasts.value.show(`Welcome, ${user.name}.`, "success");
			navigate(this, this.#next(), { replace: true });
		} catch (error) {
			this.errors = error instanceof ApiError ? error.fieldErrors : {};
			this.formError = Object.keys(this.errors).length > 0 ? "" : error instanceof Error ? error.message : "Signing in failed.";
			void this.updateComplete.then(() => focusFirstInvalid(this.shadowRoot));
		} finally {
			this.busy = false;
		}
	};
}

declare global {
	interface HTMLElementTagNameMap {
		"agora-login-page": LoginPage;
	}
}
