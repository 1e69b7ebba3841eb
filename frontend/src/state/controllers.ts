/** Reactive controllers that connect components to the app state provided through context. */
import { type Context, ContextConsumer } from "@lit/context";
import type { ReactiveController, ReactiveControllerHost } from "lit";
import type { LiveConnection, LiveEvent, LiveHandler } from "../api/live";
import { liveContext } from "./contexts";

/** Anything that tells when it changed: every Store. */
interface Subscribable {
	subscribe(listener: () => void): () => void;
}

type Host = ReactiveControllerHost & HTMLElement;

/** A context value for a component; when watched, the component re-renders whenever the store changes. */
export class ContextRef<T> implements ReactiveController {
	readonly #host: Host;
	readonly #watch: boolean;
	#value: T | undefined;
	#unsubscribe: (() => void) | undefined;

	constructor(host: Host, context: Context<unknown, T>, watch: boolean) {
		this.#host = host;
		this.#watch = watch;
		host.addController(this);
		new ContextConsumer(host, {
			context,
			callback: (value) => {
				this.#value = value;
				this.#listen();
			},
		});
	}

	get value(): T {
		if (this.#value === undefined) throw new Error(`<${this.#host.localName}> must be rendered inside <agora-app>`);
		return this.#value;
	}

	hostConnected(): void {
		this.#listen();
	}

	hostDisconnected(): void {
		this.#unsubscribe?.();
		this.#unsubscribe = undefined;
	}

	#listen(): void {
		if (!this.#watch || this.#unsubscribe || this.#value === undefined) return;
		this.#unsubscribe = (this.#value as Subscribable).subscribe(() => this.#host.requestUpdate());
	}
}

/** A service from context (the API client, the toasts) that the component uses but does not render. */
export function use<T>(host: Host, context: Context<unknown, T>): ContextRef<T> {
	return new ContextRef(host, context, false);
}

/** A store from context whose changes re-render the component. */
export function watch<S extends Subscribable>(host: Host, context: Context<unknown, S>): ContextRef<S> {
	return new ContextRef(host, context, true);
}

export type LiveHandlers = { [E in LiveEvent]?: LiveHandler<E> };

/** Listens to pushes while the component is on the page, and stops when it leaves. */
export class LiveSubscription implements ReactiveController {
	readonly #live: ContextRef<LiveConnection>;
	readonly #handlers: LiveHandlers;
	#unsubscribes: (() => void)[] = [];

	constructor(host: Host, handlers: LiveHandlers) {
		this.#handlers = handlers;
		this.#live = use(host, liveContext);
		host.addController(this);
	}

	hostConnected(): void {
		const live = this.#live.value;
		this.#unsubscribes = Object.entries(this.#handlers).map(([event, handler]) =>
			live.on(event as LiveEvent, handler as LiveHandler<LiveEvent>),
		);
	}

	hostDisconnected(): void {
		for (const unsubscribe of this.#unsubscribes) unsubscribe();
		this.#unsubscribes = [];
	}
}
