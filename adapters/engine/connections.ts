// Connections: dialling a remote, accepting a socket, the handshake that files a connection
// under its remote, and closing, with what depends on a connection settled (protocol.md §1.4, §4.5,
// §5.2-§5.4). The core holds each connection's protocol record; this keeps its socket.
import { ChirpError, type ChirpErrorCode } from "../errors.ts";
import type { Socket, TransportError } from "../transport.ts";
import { encryptionNeeded } from "../tls/policy.ts";
import { normalizeAddress } from "../target.ts";
import { toHex } from "../monitor/stats.ts";
import { CONN, K, ST } from "../core/core.ts";
import { Conn, failUnacked, settle, type Remote, type SendOp } from "./records.ts";
import { dropPartial } from "./messages.ts";
import type { Ctx, LinksPart } from "./context.ts";

const now = (): number => performance.now();

/** The default maxMsgSize (protocol.md §3.5): a peer may refuse frames larger than this. */
const DEFAULT_MAX_MSG = 100 * 1024 * 1024;

/** A hint for a connection that failed under a frame larger than a default-sized node accepts:
 * the peer drops the connection without telling why (§3.5), so say what was in flight. */
function oversized(conn: Conn, r: Remote | null): string {
  let big = 0;
  for (const batch of conn.batches) for (const op of batch) if (!op.done) big = Math.max(big, op.header.length + op.data.length);
  for (const f of r?.unacked ?? []) if (!f.done) big = Math.max(big, f.header.length + f.data.length);
  if (big <= DEFAULT_MAX_MSG) return "";
  return ` while a ${big}-byte message was in flight: the peer's maxMsgSize may be smaller (default ${DEFAULT_MAX_MSG})`;
}

export class Connections implements LinksPart {
  constructor(readonly ctx: Ctx) {}

  dial(r: Remote): void {
    const ctx = this.ctx;
    if (ctx.closing) return;
    const x = ctx.core.x;
    const config = ctx.config;
    const useTls = encryptionNeeded(config.encryption, r.address);
    if (useTls && !config.tls) {
      this.failQueue(r, new ChirpError("TLS_ERROR", `this connection needs TLS (encryption: ${config.encryption}${config.encryption === "auto" ? ", peer not loopback" : ""}) but no tls.certChain/key/cert is configured (${r.address}:${r.port})`));
      return;
    }
    ctx.sender.flushOut(); // the handshake goes into OUT
    const ci = x.remoteDial(r.idx, now());
    // LATER: a dial is in progress (EV_HANDSHAKE follows) or the reconnect delay runs (the core
    // emits EV_RETRY when it ends, protocol.md §4.5). STATE: it is connected already.
    if (ci === -ST.LATER || ci === -ST.STATE) return;
    if (ci < 0) {
      this.failQueue(r, new ChirpError("ENOMEM", `too many connections (maxConnections ${config.maxConnections})`));
      return;
    }
    const conn = new Conn(ci, x.connGen(ci), true, r.address);
    conn.sniff = !useTls;
    conn.pre.push(ctx.core.takeOut());
    conn.remote = r;
    conn.peerPort = r.port;
    r.conns.add(conn);
    ctx.conns[ci] = conn;
    conn.cancelDial = ctx.transport.connect(r.address, r.port, (err, sock) => {
      conn.cancelDial = null;
      if (conn.closed) {
        sock?.close();
        return;
      }
      if (err || !sock) {
        const code = (err as TransportError | null)?.chirpCode ?? "CANNOT_CONNECT";
        this.closeConn(conn, code, code === "CANNOT_CONNECT" ? `cannot connect: ${err?.message ?? "no socket"}` : err!.message);
        return;
      }
      this.#attach(conn, sock);
      const pre = conn.pre;
      conn.pre = [];
      ctx.sender.write(conn, pre, []);
    }, useTls ? config.tls! : undefined);
  }

  accept(sock: Socket): void {
    const ctx = this.ctx;
    if (ctx.closing) {
      sock.close();
      return;
    }
    const config = ctx.config;
    const address = normalizeAddress(sock.remoteAddress) ?? sock.remoteAddress;
    // With TLS material the transport already did the TLS server handshake where needed.
    const plain = !encryptionNeeded(config.encryption, address);
    if (!plain && !config.tls) {
      sock.close();
      this.refused(address, "TLS_ERROR", `it needs TLS (encryption: ${config.encryption}${config.encryption === "auto" ? ", peer not loopback" : ""}) but no tls.certChain/key/cert is configured`);
      return;
    }
    const core = ctx.core;
    const x = core.x;
    core.setAddress(address);
    ctx.sender.flushOut(); // the handshake goes into OUT
    const ci = x.connAccept(now());
    if (ci < 0) {
      // The dialler sees its connection closed during the handshake: the wire has no error
      // frame (protocol.md §1.5).
      sock.close();
      this.refused(address, "ENOMEM", `too many connections (maxConnections ${config.maxConnections})`);
      return;
    }
    const conn = new Conn(ci, x.connGen(ci), false, address);
    conn.sniff = plain;
    ctx.conns[ci] = conn;
    this.#attach(conn, sock);
    ctx.sender.write(conn, [ctx.core.takeOut()], []);
    ctx.timer.arm();
  }

  /** An incoming connection refused before it had a record (no room, no TLS material, a
   * failed TLS handshake): onError, the close event and the error counters hear why. */
  refused(address: string, code: ChirpErrorCode, why: string, cause?: unknown): void {
    const ctx = this.ctx;
    ctx.tally.connectionError(code);
    if (ctx.events.has("close")) {
      ctx.events.emit("close", { type: "close", address, port: 0, outgoing: false, opened: false, code, reason: why });
    }
    ctx.onError(new ChirpError(code, `refused a connection from ${address}: ${why}`, cause === undefined ? undefined : { cause }));
  }

  #attach(conn: Conn, sock: Socket): void {
    const ctx = this.ctx;
    conn.sock = sock;
    ctx.openSockets++;
    let gone = false;
    sock.onData = (bytes) => {
      try {
        ctx.receiver.onData(conn, bytes);
      } catch (e) {
        // Nothing one connection does may throw into the runtime's socket handler (and out of
        // the process): this connection closes, the others carry on.
        const oom = e instanceof RangeError;
        const why = oom ? `out of memory while reading: ${e.message}` : `internal: ${(e as Error)?.message ?? String(e)}`;
        this.closeConn(conn, oom ? "ENOMEM" : "FATAL", why);
        ctx.onError(new ChirpError(oom ? "ENOMEM" : "FATAL", `connection from ${conn.address}:${conn.peerPort} closed: ${why}`, { cause: e }));
      }
    };
    sock.onDrain = () => {
      conn.needDrain = false;
      if (conn.remote) ctx.sender.markDirty(conn.remote);
    };
    sock.onClose = (err) => {
      if (gone) return;
      gone = true;
      ctx.openSockets--;
      conn.socketGone = true;
      if (!conn.closed) this.#lost(conn, err);
      if (ctx.openSockets === 0) ctx.socketClosed();
    };
  }

  /** The socket closed or failed under us: why, in the words a user can act on. */
  #lost(conn: Conn, err?: Error): void {
    const ctx = this.ctx;
    const state = ctx.core.x.connState(conn.idx);
    const pm = conn.partial;
    if (conn.outgoing && state === CONN.HANDSHAKE && conn.sock) {
      // The TCP connection was accepted and dropped before the peer's handshake: a Chirp node
      // does that when it is at maxConnections (there is no error frame, protocol.md §1.5).
      this.closeConn(conn, "PROTOCOL_ERROR", `the peer closed the connection during the handshake: it may be at its connection limit${err ? ` (${err.message})` : ""}`);
    } else if (pm) {
      // Mid-message: the message is lost, which an orderly close never does (protocol.md §5.7).
      const why = `the peer closed the connection in the middle of a message (${pm.got} of its ${pm.total} bytes received)`;
      this.closeConn(conn, "PROTOCOL_ERROR", err ? `${why}: ${err.message}` : why);
      if (!conn.outgoing) ctx.onError(new ChirpError("PROTOCOL_ERROR", `connection from ${conn.address}:${conn.peerPort} closed: ${why}`));
    } else {
      this.closeConn(conn, "PROTOCOL_ERROR", err ? `connection failed: ${err.message}` : "the peer closed the connection", !err);
    }
  }

  /** A handshake completed: events "open" and, for a changed peer identity, "identity". */
  #opened(conn: Conn, r: Remote): void {
    const events = this.ctx.events;
    const current = toHex(conn.remoteIdentity);
    const previous = r.peerIdentity;
    r.peerIdentity = current;
    events.emit("open", { type: "open", address: r.address, port: r.port, outgoing: conn.outgoing, identity: current });
    if (previous !== null && previous !== current) {
      events.emit("identity", { type: "identity", address: r.address, port: r.port, previous, current });
    }
  }

  handshake(conn: Conn, port: number, identity: Uint8Array, remote: number): void {
    const ctx = this.ctx;
    conn.remoteIdentity = identity;
    if (conn.outgoing) {
      // Filed under the remote we dialled, whatever port the peer announces (libchirp files it
      // under the announced port and strands the queue, protocol.md §10.4).
      const r = conn.remote!;
      ctx.sender.markDirty(r);
      this.#opened(conn, r);
      return;
    }
    // Incoming: the core filed it under the remote for (address, announced port), §5.1.
    conn.peerPort = port;
    const r = ctx.remotes.adopt(remote, conn.address, port);
    conn.remote = r;
    r.conns.add(conn);
    ctx.sender.markDirty(r);
    this.#opened(conn, r);
  }

  /** Closes a connection and settles what depended on it (protocol.md §4.5). `orderly`: not an error
   * (the peer closed, idle collection); SHUTDOWN closes are orderly too. */
  closeConn(conn: Conn, code: ChirpErrorCode, why: string, orderly = false): void {
    if (conn.closed) return;
    const ctx = this.ctx;
    conn.closed = true;
    dropPartial(conn, ctx.inFlight);
    conn.cancelDial?.();
    conn.cancelDial = null;
    conn.sock?.close();
    const x = ctx.core.x;
    // Whether the peer's handshake arrived, from the core before it frees the record (FAILED
    // comes only after a handshake: a bad frame, or no room to file it).
    const state = x.connState(conn.idx);
    const opened = state === CONN.READY || state === CONN.FAILED;
    const flags = x.connClose(conn.idx, now());
    if (ctx.conns[conn.idx] === conn) ctx.conns[conn.idx] = undefined;
    const r = conn.remote;
    const where = r ? `${r.address}:${r.port}` : `${conn.address}`;
    const err = new ChirpError(code, `${why}${code === "PROTOCOL_ERROR" ? oversized(conn, r) : ""} (${where})`);
    ctx.sender.connClosed(conn, err);
    const sync = ctx.config.synchronous;
    // The socket closed under frames it had not yet taken (their write callbacks are pending:
    // the kernel never had them, so the peer cannot have read them). Typically the peer closed
    // its idle connection (§5.5) as we wrote: those sends go back to the head of the queue for
    // the redial, once each, instead of failing.
    const retry = conn.socketGone && r !== null && !r.freed && !ctx.closing ? [] as SendOp[] : null;
    for (const batch of conn.batches) {
      for (const op of batch) {
        if (op.done || op.written) {
          if (!op.done && !sync) settle(op, err);
          continue;
        }
        if (retry && !op.retried) {
          op.retried = true;
          retry.push(op);
          const u = r!.unacked.indexOf(op);
          if (u >= 0) r!.unacked.splice(u, 1);
        } else settle(op, err);
      }
    }
    conn.batches = [];
    if (retry && retry.length > 0) {
      r!.queue.splice(r!.qHead, 0, ...retry);
      if (!r!.kept) ctx.sender.keep(r!, true);
    }
    const clean = orderly || code === "SHUTDOWN";
    if (!clean) (r ? r.tally : ctx.tally).connectionError(code);
    if (ctx.events.has("close")) {
      ctx.events.emit("close", {
        type: "close", address: r?.address ?? conn.address, port: r?.port ?? conn.peerPort, outgoing: conn.outgoing,
        opened, code: clean ? null : code, reason: why,
      });
    }
    if (!r) return;
    r.conns.delete(conn);
    if (flags & K.CLOSE_ABANDONED) failUnacked(r, err);
    // A failed dial fails every message queued for the remote. libchirp fails only the head
    // ("abort one", protocol.md §4.5) and retries after a 50-549 ms debounce, so a long queue to a
    // dead peer drains one message per debounce and, being always in debounce, escapes GC.
    if (code !== "SHUTDOWN" && !opened && conn.outgoing) this.failQueue(r, err);
    // A send or write timeout means the peer stopped answering: the sends queued behind the
    // one that timed out fail with it rather than wait for a redial and its connect timeout
    // (a send settles within about T of the partition, protocol.md §4.3). Never written: no
    // duplicate is possible.
    else if (code === "TIMEOUT" && opened && r.queued > 0) {
      this.failQueue(r, new ChirpError("TIMEOUT", `not sent: an earlier message to ${where} timed out (${why}); the peer is presumed unreachable`));
    }
    if (r.queued > 0 && !r.freed) ctx.sender.markDirty(r);
  }

  failQueue(r: Remote, err: Error): void {
    for (let i = r.qHead; i < r.queue.length; i++) settle(r.queue[i], err);
    r.queue = [];
    r.qHead = 0;
    r.acceptedBytes = 0;
    if (r.kept) this.ctx.sender.keep(r, false);
  }

  evicted(r: Remote): void {
    // The core evicts only remotes without connections, ACK wait or queued sends; should one
    // be left anyway, it fails rather than hangs.
    r.freed = true;
    const err = new ChirpError("ENOMEM", `remote ${r.address}:${r.port} was evicted from the full remote table (maxRemotes ${this.ctx.config.maxRemotes})`);
    this.failQueue(r, err);
    failUnacked(r, err);
    for (const c of [...r.conns]) this.closeConn(c, err.code, err.message);
  }

  /** Forget a remote: fail its queue, close its connections (protocol.md §5.5, §5.6). */
  dropRemote(r: Remote, err: ChirpError): void {
    if (r.freed) return;
    r.freed = true;
    this.failQueue(r, err);
    failUnacked(r, err);
    for (const c of [...r.conns]) this.closeConn(c, err.code, err.message);
    this.ctx.core.x.remoteFree(r.idx);
    this.ctx.remotes.delete(r);
  }
}
