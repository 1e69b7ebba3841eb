/**
 * A saga as declared steps: each step says what it does and what undoes it, and the runner does
 * them in order. Steps listed together (an inner array) run at once. When one fails, every step
 * that started (the failing ones too: a timed-out call may still have happened) is undone in
 * reverse, so each `undo` must be safe to run whatever its step did: idempotent, and a no-op for
 * what never happened. If an undo itself fails, the runner stops undoing and leaves the rest to
 * the saga's safety net (the caller's recovery), then throws the step's own error.
 */
export interface SagaStep<S> {
	name: string;
	run(state: S): Promise<void>;
	undo?(state: S): Promise<void>;
}

export type SagaPlan<S> = readonly (SagaStep<S> | readonly SagaStep<S>[])[];

/** The names of a plan's steps, in the order they run (for docs, logs and the compensation test). */
export function stepNames<S>(plan: SagaPlan<S>): string[] {
	return plan.flatMap((entry) => (Array.isArray(entry) ? entry.map((step) => step.name) : [(entry as SagaStep<S>).name]));
}

/** Runs `plan` on `state`; on a failure undoes what started, in reverse, and rethrows. `onUndoFailed` hears of an undo that failed. */
export async function runSaga<S>(plan: SagaPlan<S>, state: S, onUndoFailed: (step: string, err: unknown) => void): Promise<void> {
	const started: SagaStep<S>[] = [];
	try {
		for (const entry of plan) {
			const together: readonly SagaStep<S>[] = Array.isArray(entry) ? entry : [entry as SagaStep<S>];
			started.push(...together);
			const outcomes = await Promise.allSettled(together.map((step) => step.run(state)));
			const failed = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === "rejected");
			if (failed) throw failed.reason;
		}
	} catch (err) {
		for (const step of started.reverse()) {
			try {
				await step.undo?.(state);
			} catch (undoErr) {
				onUndoFailed(step.name, undoErr);
				break;
			}
		}
		throw err;
	}
}
