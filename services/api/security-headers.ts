import helmet from "helmet";

/**
 * Headers for every answer of the gateway: the app, its files, the API and its errors. The app
 * is one same-origin bundle (no inline script or style; Lit styles are constructed sheets), so
 * everything is 'self'; product pictures may be any https URL. No framing by anyone.
 */
export const securityHeaders = helmet({
	contentSecurityPolicy: {
		useDefaults: false,
		directives: {
			defaultSrc: ["'self'"],
			scriptSrc: ["'self'"],
			styleSrc: ["'self'"],
			imgSrc: ["'self'", "https:"],
			connectSrc: ["'self'"],
			fontSrc: ["'self'"],
			objectSrc: ["'none'"],
			baseUri: ["'self'"],
			formAction: ["'self'"],
			frameAncestors: ["'none'"],
		},
	},
	frameguard: { action: "deny" },
	referrerPolicy: { policy: "strict-origin-when-cross-origin" },
});
