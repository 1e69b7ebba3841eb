/**
 * Shows a change before the server confirms it, and puts the old state back if the server refuses:
 * the UI feels instant, and never keeps claiming something that did not happen.
 */
export async function optimistically<T>(show: () => void, request: () => Promise<T>, undo: () => void): Promise<T> {
	show();
	try {
		return await request();
	} catch (error) {
		undo();
		throw error;
	}
}
