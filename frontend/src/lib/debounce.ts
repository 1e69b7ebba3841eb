/** Runs `action` once things have been quiet for `ms`: a burst of pushes costs one reload, not fifty. */
export function debounce(action: () => void, ms: number): () => void {
	let timer: ReturnType<typeof setTimeout> | undefined;
	return () => {
		clearTimeout(timer);
		timer = setTimeout(action, ms);
	};
}
