import jwt from "jsonwebtoken";
import { settings } from "./settings";

export const ROLES = ["customer", "admin"] as const;

export type Role = (typeof ROLES)[number];

/** What a verified token says about its bearer; carried in `ctx.meta.user`. */
export interface AuthUser {
	id: string;
	email: string;
	role: Role;
}

// One algorithm, pinned on both sides: a token that names another (`none`, RS256...) is refused.
const ALGORITHM = "HS256";

export function signToken(user: AuthUser): string {
	const { jwtSecret, jwtExpiresIn } = settings();
	return jwt.sign({ email: user.email, role: user.role }, jwtSecret, {
		algorithm: ALGORITHM,
		subject: user.id,
		expiresIn: jwtExpiresIn as jwt.SignOptions["expiresIn"],
	});
}

/** The bearer of a valid token, or null for anything malformed, tampered with or expired. */
export function verifyToken(token: string): AuthUser | null {
	try {
		const claims = jwt.verify(token, settings().jwtSecret, { algorithms: [ALGORITHM] });
		if (typeof claims === "string" || !claims.sub || claims.aud) return null;
		const role = claims.role;
		if (role !== "customer" && role !== "admin") return null;
		return { id: claims.sub, email: String(claims.email), role };
	} catch {
		return null;
	}
}

/** The audience of a guest's order token: it opens that one order and is never taken for a sign-in. */
const ORDER_AUDIENCE = "agora:order";

/** A guest's key to their order: it reads and follows that order only. Valid as long as an order is worth following. */
export function signOrderToken(orderId: string): string {
	return jwt.sign({}, settings().jwtSecret, { algorithm: ALGORITHM, subject: orderId, audience: ORDER_AUDIENCE, expiresIn: "180d" });
}

/** The order a guest's token opens, or null for anything else (a sign-in token included). */
export function verifyOrderToken(token: string): string | null {
	try {
		const claims = jwt.verify(token, settings().jwtSecret, { algorithms: [ALGORITHM], audience: ORDER_AUDIENCE });
		return typeof claims === "string" || !claims.sub ? null : claims.sub;
	} catch {
		return null;
	}
}
