/** Styles shared by the components' shadow roots; the values come from the theme in styles/theme.css. */
import { css } from "lit";

export const base = css`
	:host {
		display: block;
	}
	*,
	*::before,
	*::after {
		box-sizing: border-box;
	}
	h1,
	h2,
	h3 {
		line-height: 1.2;
		margin: 0 0 var(--agora-space-3);
	}
	h1 {
		font-size: clamp(1.5rem, 1.2rem + 1.2vw, 2rem);
	}
	h2 {
		font-size: 1.25rem;
	}
	h3 {
		font-size: 1.05rem;
	}
	p {
		margin: 0 0 var(--agora-space-3);
	}
	a {
		color: var(--agora-accent-strong);
	}
	:focus-visible {
		outline: none;
		box-shadow: var(--agora-focus-ring);
		border-radius: var(--agora-radius-small);
	}
	.muted {
		color: var(--agora-text-muted);
	}
	.sr-only {
		position: absolute;
		width: 1px;
		height: 1px;
		padding: 0;
		margin: -1px;
		overflow: hidden;
		clip: rect(0 0 0 0);
		white-space: nowrap;
		border: 0;
	}
	.card {
		background: var(--agora-surface);
		border: 1px solid var(--agora-border);
		border-radius: var(--agora-radius);
		box-shadow: var(--agora-shadow);
		padding: var(--agora-space-4);
	}
	.page-head {
		display: flex;
		flex-wrap: wrap;
		align-items: baseline;
		justify-content: space-between;
		gap: var(--agora-space-2) var(--agora-space-4);
		margin-bottom: var(--agora-space-4);
	}
	.page-head h1 {
		margin: 0;
	}
	@media (prefers-reduced-motion: reduce) {
		*,
		*::before,
		*::after {
			animation-duration: 0.01ms !important;
			transition-duration: 0.01ms !important;
		}
	}
`;

export const buttons = css`
	.button {
		display: inline-flex;
		align-items: center;
		justify-content: center;
		gap: var(--agora-space-2);
		min-height: 2.5rem;
		padding: 0 var(--agora-space-4);
		font: inherit;
		font-weight: 600;
		line-height: 1;
		text-decoration: none;
		color: var(--agora-text);
		background: var(--agora-surface);
		border: 1px solid var(--agora-border);
		border-radius: var(--agora-radius-small);
		cursor: pointer;
		transition: background-color 120ms ease, border-color 120ms ease;
	}
	.button:hover {
		border-color: var(--agora-text-muted);
	}
	.button.primary {
		color: var(--agora-on-accent);
		background: var(--agora-accent);
		border-color: var(--agora-accent);
	}
	.button.primary:hover {
		background: var(--agora-accent-strong);
	}
	.button.danger {
		color: var(--agora-danger);
		border-color: currentColor;
	}
	.button.danger:hover {
		background: var(--agora-danger-soft);
	}
	.button.small {
		min-height: 2rem;
		padding: 0 var(--agora-space-3);
		font-size: 0.875rem;
	}
	.button[disabled],
	.button[aria-disabled="true"] {
		opacity: 0.55;
		cursor: not-allowed;
	}
	.link-button {
		padding: 0;
		font: inherit;
		color: var(--agora-accent-strong);
		text-decoration: underline;
		background: none;
		border: 0;
		cursor: pointer;
	}
`;

export const forms = css`
	form {
		display: grid;
		gap: var(--agora-space-4);
	}
	fieldset {
		display: grid;
		gap: var(--agora-space-4);
		margin: 0;
		padding: 0;
		border: 0;
		min-width: 0;
	}
	legend {
		padding: 0;
		margin-bottom: var(--agora-space-3);
		font-size: 1.05rem;
		font-weight: 700;
	}
	.field {
		display: grid;
		gap: var(--agora-space-1);
		min-width: 0;
	}
	.field label {
		font-weight: 600;
	}
	.hint {
		font-size: 0.875rem;
		color: var(--agora-text-muted);
	}
	input,
	select,
	textarea {
		width: 100%;
		min-height: 2.5rem;
		padding: var(--agora-space-2) var(--agora-space-3);
		font: inherit;
		color: var(--agora-text);
		background: var(--agora-surface);
		border: 1px solid var(--agora-border);
		border-radius: var(--agora-radius-small);
	}
	textarea {
		min-height: 5rem;
		resize: vertical;
	}
	input:focus-visible,
	select:focus-visible,
	textarea:focus-visible {
		border-color: var(--agora-accent);
	}
	[aria-invalid="true"] {
		border-color: var(--agora-danger);
	}
	.field-error {
		margin: 0;
		font-size: 0.875rem;
		font-weight: 600;
		color: var(--agora-danger);
	}
	.form-error {
		margin: 0;
		padding: var(--agora-space-3);
		color: var(--agora-danger);
		background: var(--agora-danger-soft);
		border-radius: var(--agora-radius-small);
	}
	.row {
		display: grid;
		grid-template-columns: repeat(auto-fit, minmax(10rem, 1fr));
		gap: var(--agora-space-4);
	}
`;

/**
 * A list of figure tiles (`ul.tiles > .tile`, each a label and its figure in a `strong`) in as
 * many columns as fit. A tile may be a link to the figure's page.
 */
export const tileGrid = css`
	.tiles {
		display: grid;
		grid-template-columns: repeat(auto-fit, minmax(10rem, 1fr));
		gap: var(--agora-space-3);
		margin: 0 0 var(--agora-space-5);
		padding: 0;
		list-style: none;
	}
	.tile {
		display: grid;
		gap: var(--agora-space-1);
		color: inherit;
		text-decoration: none;
	}
	.tile strong {
		font-size: 2rem;
		line-height: 1;
	}
`;

export const tables = css`
	.table-wrap {
		overflow-x: auto;
	}
	table {
		width: 100%;
		border-collapse: collapse;
		background: var(--agora-surface);
	}
	th,
	td {
		padding: var(--agora-space-2) var(--agora-space-3);
		text-align: left;
		vertical-align: middle;
		border-bottom: 1px solid var(--agora-border);
	}
	th {
		font-size: 0.8125rem;
		font-weight: 700;
		text-transform: uppercase;
		letter-spacing: 0.03em;
		color: var(--agora-text-muted);
	}
	.number {
		text-align: right;
		font-variant-numeric: tabular-nums;
	}
`;
