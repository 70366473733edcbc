// TLS for every runtime's transport, on node:tls (protocol.md §1.3): mutual certificates, verified
// against the configured trust anchors, no hostname check, no SNI, TLS 1.2 minimum, TLS 1.3
// allowed, libchirp's DHE suites plus ECDHE for TLS 1.2.
//
// Why node:tls on Deno and Bun too (checked with Deno 2.9.6, Bun 1.4.5, Node 20.20, OpenSSL
// 3.0 CLI, certificates from scripts/make-test-certs.sh):
// - Deno's native TLS (Deno.listenTls / Deno.startTls) has no client-certificate options on
//   the server side (no requestCert, no CA list; passing them changes nothing: a client
//   without a certificate was served), so it cannot refuse a peer without a certificate or
//   with a foreign one; and a listener is all-TLS, while libchirp decides per connection
//   from the peer address. Deno's node:tls server (rustls underneath) does real
//   mutual auth: no certificate -> "peer sent no certificates", foreign CA -> refused,
//   own CA -> accepted. It ignores the cipher list: rustls has no DHE suites (TLS 1.2 works
//   with ECDHE only), and its client-certificate verifier refuses X.509 v1 leaves (libchirp's
//   example cert is v1; as a TLS client presenting one, or verifying a v1 server, Deno works).
// - Bun's node:tls is Bun's own TLS (BoringSSL under its socket layer) and does real mutual
//   auth (same three checks). A Bun.listen listener is all-TLS or all-plaintext; node:tls
//   can start TLS on a socket already accepted, which the per-connection rule needs.
//   BoringSSL has no DHE suites: TLS 1.2 works with ECDHE only.
// - Node: node:tls is the native TLS (OpenSSL): all of the above, DHE included, v1 leaves
//   accepted.
// So every runtime uses node:tls for TLS connections; plaintext connections stay on each
// runtime's native transport. The TCP connection of an incoming TLS connection is accepted by
// the native transport too (the per-connection decision needs the peer address first) and
// handed to a node:tls server shared by the node's connections (tls/accept.ts); outgoing TLS
// uses tls.connect directly (this file). Error reasons and the cipher list: tls/reasons.ts.
import * as tls from "node:tls";
import { NodeSocket } from "../node/socket.ts";
import { CIPHERS, errCode, reason, tlsError } from "./reasons.ts";
import { tlsAccept } from "./accept.ts";
import type { ListenOptions, Socket, TlsClientConfig } from "../transport.ts";

// ---------------------------------------------------------------- client

/** TCP failures before the TLS handshake started stay connection errors (CANNOT_CONNECT). */
const TCP_ERRORS = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "ETIMEDOUT", "EADDRNOTAVAIL", "ENOTFOUND", "EAI_AGAIN", "EACCES", "EINVAL"]);

/**
 * Dials host:port as a TLS client. `cb` gets the socket once the TLS handshake completed and
 * the peer's first bytes arrived: a chirp peer sends its 18-byte handshake as soon as its own
 * TLS handshake is done, and under TLS 1.3 a server checks our certificate only after our
 * side has finished, so a peer that refuses our certificate just closes; waiting for its
 * first bytes turns that into a TLS_ERROR here instead of a closed connection later.
 */
export function tlsConnect(host: string, port: number, cfg: TlsClientConfig, cb: (err: Error | null, s?: Socket) => void): () => void {
  let settled = false;
  let tcp = false;
  let secure = false;
  const early: Uint8Array[] = [];
  const s = tls.connect({
    host, port, key: cfg.key, cert: cfg.cert, ca: cfg.ca,
    checkServerIdentity: () => undefined, // no hostname check (protocol.md §1.3); the chain is still verified
    minVersion: "TLSv1.2", ciphers: CIPHERS, rejectUnauthorized: true,
  });
  const fail = (e: Error): void => {
    if (settled) return;
    settled = true;
    s.destroy();
    if (!tcp && !secure && TCP_ERRORS.has(errCode(e))) cb(e);
    else cb(tlsError(`TLS handshake with ${host}:${port} failed: ${reason(e, s)}`, "TLS_ERROR", e));
  };
  const onEarly = (b: Uint8Array): void => {
    early.push(b);
    if (settled) return;
    settled = true;
    s.off("data", onEarly);
    s.off("error", fail);
    s.off("close", onClose);
    const sock = new NodeSocket(s, host);
    cb(null, sock);
    for (const chunk of early) sock.onData(chunk);
  };
  const onClose = (): void => fail(new Error(secure
    ? "the peer closed the connection right after the TLS handshake (it refused our certificate, or is no chirp node)"
    : "the peer closed the connection during the TLS handshake: it may be at its connection limit"));
  s.once("connect", () => (tcp = true));
  s.once("secureConnect", () => {
    secure = true;
    s.on("data", onEarly);
  });
  s.on("error", fail);
  s.on("close", onClose);
  return () => {
    settled = true;
    s.destroy();
  };
}

/** Wraps a listener's onSocket with the per-connection TLS decision of ListenOptions. */
export function withTls(opts: ListenOptions, onSocket: (s: Socket) => void): (s: Socket) => void {
  const cfg = opts.tls;
  const decide = opts.encryptFrom;
  if (!cfg || !decide) return onSocket;
  return (s) => {
    if (decide(s.remoteAddress)) tlsAccept(s, s.remoteAddress, cfg, onSocket);
    else onSocket(s);
  };
}
