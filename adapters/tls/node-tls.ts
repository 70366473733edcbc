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
// the native transport too (the per-connection decision needs the peer address first) and fed
// to node:tls through a small Duplex (SocketDuplex); outgoing TLS uses tls.connect directly.
import * as tls from "node:tls";
import { Duplex } from "node:stream";
import { NodeSocket } from "../node/socket.ts";
import { PEER_PLAINTEXT } from "./policy.ts";
import { detectRuntime } from "../runtime.ts";
import type { ListenOptions, Socket, TlsClientConfig, TlsServerConfig, TransportError } from "../transport.ts";

/** TLS 1.3 suites, ECDHE for modern TLS 1.2 peers, then libchirp's four DHE suites (protocol.md §1.3;
 * a LibreSSL/OpenSSL 1.0 libchirp speaks TLS 1.2 with DHE only). Unknown names are skipped by
 * each TLS library (BoringSSL and rustls have no DHE). */
const CIPHERS = [
  "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256",
  "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
  "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
  "DHE-RSA-AES256-GCM-SHA384", "DHE-DSS-AES256-GCM-SHA384", "DHE-RSA-AES256-SHA256", "DHE-DSS-AES256-SHA256",
].join(":");

/** A fatal TLS alert record (protocol_version), sent to a peer that spoke plaintext to our
 * TLS server, so that a Chirp dialler sees at once that the encryption settings disagree. */
const ALERT_PROTOCOL_VERSION = new Uint8Array([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46]);

function tlsError(message: string, code: "TLS_ERROR" | "TIMEOUT" = "TLS_ERROR", cause?: unknown): TransportError {
  const e: TransportError = new Error(message, cause === undefined ? undefined : { cause });
  e.chirpCode = code;
  return e;
}

const errCode = (e: unknown): string => String((e as { code?: unknown } | null)?.code ?? "");

/** Record-layer errors of a TLS client that read bytes which are no TLS record: a plaintext
 * chirp handshake (see plaintextTail in tls/policy.ts for the port whose handshake starts like
 * a record header). OpenSSL (Node) and BoringSSL (Bun) names; Deno reports the first. */
const PLAINTEXT_CODES = new Set([
  "ERR_SSL_WRONG_VERSION_NUMBER", "ERR_SSL_UNEXPECTED_RECORD", "ERR_SSL_ENCRYPTED_LENGTH_TOO_LONG",
  "ERR_SSL_PACKET_LENGTH_TOO_LONG", "ERR_SSL_RECORD_LENGTH_MISMATCH", "ERR_SSL_UNEXPECTED_MESSAGE",
]);

/** A readable reason for a TLS failure. */
function reason(e: Error, sock?: tls.TLSSocket): string {
  const code = errCode(e);
  if (PLAINTEXT_CODES.has(code)) return PEER_PLAINTEXT;
  const authErr = (sock as { authorizationError?: unknown } | undefined)?.authorizationError;
  if (authErr) {
    // Deno's client-certificate verifier (rustls/webpki) reports an X.509 v1 certificate with the
    // same code as one from an untrusted CA: name both causes, blame neither.
    const v1 = detectRuntime() === "deno" && authErr === "UNABLE_TO_VERIFY_LEAF_SIGNATURE"
      ? ": it is not signed by a CA among our trust anchors (tls.ca / the certChain), or, on Deno, it is an X.509 v1 certificate (such as libchirp's example cert), which Deno cannot verify as a client certificate: then give that peer a v3 certificate"
      : "";
    return `the peer's certificate was refused (${String(authErr)}${v1})`;
  }
  if (/CERTIFICATE_REQUIRED|certificate required/i.test(code + e.message)) return "the peer refused us: it requires a client certificate";
  if (/PEER_DID_NOT_RETURN_A_CERTIFICATE|no certificates/i.test(code + e.message)) return "the peer sent no certificate";
  if (/NO_SHARED_CIPHER|no shared cipher|NoCipherSuitesInCommon|NoKxGroupsInCommon/i.test(code + e.message)) {
    const rt = (globalThis as { Deno?: unknown; Bun?: unknown }).Deno ? "Deno" : (globalThis as { Bun?: unknown }).Bun ? "Bun" : "";
    return `no cipher suite in common with the peer${rt ? ` (${rt} has no DHE suites: a TLS 1.2 peer that offers only DHE, such as libchirp on LibreSSL, needs a Node peer)` : ""}: ${e.message.split("\n")[0]}`;
  }
  const first = e.message.split("\n")[0];
  return code && !first.includes(code) ? `${first} (${code})` : first;
}

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

// ---------------------------------------------------------------- server

/** Presents a transport Socket (native TCP of any runtime) as a node:stream Duplex, for
 * node:tls to run the TLS server on. Bytes are copied (a Socket's onData bytes are only valid
 * during the call); backpressure passes both ways. */
class SocketDuplex extends Duplex {
  #s: Socket;
  constructor(s: Socket) {
    super();
    this.#s = s;
    s.onData = (b) => {
      if (!this.push(Buffer.from(b))) s.pause();
    };
    s.onDrain = () => {};
    s.onClose = (err) => {
      if (err) this.destroy(err);
      else this.push(null);
    };
  }
  override _read(): void {
    this.#s.resume();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.#s.write([chunk], (err) => cb(err ?? null));
  }
  override _final(cb: (err?: Error | null) => void): void {
    this.#s.close();
    cb();
  }
  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.#s.close();
    cb(err);
  }
}

/**
 * Runs the TLS server handshake on an accepted socket; hands the TLS socket to `onSocket`
 * once the handshake completed and the peer's certificate was verified. Failures and the
 * handshake timeout go to cfg.onError and cost only this connection.
 *
 * The first chunk decides: a TLS client starts with a handshake record (0x16). Anything else
 * is a plaintext peer (most likely a chirp node with other encryption settings, sending its
 * 18-byte handshake): it gets a TLS alert and the connection closes, so that a Chirp dialler
 * sees at once that the settings disagree (libchirp would hang, protocol.md §1.5).
 *
 * One tls.Server per connection: it is the portable way to get each runtime's own client
 * certificate check (tls.Server's requestCert + rejectUnauthorized) for a socket handed in
 * with emit("connection"), and to know which connection a failure belongs to. It costs about
 * 0.3 ms (Deno, Bun) to 3 ms (Node) per incoming TLS connection, on top of the handshake.
 */
function tlsAccept(raw: Socket, address: string, cfg: TlsServerConfig, onSocket: (s: Socket) => void): void {
  const leave = cfg.admit ? cfg.admit() : () => {};
  if (leave === null) {
    raw.close();
    const e = tlsError("too many connections (TLS handshakes in progress count against maxConnections)");
    e.chirpCode = "ENOMEM";
    e.peerAddress = address;
    cfg.onError(e);
    return;
  }
  let done = false;
  const finish = (err?: TransportError): boolean => {
    if (done) return false;
    done = true;
    leave();
    clearTimeout(timer);
    if (err) {
      err.peerAddress = address;
      cfg.onError(err);
    }
    return true;
  };
  const timer = setTimeout(() => {
    if (finish(tlsError(`incoming TLS handshake from ${address} did not finish within ${cfg.handshakeTimeoutMs / 1000} s`, "TIMEOUT"))) {
      dup?.destroy();
      raw.close();
    }
  }, cfg.handshakeTimeoutMs);
  // A pending handshake must not keep the process alive (e.g. after the node closed).
  const t = timer as unknown as { unref?: () => void };
  if (typeof t.unref === "function") t.unref();
  else (globalThis as { Deno?: { unrefTimer?: (id: number) => void } }).Deno?.unrefTimer?.(timer as unknown as number);
  let dup: SocketDuplex | null = null;
  raw.onClose = (err) => {
    finish(tlsError(`the peer ${address} closed the connection before the TLS handshake${err ? `: ${err.message}` : ""}`));
  };
  raw.onData = (first) => {
    if (first[0] !== 0x16) {
      raw.pause();
      if (finish(tlsError(`${"encryption settings disagree: the peer sent plaintext"} (from ${address}; TLS expected: encryption is on and the peer is not loopback, or encryption "always")`))) {
        raw.write([ALERT_PROTOCOL_VERSION], () => raw.close());
      }
      return;
    }
    dup = new SocketDuplex(raw);
    dup.push(Buffer.from(first));
    let server: tls.Server;
    try {
      server = tls.createServer({
        key: cfg.key, cert: cfg.cert, ca: cfg.ca, dhparam: cfg.dhParams,
        requestCert: true, rejectUnauthorized: true, minVersion: "TLSv1.2", ciphers: CIPHERS,
      });
    } catch (e) {
      if (finish(tlsError(`cannot set up TLS for ${address}: ${(e as Error).message}`, "TLS_ERROR", e))) raw.close();
      return;
    }
    const d = dup;
    server.on("secureConnection", (t: tls.TLSSocket) => {
      if (!finish()) {
        t.destroy();
        return;
      }
      t.on("close", () => d.destroy());
      onSocket(new NodeSocket(t, address));
    });
    server.on("tlsClientError", (e: Error, t: tls.TLSSocket) => {
      finish(tlsError(`TLS handshake with ${address} failed: ${reason(e, t)}`, "TLS_ERROR", e));
      d.destroy();
    });
    // Closed before the handshake completed without a tlsClientError (runtimes differ here).
    // (After a moment, so that a tlsClientError with the real reason is reported first.)
    d.on("close", () => setTimeout(() => finish(tlsError(`the peer ${address} closed the connection during the TLS handshake`)), 50));
    server.emit("connection", d);
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
