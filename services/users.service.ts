import { hash, verify } from "@node-rs/argon2";
import type { Context, ServiceSchema, ServiceSettingSchema } from "moleculer";
import { SCAN_PARAMS } from "../lib/contracts/sales-figures";
import { EMBEDDED_ADMIN_DEFAULTS, settings } from "../lib/platform/settings";
import { isShopError, shopError } from "../lib/platform/shop-error";
import type { Entity } from "../lib/platform/store";
import { type AuthUser, type Role, signToken } from "../lib/platform/tokens";
import { type DbMethods, type DbVars, dbMixin } from "../mixins/db.mixin";
import { type DomainEventMethods, domainEventsMixin } from "../mixins/domain-events.mixin";

interface StoredUser extends Entity {
	email: string;
	name: string;
	role: Role;
	passwordHash: string;
	createdAt: Date;
}

export type PublicUser = Omit<StoredUser, "passwordHash">;

interface UserMethods extends DbMethods, DomainEventMethods {
	findByEmail(email: string): Promise<StoredUser | null>;
	createUser(fields: { email: string; password: string; name: string; role: Role }): Promise<StoredUser>;
	ensureAdmin(): Promise<void>;
}

// OWASP's minimum for argon2id: 19 MiB, 2 passes. Hashing is the cost of a login, on purpose.
const HASH_OPTIONS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };

// Compared against when no account matches, so an unknown email costs as long as a wrong password
// and the answer's timing does not tell which emails are registered.
const decoyHash = hash("decoy-password-for-timing", HASH_OPTIONS);

const EMAIL = { type: "email", normalize: true, max: 254 } as const;
const PASSWORD = { type: "string", min: 8, max: 128 } as const;

function publicUser(user: StoredUser): PublicUser {
	const { passwordHash: _hidden, ...rest } = user;
	return rest;
}

function authUser(user: StoredUser): AuthUser {
	return { id: user.id, email: user.email, role: user.role };
}

const UsersService: ServiceSchema<ServiceSettingSchema, UserMethods, DbVars> = {
	name: "users",
	mixins: [
		dbMixin({
			name: "users",
			fields: {
				email: { type: String, required: true },
				name: { type: String, required: true },
				role: { type: String, required: true, enum: ["customer", "admin"] },
				passwordHash: { type: String, required: true },
				createdAt: { type: Date, required: true },
			},
			indexes: [{ fields: { email: 1 }, unique: true }],
		}),
		domainEventsMixin,
	],

	actions: {
		register: {
			auth: "public",
			params: { email: EMAIL, password: PASSWORD, name: { type: "string", trim: true, min: 1, max: 100 } },
			async handler(ctx: Context<{ email: string; password: string; name: string }, { $statusCode?: number; $location?: string }>) {
				const { email, password, name } = ctx.params;
				const user = await this.createUser({ email, password, name, role: "customer" });
				ctx.meta.$statusCode = 201;
				ctx.meta.$location = "/api/auth/me";
				return { user: publicUser(user), token: signToken(authUser(user)) };
			},
		},

		login: {
			auth: "public",
			params: { email: EMAIL, password: { type: "string", min: 1, max: 128 } },
			async handler(ctx: Context<{ email: string; password: string }>) {
				const user = await this.findByEmail(ctx.params.email);
				const matches = await verify(user?.passwordHash ?? (await decoyHash), ctx.params.password);
				if (!user || !matches) throw shopError("INVALID_CREDENTIALS", "Wrong email or password");
				return { user: publicUser(user), token: signToken(authUser(user)) };
			},
		},

		me: {
			auth: "user",
			async handler(ctx: Context<unknown, { user: AuthUser }>) {
				const doc = await this.adapter.findById(ctx.meta.user.id);
				if (!doc) throw shopError("ACCOUNT_GONE", "Your account no longer exists");
				return publicUser(this.toEntity<StoredUser>(doc));
			},
		},

		/** Internal: every account (without its password hash), oldest first, a page at a time (the sales figures rebuild from these). */
		scan: {
			visibility: "public",
			params: SCAN_PARAMS,
			async handler(ctx: Context<{ offset: number; limit: number }>) {
				const docs = await this.adapter.find({ sort: ["createdAt"], offset: ctx.params.offset, limit: ctx.params.limit });
				return docs.map((doc) => publicUser(this.toEntity<StoredUser>(doc)));
			},
		},

		/** Internal: where an account's mail goes (order emails), or null when the account is gone. */
		contact: {
			visibility: "public",
			params: { id: "string" },
			async handler(ctx: Context<{ id: string }>): Promise<{ email: string; name: string } | null> {
				const doc = await this.adapter.findById(ctx.params.id);
				if (!doc) return null;
				const { email, name } = this.toEntity<StoredUser>(doc);
				return { email, name };
			},
		},

		/** Internal: whether a token's account still exists (a deleted account's tokens stop working). */
		exists: {
			visibility: "public",
			params: { id: "string" },
			cache: { keys: ["id"], ttl: 30 },
			async handler(ctx: Context<{ id: string }>) {
				return (await this.adapter.findById(ctx.params.id)) != null;
			},
		},
	},

	methods: {
		async findByEmail(email: string) {
			const doc = await this.adapter.findOne({ email });
			return doc ? this.toEntity<StoredUser>(doc) : null;
		},

		/** A new account; a customer's is announced (`user.registered`) in the same write. */
		async createUser({ email, password, name, role }) {
			const passwordHash = await hash(password, HASH_OPTIONS);
			const user: StoredUser = { id: this.newId(), email, name, role, passwordHash, createdAt: new Date() };
			const { id: _id, ...fields } = user;
			try {
				const announced = role === "customer" ? [this.domainEvent("user.registered", publicUser(user), user.id)] : [];
				await this.insertOnce({ _id, ...fields }, announced);
				return user;
			} catch (err) {
				if (this.isDuplicateKey(err))
					throw shopError("EMAIL_TAKEN", "An account with this email already exists", {
						field: "email",
					});
				throw err;
			}
		},

		async ensureAdmin() {
			const admin = settings().admin;
			if (!admin) {
				this.logger.warn("No ADMIN_EMAIL/ADMIN_PASSWORD given: no admin account is made at start.");
				return;
			}
			const email = admin.email.trim().toLowerCase();
			if (await this.findByEmail(email)) return;
			try {
				await this.createUser({ email, password: admin.password, name: "Administrator", role: "admin" });
			} catch (err) {
				// Another users node made it first.
				if (isShopError(err, "EMAIL_TAKEN")) return;
				throw err;
			}
			const usingDefaults = email === EMBEDDED_ADMIN_DEFAULTS.email && admin.password === EMBEDDED_ADMIN_DEFAULTS.password;
			this.logger.info(
				usingDefaults
					? `Made the admin account ${email} with the embedded default password "${admin.password}": change it for anything but a demo.`
					: `Made the admin account ${email}.`,
			);
		},
	},

	async started() {
		await this.ensureAdmin();
	},
};

export default UsersService;
