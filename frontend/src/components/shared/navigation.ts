/** Client-side navigation: components ask <agora-app> to go somewhere instead of touching history themselves. */
export class NavigateEvent extends Event {
	static readonly type = "agora-navigate";

	constructor(
		readonly url: string,
		readonly replace = false,
	) {
		super(NavigateEvent.type, { bubbles: true, composed: true });
	}
}

export function navigate(from: EventTarget, url: string, { replace = false } = {}): void {
	from.dispatchEvent(new NavigateEvent(url, replace));
}

declare global {
	interface HTMLElementEventMap {
		"agora-navigate": NavigateEvent;
	}
}
