/**
 * The pod roles that the deployment files (k8s/, docker-compose.yml) run, shared by the checks of
 * both: test/unit/container-files.test.ts and test/deploy/kubernetes.test.ts.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { serviceNames } from "../../lib/platform/service-files";

export const ROOT = path.join(__dirname, "..", "..");

/** Pod roles, as the operations contract names them. */
export const ROLES = ["gateway", "catalog", "orders", "payments", "users", "realtime"] as const;

export function readText(file: string): string {
	return readFileSync(file, "utf8");
}

/** The names of the services under services/, the values SERVICES may list. */
export function serviceFiles(): string[] {
	return serviceNames(path.join(ROOT, "services"));
}

/** Problems with a role -> services assignment: each service file exactly once, no unknown names. */
export function coverageProblems(files: string[], roles: Record<string, string>): string[] {
	const problems: string[] = [];
	const deployedBy = new Map<string, string[]>();
	for (const [role, list] of Object.entries(roles)) {
		const names = list.split(",").map((name) => name.trim());
		if (names.some((name) => name === "")) problems.push(`${role}: empty name in SERVICES="${list}"`);
		for (const name of names.filter(Boolean)) {
			if (!files.includes(name)) problems.push(`${role} names "${name}", but there is no service of that name`);
			deployedBy.set(name, [...(deployedBy.get(name) ?? []), role]);
		}
	}
	for (const file of files) {
		const by = deployedBy.get(file) ?? [];
		if (by.length !== 1) problems.push(`service ${file} is deployed by ${by.length === 0 ? "no role" : by.join(" and ")}`);
	}
	return problems;
}

export interface ComposeService {
	image?: string;
	build?: string | { context: string };
	command?: string[] | string;
	environment?: Record<string, string | number>;
	ports?: string[];
	healthcheck?: { test: string[] | string };
	depends_on?: Record<string, { condition: string }>;
	volumes?: string[];
}

/** docker-compose.yml's services, with YAML merge keys resolved. */
export function composeServices(): Record<string, ComposeService> {
	return (parse(readText(path.join(ROOT, "docker-compose.yml")), { merge: true }) as { services: Record<string, ComposeService> }).services;
}

/** Each role's SERVICES in docker-compose.yml. */
export function composeRoles(): Record<string, string> {
	const services = composeServices();
	return Object.fromEntries(ROLES.map((role) => [role, String(services[role]?.environment?.SERVICES)]));
}
