// Listening: the node's IPv4 and IPv6 listeners on one port (protocol.md §1.1), with TLS for incoming
// connections decided per connection by the transport (protocol.md §1.2). Port 0 picks a free port
// that both families can bind.
import { ChirpError } from "../errors.ts";
import type { ResolvedConfig } from "../config.ts";
import type { Listener, ListenOptions, Socket, Transport, TransportError } from "../transport.ts";
import { encryptionNeeded } from "../tls/policy.ts";
import { normalizeAddress } from "../target.ts";

/** Listens as `cfg` says; incoming sockets go to `onSocket`. `handshakeTimeoutMs` bounds an
 * incoming TLS handshake (the core's connect timeout). Returns the listeners and the bound
 * port. Throws ChirpError EADDRINUSE when the port cannot be had. */
export async function listen(
  cfg: ResolvedConfig, t: Transport, onSocket: (s: Socket) => void, onError: (e: Error) => void,
  handshakeTimeoutMs: number, admit?: () => (() => void) | null,
): Promise<{ listeners: Listener[]; port: number }> {
  const listeners: Listener[] = [];
  let port = cfg.port;
  const tlsOpts: Pick<ListenOptions, "tls" | "encryptFrom"> = cfg.tls && cfg.encryption !== "never" ? {
    tls: {
      ...cfg.tls,
      handshakeTimeoutMs,
      admit,
      onError: (e: TransportError) => onError(new ChirpError(e.chirpCode ?? "TLS_ERROR", e.message, { cause: e })),
    },
    encryptFrom: (a) => encryptionNeeded(cfg.encryption, normalizeAddress(a) ?? a),
  } : {};
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        if (cfg.bindV4 !== null) {
          const l = await t.listen({ host: cfg.bindV4, port, backlog: cfg.backlog, ipv6Only: false, ...tlsOpts }, onSocket);
          listeners.push(l);
          port = l.port;
        }
        if (cfg.bindV6 !== null) {
          try {
            const l = await t.listen({ host: cfg.bindV6, port, backlog: cfg.backlog, ipv6Only: true, ...tlsOpts }, onSocket);
            listeners.push(l);
            port = l.port;
          } catch (e) {
            const code = (e as { code?: string }).code;
            const noV6 = code === "EAFNOSUPPORT" || code === "EADDRNOTAVAIL";
            if (!(noV6 && !cfg.bindV6Explicit && cfg.bindV4 !== null)) throw e;
          }
        }
        return { listeners, port };
      } catch (e) {
        await Promise.all(listeners.splice(0).map((l) => l.close()));
        const code = (e as { code?: string }).code;
        // Port 0: the IPv4 port the system picked may be taken on IPv6; pick again.
        if (cfg.port === 0 && code === "EADDRINUSE" && attempt < 8) {
          port = 0;
          continue;
        }
        throw e;
      }
    }
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "EADDRINUSE") throw new ChirpError("EADDRINUSE", `port ${cfg.port} is already in use`, { cause: e });
    if (code === "EADDRNOTAVAIL" || /os error 99\b|address not available|cannot assign requested address/i.test((e as Error)?.message ?? "")) {
      const at = [cfg.bindV4 && `bindV4 "${cfg.bindV4}"`, cfg.bindV6 && `bindV6 "${cfg.bindV6}"`].filter(Boolean).join(" or ");
      throw new ChirpError("VALUE_ERROR", `cannot listen on ${at}: no network interface of this host has that address (EADDRNOTAVAIL); use one of its addresses, "0.0.0.0" / "::" for all, or null`, { cause: e });
    }
    if (e instanceof ChirpError) throw e;
    throw new ChirpError("EADDRINUSE", `cannot listen on port ${cfg.port}: ${(e as Error).message}`, { cause: e });
  }
}
