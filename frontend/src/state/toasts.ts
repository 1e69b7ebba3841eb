import { Store } from "./store";

export type ToastTone = "info" | "success" | "warning" | "error";

export interface Toast {
	id: number;
	message: string;
	tone: ToastTone;
}

// Long enough to read two lines; warnings and errors stay longer as they usually ask for an action.
const LIFETIME_MS: Record<ToastTone, number> = { info: 6_000, success: 5_000, warning: 9_000, error: 9_000 };
const MAX_VISIBLE = 4;

/** Short messages for pushes and failures; the oldest go first when many arrive at once. */
export class ToastStore extends Store<readonly Toast[]> {
	#next = 1;

	constructor() {
		super([]);
	}

	get list(): readonly Toast[] {
		return this.value;
	}

	show(message: string, tone: ToastTone = "info"): void {
		const toast = { id: this.#next++, message, tone };
		this.set([...this.value, toast].slice(-MAX_VISIBLE));
		setTimeout(() => this.dismiss(toast.id), LIFETIME_MS[tone]);
	}

	error(error: unknown, fallback = "Something went wrong."): void {
		this.show(error instanceof Error && error.message ? error.message : fallback, "error");
	}

	dismiss(id: number): void {
		this.set(this.value.filter((toast) => toast.id !== id));
	}
}
