// Targets: parses what `send()` is given ("host:port", "[v6]:port" or { address, port }) into a
// normalised IP address and port, or a host name still to resolve (engine/names.ts), with a
// small cache for the strings the hot path sees again.
import { ChirpError } from "./errors.ts";
import { isIPv4 } from "./config.ts";

/** Where a message goes: "host:port", "[v6]:port", or an object; host is an IP address, or a
 * name the node resolves (config.resolve, else the runtime's resolver). */
export type Target = string | { address: string; port: number };

/** A parsed target: `address` is the normalised IP address, or null when `host` is a name. */
export interface ParsedTarget {
  address: string | null;
  /** The host as given (the name to resolve when address is null). */
  host: string;
  port: number;
}

/** A DNS host name (RFC 1123 labels; "_" allowed for service names), not an IP-like string. */
export function isHostName(h: string): boolean {
  if (h.length === 0 || h.length > 253 || /^[\d.]+$/.test(h)) return false;
  return /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/.test(h);
}

/** "localhost" -> 127.0.0.1, an IPv4 address as it is, an IPv6 address in its canonical text;
 * null for anything else (protocol.md §5.1 keys remotes by address and port). */
export function normalizeAddress(a: string): string | null {
  if (a === "localhost") return "127.0.0.1";
  if (isIPv4(a)) return a;
  if (a.includes(":")) {
    try {
      const h = new URL(`http://[${a}]/`).hostname;
      return h.slice(1, -1);
    } catch {
      return null;
    }
  }
  return null;
}

/** "address:port" (an IPv6 address in brackets): the target text for an address. */
export function formatTarget(address: string, port: number): string {
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Parsed "address:port" strings (send() is called with the same few targets). */
const targetCache = new Map<string, ParsedTarget>();

export function parseTarget(to: Target): ParsedTarget {
  if (typeof to === "string") {
    const hit = targetCache.get(to);
    if (hit) return hit;
    const t = parseTargetUncached(to);
    if (targetCache.size >= 1024) targetCache.clear();
    targetCache.set(to, t);
    return t;
  }
  return parseTargetUncached(to);
}

function parseTargetUncached(to: Target): ParsedTarget {
  let address: string;
  let port: number;
  if (typeof to === "string") {
    const m = /^\[([^\]]+)\]:(\d+)$/.exec(to) ?? /^([^:]+):(\d+)$/.exec(to);
    if (!m) throw new ChirpError("VALUE_ERROR", `target "${to}" is not "host:port" or "[ipv6]:port"`);
    address = m[1];
    port = Number(m[2]);
  } else if (to && typeof to === "object") {
    address = to.address;
    port = to.port;
  } else {
    throw new ChirpError("VALUE_ERROR", "target must be \"host:port\" or { address, port }");
  }
  const norm = typeof address === "string" ? normalizeAddress(address) : null;
  if (norm === null && !(typeof address === "string" && isHostName(address))) {
    throw new ChirpError("VALUE_ERROR", `address "${address}" is not an IPv4 or IPv6 address or a host name`);
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ChirpError("VALUE_ERROR", `port ${port} is out of range: 1 to 65535`);
  return { address: norm, host: address, port };
}
