import { POD_ROLES } from "../test/support/agora";

/**
 * How the distributed mode's services are laid out over pods, one pod per role, so costs come per
 * role: the roles of k8s/base, and the saga's services together in one role (their calls local,
 * their events still durable over Kafka).
 */
export const LAYOUTS = {
	"six roles": POD_ROLES,
	"saga together": {
		gateway: POD_ROLES.gateway,
		shop: [...POD_ROLES.catalog, ...POD_ROLES.orders, ...POD_ROLES.payments],
		users: POD_ROLES.users,
		realtime: POD_ROLES.realtime,
	},
} as const satisfies Record<string, Record<string, readonly string[]>>;

export type Layout = keyof typeof LAYOUTS;

/** The role a node plays, by the services it hosts (the first layout that has such a role names it). */
export function roleOf(services: readonly string[] | undefined): string {
	if (!services) return "embedded (all services)";
	const roles = Object.values(LAYOUTS).flatMap((layout) => Object.entries(layout));
	const match = roles.find(([, hosted]) => hosted.join(",") === services.join(","));
	return match ? match[0] : services.join("+");
}
