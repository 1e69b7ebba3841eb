import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

// Runs in Node when Vite loads it, so it stays out of frontend/tsconfig.json: that program covers
// only browser sources, and Node's globals must not leak into them.
const root = fileURLToPath(new URL(".", import.meta.url));
const gateway = process.env.AGORA_URL ?? "http://127.0.0.1:3000";

export default defineConfig({
	root,
	build: {
		outDir: fileURLToPath(new URL("../public", import.meta.url)),
		emptyOutDir: true,
		target: "es2022",
		// Small hand-drawn SVGs ship as files so the gateway can cache them separately.
		assetsInlineLimit: 0,
	},
	// `npx vite --config frontend/vite.config.ts` for live editing against a running `npm start`.
	server: {
		proxy: {
			"/api": gateway,
			"/socket.io": { target: gateway, ws: true },
		},
	},
});
