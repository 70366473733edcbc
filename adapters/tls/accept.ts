// Incoming TLS (protocol.md §1.3): the TLS server handshake on a socket the runtime's transport
// accepted, with one node:tls server (one secure context) reused for many connections instead of
// one per connection (issue #15: building one cost Node about 1.3-1.6 ms per connection).
//
// The runtime's own tls.Server does the client-certificate check (requestCert +
// rejectUnauthorized: a bare tls.TLSSocket does not refuse a foreign-CA certificate on Node or
// Deno). A shared server reports secureConnection / tlsClientError with its TLSSocket, and
// node:tls has no public link from that socket back to the connection handed in; so:
// - Node: the accepted node:net socket itself goes to ONE tls.Server per node (the TLS engine
//   then runs on the TCP handle, no JavaScript stream in between). Its TLSSocket reads the same
//   TCP handle, so remoteAddress|remotePort|localAddress|localPort name the connection. The
//   server's "keylog" event (during the handshake, while the connection is open) binds each
//   TLSSocket to its connection early: after a refused certificate Node reports the failure
//   (ECONNRESET, authorizationError set) when the TCP handle is already closed.
// - Deno, Bun: the accepted native socket reaches node:tls as a Duplex (SocketDuplex), and
//   their TLSSocket over a Duplex has no peer address. A pool of tls.Servers, each with at most
//   one handshake in progress: an event with a TLSSocket not seen before on that server is that
//   handshake's (every earlier handshake on it ended with an event carrying its own TLSSocket);
//   a handshake that ends without an event (timeout, peer gone) retires its server. Up to
//   IDLE_MAX idle servers are kept. Handshakes running at once each hold a server (so stalled
//   ones still cost one each), which is cheap there: tls.createServer with the test
//   certificates took a median 0.14 ms (Deno) and 0.24 ms (Bun), against 1.3 ms on Node (2-CPU
//   machine, 1,000 calls). Handshake figures: bench/tls-accept.ts, bench/faults.ts (tls), in
//   CHANGELOG.md (issue #15).
import * as tls from "node:tls";
import type * as net from "node:net";
import { Duplex } from "node:stream";
import { NodeSocket } from "../node/socket.ts";
import { CIPHERS, reason, tlsError } from "./reasons.ts";
import type { Socket, TlsServerConfig, TransportError } from "../transport.ts";

/** A fatal TLS alert record (protocol_version), sent to a peer that spoke plaintext to our
 * TLS server, so that a Chirp dialler sees at once that the encryption settings disagree. */
const ALERT_PROTOCOL_VERSION = new Uint8Array([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46]);
/** Idle servers a Deno/Bun pool keeps (more are built when more handshakes run at once). */
const IDLE_MAX = 16;
const noop = (): void => {};

/** One incoming handshake on a shared server: what its TLSSocket's events do. */
interface Pending {
  /** The TLSSocket was identified as this handshake's before it ended (Node: keylog). */
  bind?(t: tls.TLSSocket): void;
  /** The handshake completed and the runtime verified the peer's certificate. */
  secure(t: tls.TLSSocket): void;
  /** The runtime's TLS server reported this handshake failed. */
  failed(e: Error, t: tls.TLSSocket): void;
}

/** The handshake's side in tlsAccept: how it ends. `settled` is set by the server side. */
interface Handshake {
  address: string;
  finish(err?: TransportError): boolean;
  onSocket(s: Socket): void;
  settled: () => void;
}

function newServer(cfg: TlsServerConfig): tls.Server {
  return tls.createServer({
    key: cfg.key, cert: cfg.cert, ca: cfg.ca, dhparam: cfg.dhParams,
    requestCert: true, rejectUnauthorized: true, minVersion: "TLSv1.2", ciphers: CIPHERS,
  });
}

const failure = (h: Handshake, e: Error, t: tls.TLSSocket): TransportError =>
  tlsError(`TLS handshake with ${h.address} failed: ${reason(e, t)}`, "TLS_ERROR", e);
const closedEarly = (h: Handshake): TransportError =>
  tlsError(`the peer ${h.address} closed the connection during the TLS handshake`);

// ---------------------------------------------------------------- Node: one server, TCP handles

/** The connection a node:net or TLS socket is on (both read the same TCP handle). */
const connKey = (s: net.Socket): string | null =>
  s.remoteAddress === undefined || s.remotePort === undefined ? null : `${s.remoteAddress}|${s.remotePort}|${s.localAddress}|${s.localPort}`;

/** One node's tls.Server for node:net sockets, and its handshakes in progress by connection. */
class NetServer {
  readonly #server: tls.Server;
  readonly #byConn = new Map<string, Pending>();
  readonly #byTls = new WeakMap<tls.TLSSocket, Pending>();
  readonly #keys = new WeakMap<Pending, string>();
  constructor(cfg: TlsServerConfig) {
    const server = this.#server = newServer(cfg);
    server.on("keylog", (_line: Buffer, t: tls.TLSSocket) => void this.#find(t));
    server.on("secureConnection", (t: tls.TLSSocket) => {
      const p = this.#find(t);
      if (p) p.secure(t);
      else t.destroy(); // its handshake ended already (timeout)
    });
    server.on("tlsClientError", (e: Error, t: tls.TLSSocket) => {
      this.#find(t)?.failed(e, t);
      t.destroy();
    });
  }
  #find(t: tls.TLSSocket): Pending | undefined {
    let p = this.#byTls.get(t);
    if (p) return p;
    const k = connKey(t);
    p = k === null ? undefined : this.#byConn.get(k);
    if (p) {
      this.#byTls.set(t, p);
      p.bind?.(t);
    }
    return p;
  }
  /** Runs the handshake of `s`, whose first bytes `first` were read already. */
  start(s: net.Socket, first: Uint8Array, p: Pending): void {
    const k = connKey(s) ?? "";
    this.#byConn.set(k, p);
    this.#keys.set(p, k);
    s.unshift(Buffer.from(first)); // TLSSocket feeds a wrapped socket's buffered bytes to the TLS engine
    this.#server.emit("connection", s);
  }
  /** The handshake ended: its TLSSocket's later events are not its. */
  forget(p: Pending): void {
    const k = this.#keys.get(p);
    if (k !== undefined && this.#byConn.get(k) === p) this.#byConn.delete(k);
  }
}

function acceptNet(server: NetServer, s: net.Socket, first: Uint8Array, h: Handshake): () => void {
  let bound: tls.TLSSocket | undefined;
  // Closed before the handshake completed without a tlsClientError for it (after a moment, so
  // that a tlsClientError with the real reason is reported first).
  const onClose = (): void => void setTimeout(() => h.finish(closedEarly(h)), 50);
  s.on("error", noop); // NodeSocket's listeners are gone; the TLSSocket reports errors
  s.on("close", onClose);
  const p: Pending = {
    bind: (t) => (bound = t),
    secure: (t) => {
      s.off("close", onClose);
      if (h.finish()) h.onSocket(new NodeSocket(t, h.address));
      else t.destroy();
    },
    failed: (e, t) => void h.finish(failure(h, e, t)),
  };
  h.settled = () => server.forget(p);
  server.start(s, first, p);
  return () => {
    bound?.destroy();
    s.destroy();
  };
}

// ---------------------------------------------------------------- Deno, Bun: a pool, Duplexes

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

/** A tls.Server with at most one handshake in progress (`current`). */
class PooledServer {
  readonly server: tls.Server;
  current: Pending | null = null;
  retired = false;
  readonly #seen = new WeakSet<tls.TLSSocket>();
  constructor(cfg: TlsServerConfig, pool: StreamServers) {
    this.server = newServer(cfg);
    const take = (t: tls.TLSSocket): Pending | null | undefined => {
      if (this.#seen.has(t)) return undefined; // a later event of an earlier handshake
      this.#seen.add(t);
      const p = this.current;
      this.current = null;
      if (p && !this.retired) pool.idle(this);
      return p;
    };
    this.server.on("secureConnection", (t: tls.TLSSocket) => {
      const p = take(t);
      if (p) p.secure(t);
      else if (p === null) t.destroy();
    });
    this.server.on("tlsClientError", (e: Error, t: tls.TLSSocket) => {
      const p = take(t);
      if (p) p.failed(e, t);
    });
  }
}

/** One node's pool of tls.Servers for Duplex-fed handshakes. */
class StreamServers {
  readonly #idle: PooledServer[] = [];
  constructor(readonly cfg: TlsServerConfig) {}
  idle(s: PooledServer): void {
    if (this.#idle.length < IDLE_MAX) this.#idle.push(s);
  }
  start(d: Duplex, p: Pending, h: Handshake): void {
    const s = this.#idle.pop() ?? new PooledServer(this.cfg, this);
    s.current = p;
    h.settled = () => {
      // Ended without an event of this server (timeout, peer gone): its TLSSocket may still
      // report later, so this server takes no further handshakes.
      if (s.current === p) {
        s.current = null;
        s.retired = true;
      }
    };
    s.server.emit("connection", d);
  }
}

function acceptStream(pool: StreamServers, raw: Socket, first: Uint8Array, h: Handshake): () => void {
  const d = new SocketDuplex(raw);
  d.push(Buffer.from(first));
  const p: Pending = {
    secure: (t) => {
      if (!h.finish()) {
        t.destroy();
        return;
      }
      t.on("close", () => d.destroy());
      h.onSocket(new NodeSocket(t, h.address));
    },
    failed: (e, t) => {
      h.finish(failure(h, e, t));
      d.destroy();
    },
  };
  // Closed before the handshake completed without a tlsClientError (runtimes differ here).
  d.on("close", () => setTimeout(() => h.finish(closedEarly(h)), 50));
  pool.start(d, p, h);
  return () => {
    d.destroy();
    raw.close();
  };
}

// ---------------------------------------------------------------- the accept

/** Each node's servers (one TlsServerConfig per node, shared by its listeners). */
const netServers = new WeakMap<TlsServerConfig, NetServer>();
const streamServers = new WeakMap<TlsServerConfig, StreamServers>();

/**
 * Runs the TLS server handshake on an accepted socket; hands the TLS socket to `onSocket`
 * once the handshake completed and the peer's certificate was verified. Failures and the
 * handshake timeout go to cfg.onError and cost only this connection.
 *
 * The first chunk decides: a TLS client starts with a handshake record (0x16). Anything else
 * is a plaintext peer (most likely a chirp node with other encryption settings, sending its
 * 18-byte handshake): it gets a TLS alert and the connection closes, so that a Chirp dialler
 * sees at once that the settings disagree (libchirp would hang, protocol.md §1.5).
 */
export function tlsAccept(raw: Socket, address: string, cfg: TlsServerConfig, onSocket: (s: Socket) => void): void {
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
  let abort = (): void => raw.close();
  const h: Handshake = {
    address,
    onSocket,
    settled: noop,
    finish: (err) => {
      if (done) return false;
      done = true;
      leave();
      clearTimeout(timer);
      h.settled();
      if (err) {
        err.peerAddress = address;
        cfg.onError(err);
      }
      return true;
    },
  };
  const timer = setTimeout(() => {
    if (h.finish(tlsError(`incoming TLS handshake from ${address} did not finish within ${cfg.handshakeTimeoutMs / 1000} s`, "TIMEOUT"))) abort();
  }, cfg.handshakeTimeoutMs);
  // A pending handshake must not keep the process alive (e.g. after the node closed).
  const t = timer as unknown as { unref?: () => void };
  if (typeof t.unref === "function") t.unref();
  else (globalThis as { Deno?: { unrefTimer?: (id: number) => void } }).Deno?.unrefTimer?.(timer as unknown as number);
  raw.onClose = (err) => {
    h.finish(tlsError(`the peer ${address} closed the connection before the TLS handshake${err ? `: ${err.message}` : ""}`));
  };
  raw.onData = (first) => {
    if (first[0] !== 0x16) {
      raw.pause();
      if (h.finish(tlsError(`encryption settings disagree: the peer sent plaintext (from ${address}; TLS expected: encryption is on and the peer is not loopback, or encryption "always")`))) {
        raw.write([ALERT_PROTOCOL_VERSION], () => raw.close());
      }
      return;
    }
    try {
      if (raw instanceof NodeSocket) {
        let server = netServers.get(cfg);
        if (!server) netServers.set(cfg, server = new NetServer(cfg));
        abort = acceptNet(server, raw.release(), first, h);
      } else {
        let pool = streamServers.get(cfg);
        if (!pool) streamServers.set(cfg, pool = new StreamServers(cfg));
        abort = acceptStream(pool, raw, first, h);
      }
    } catch (e) {
      if (h.finish(tlsError(`cannot set up TLS for ${address}: ${(e as Error).message}`, "TLS_ERROR", e))) abort();
    }
  };
}
