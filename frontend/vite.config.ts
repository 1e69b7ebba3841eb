import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

// Runs in Node when Vite loads it, so it stays out of frontend/tsconfig.json: that program covers
// only browser sources, and Node's globals must not leak into them.
const root = fileURLToPath(new URL(".", import.meta.url));

/**
 * The bundle goes into public/assets/, beside what public/ holds as it is (the page, pictures,
 * icons). The page names the entry and its styles by fixed names (app.js, app.css); the chunks
 * they load carry a hash.
 */
export default defineConfig({
	root,
	base: "/assets/",
	publicDir: false,
	build: {
		outDir: fileURLToPath(new URL("../public/assets", import.meta.url)),
		emptyOutDir: true,
		target: "es2022",
		// Small hand-drawn SVGs ship as files so the gateway can cache them separately.
		assetsInlineLimit: 0,
		rollupOptions: {
			input: fileURLToPath(new URL("src/main.ts", import.meta.url)),
			output: {
				entryFileNames: "app.js",
				chunkFileNames: "[name]-[hash].js",
				assetFileNames: (asset) => (asset.names.some((name) => name.endsWith(".css")) ? "app.css" : "[name]-[hash][extname]"),
			},
		},
	},
});
