/** A value that components watch: set it and every subscriber hears, in the order they subscribed. */
export class Store<T> {
	#value: T;
	readonly #listeners = new Set<(value: T) => void>();

	constructor(initial: T) {
		this.#value = initial;
	}

	get value(): T {
		return this.#value;
	}

	subscribe(listener: (value: T) => void): () => void {
		this.#listeners.add(listener);
		return () => this.#listeners.delete(listener);
	}

	protected set(next: T): void {
		if (Object.is(next, this.#value)) return;
		this.#value = next;
		for (const listener of this.#listeners) listener(next);
	}
}
