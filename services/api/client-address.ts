import type { IncomingMessage } from "node:http";
import proxyaddr from "proxy-addr";
import type { TrustProxy } from "../../lib/platform/settings";

type Trust = (address: string, hop: number) => boolean;

/** proxy-addr's trust function for the setting; throws a TypeError naming a malformed address or range. */
function compileTrust(trust: TrustProxy): Trust {
	// Hop 0 is the TCP peer: with n trusted hops, the peer and the n - 1 proxies before it may speak.
	if (typeof trust === "number") return (_address, hop) => hop < trust;
	return proxyaddr.compile(trust);
}

const IPV4_MAPPED = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/**
 * Resolves a request's client address: walking `X-Forwarded-For` from the gateway outwards, it
 * believes each entry only while the one who wrote it is trusted, so a client can add entries
 * but never choose the address it is counted under. The same client over IPv4 and over an
 * IPv4-mapped IPv6 socket is one address.
 */
export function clientAddressResolver(setting: TrustProxy): (req: IncomingMessage) => string {
	const trust = compileTrust(setting);
	return (req) => {
		// A request whose connection is already gone has no peer address; it still needs a key.
		const address = req.socket.remoteAddress ? proxyaddr(req, trust) : "unknown";
		return address.replace(IPV4_MAPPED, "$1");
	};
}
