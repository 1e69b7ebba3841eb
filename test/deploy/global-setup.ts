import { execFileSync } from "node:child_process";
import path from "node:path";

/** The deploy tier renders k8s/ with kustomize: build it when it is missing or its pin changed (a no-op otherwise). */
export default function globalSetup(): void {
	execFileSync("bash", [path.join(__dirname, "..", "..", "scripts", "infra", "kustomize.sh"), "up"], {
		stdio: ["ignore", "inherit", "inherit"],
	});
}
