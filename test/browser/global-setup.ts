import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { CHROMIUM } from "./support/browser";

/** The browser tier needs Debian's Chromium and a current build of the web app in public/. */
export default function globalSetup(): void {
	if (!existsSync(CHROMIUM))
		throw new Error(
			`The browser tests drive Chromium at ${CHROMIUM}: install it with "apt-get install -y chromium" (or set CHROMIUM_PATH).`,
		);
	const root = path.resolve(__dirname, "..", "..");
	execFileSync(process.execPath, ["--import", "tsx", path.join("scripts", "build-web.ts"), "--if-stale"], { cwd: root, stdio: "inherit" });
}
