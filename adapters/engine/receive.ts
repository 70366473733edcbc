// Receiving: socket bytes into the core (one feed() per read), the core's event records acted
// on, messages handed to the application (onMessage or async iteration), and releases that
// free a slot, send its ACK and resume a paused reader (protocol.md §3.1-§3.6).
import { EV, K, PEER_FAULT, ST } from "../core/core.ts";
import { ChirpError } from "../errors.ts";
import { looksLikeTls, PEER_TLS, plaintextTail } from "../tls/policy.ts";
import type { Message } from "../message.ts";
import { settle, takeAcked, type Conn } from "./records.ts";
import { InFlightRefused, MessageCopier } from "./messages.ts";
import type { Ctx, ReceiverPart } from "./context.ts";

const now = (): number => performance.now();

export class Receiver implements ReceiverPart {
  /** Messages not taken by onMessage, and iterators waiting for one. */
  readonly inbox: Message[] = [];
  readonly waiters: ((r: IteratorResult<Message>) => void)[] = [];
  constructor(readonly ctx: Ctx) {}

  onData(conn: Conn, bytes: Uint8Array): void {
    if (conn.closed || conn.mismatch) return;
    const ctx = this.ctx;
    if (conn.sniff) {
      // First bytes of a plaintext connection: a TLS record means the peer encrypts and we
      // do not (tls/policy.ts explains why a chirp handshake never passes for one).
      conn.sniff = false;
      if (looksLikeTls(bytes)) {
        conn.mismatch = true;
        if (!conn.outgoing) ctx.onError(new ChirpError("PROTOCOL_ERROR", `${PEER_TLS} (connection from ${conn.address} closed)`));
        // Close once our handshake is out (a write completes after the earlier ones): the
        // peer's TLS client then reads it and reports that we answered in plaintext. The tail
        // makes sure it can parse it as a (bad) record rather than wait (tls/policy.ts).
        conn.sock?.write([plaintextTail(ctx.port, ctx.identity)], () => ctx.links.closeConn(conn, "PROTOCOL_ERROR", PEER_TLS));
        return;
      }
    }
    if (conn.pending !== null) {
      // Input is held back while the core pauses the connection; the runtime may deliver a
      // chunk after pause(): keep it behind the saved bytes.
      const p = conn.pending;
      const joined = new Uint8Array(p.length + bytes.length);
      joined.set(p);
      joined.set(bytes, p.length);
      conn.pending = joined;
      return;
    }
    this.#feed(conn, bytes);
    ctx.timer.arm();
  }

  /** One feed() per read (more only if a read exceeds the IN area or the event area fills). */
  #feed(conn: Conn, bytes: Uint8Array): void {
    const core = this.ctx.core;
    const x = core.x;
    let off = 0;
    for (;;) {
      const n = Math.min(bytes.length - off, core.inCap);
      if (n > 0) core.mem.set(n === bytes.length ? bytes : bytes.subarray(off, off + n), core.inPtr);
      const used = x.feed(conn.idx, n, now());
      const delivered = this.handleEvents();
      off += used;
      const released = conn.released;
      this.dispatch(delivered);
      if (conn.closed) return;
      if (x.connPaused(conn.idx)) {
        // Handlers that released during dispatch freed slots: parse on at once.
        if (conn.released !== released) continue;
        conn.pending = bytes.slice(off);
        conn.sock?.pause();
        return;
      }
      if (off >= bytes.length) return;
      if (used === 0 && n > 0) {
        this.ctx.links.closeConn(conn, "FATAL", "internal: the core made no progress");
        return;
      }
    }
  }

  /** Reads the core's event records (from feed or tick). Messages are returned, to be handed
   * to the application only after all records were read. */
  handleEvents(): Message[] {
    const ctx = this.ctx;
    const core = ctx.core;
    const n = core.x.evCount();
    const out: Message[] = [];
    const copier = new MessageCopier(core, ctx.owner, n, ctx.inFlight);
    for (let i = 0; i < n; i++) {
      const kind = core.evKind(i);
      const conn = ctx.conns[core.evConn(i)];
      switch (kind) {
        case EV.MSG: {
          if (!conn) break;
          const msg = copier.whole(i, conn);
          this.#received(conn, msg.header.length + msg.data.length);
          out.push(msg);
          break;
        }
        case EV.BEGIN:
          if (conn) copier.begin(i, conn);
          break;
        case EV.CHUNK:
          if (!conn) break;
          try {
            copier.chunk(i, conn);
          } catch (e) {
            if (!(e instanceof InFlightRefused)) throw e;
            // No memory for this message: only its connection pays (protocol.md §3.3).
            ctx.links.closeConn(conn, "ENOMEM", e.message);
            ctx.onError(e);
          }
          break;
        case EV.END: {
          const msg = conn ? copier.end(conn) : null;
          if (!conn || !msg) break;
          this.#received(conn, msg.header.length + msg.data.length);
          out.push(msg);
          break;
        }
        case EV.HANDSHAKE:
          if (conn) ctx.links.handshake(conn, core.evPort(i), core.evIdentity(i), core.evRemote(i));
          break;
        case EV.ACK: {
          const r = ctx.remotes.at(core.evRemote(i));
          const op = r === undefined ? undefined : takeAcked(r, core.mem, core.evIdentityAt(i));
          if (!r || !op) break;
          op.acked = true;
          r.tally.ackRtt(now() - op.at);
          if (op.written) settle(op);
          ctx.sender.markDirty(r);
          break;
        }
        case EV.ERROR: {
          if (!conn) break;
          const code = core.evCode(i);
          const from = `${conn.outgoing ? "connection to" : "connection from"} ${conn.address}${conn.peerPort ? `:${conn.peerPort}` : ""}`;
          if (code === ST.FULL) {
            // A new peer the remote table has no room for: every remote has a connection or
            // work pending (idle ones are evicted, protocol.md §5.1).
            const why = `too many remotes (maxRemotes ${ctx.config.maxRemotes}, each with a connection or work pending)`;
            ctx.links.closeConn(conn, "ENOMEM", why);
            ctx.onError(new ChirpError("ENOMEM", `${from} refused: ${why}`));
            break;
          }
          const why = code === ST.TOO_BIG ? `the peer sent a frame larger than maxMsgSize (${ctx.config.maxMsgSize} bytes)`
            : code === ST.BAD_HANDSHAKE ? "bad handshake: the peer announced port 0 (no chirp node listens there)"
            : "the peer sent an invalid frame";
          ctx.links.closeConn(conn, PEER_FAULT[code], why);
          ctx.onError(new ChirpError(PEER_FAULT[code], `${from} closed: ${why}`));
          break;
        }
        case EV.TIMEOUT: {
          if (!conn) break;
          const code = core.evCode(i);
          const why = code === ST.CONNECT_TIMEOUT ? "connect timeout: no handshake from the peer"
            : code === ST.HANDSHAKE_TIMEOUT ? "handshake timeout: the peer never spoke"
            : code === ST.ACK_TIMEOUT ? "send timeout: the receiver did not acknowledge (release) the message in time"
            : "write timeout: the peer does not read";
          ctx.links.closeConn(conn, "TIMEOUT", why);
          // An incoming connection that never spoke concerns no send: onError hears of it.
          if (code === ST.HANDSHAKE_TIMEOUT) ctx.onError(new ChirpError("TIMEOUT", `connection from ${conn.address} closed: ${why} within ${ctx.core.x.connectTimeout() / 1000} s`));
          break;
        }
        case EV.GC_REMOTE: {
          const r = ctx.remotes.at(core.evRemote(i));
          if (r) ctx.links.dropRemote(r, new ChirpError("SHUTDOWN", `remote ${r.address}:${r.port} was idle and garbage-collected`));
          break;
        }
        case EV.GC_CONN:
          if (conn) ctx.links.closeConn(conn, "SHUTDOWN", "idle connection garbage-collected", true);
          break;
        case EV.RETRY: {
          const r = ctx.remotes.at(core.evRemote(i));
          if (r) ctx.sender.markDirty(r);
          break;
        }
        default:
          break;
      }
    }
    return out;
  }

  #received(conn: Conn, bytes: number): void {
    conn.held++;
    const rt = conn.remote?.tally;
    if (rt) {
      rt.messagesIn++;
      rt.bytesIn += bytes;
    }
    const tt = this.ctx.tally;
    tt.messagesIn++;
    tt.bytesIn += bytes;
  }

  dispatch(msgs: Message[]): void {
    const ctx = this.ctx;
    for (const msg of msgs) {
      if (ctx.onMessage) {
        try {
          ctx.onMessage(msg);
        } catch (e) {
          ctx.onError(e as Error);
        }
      } else if (this.waiters.length > 0) {
        this.waiters.shift()!({ value: msg, done: false });
      } else {
        this.inbox.push(msg);
      }
    }
  }

  /** Frees a slot; queues the ACK in sync mode; resumes a paused reader. */
  release(ci: number, gen: number, slot: number): void {
    const ctx = this.ctx;
    const conn = ctx.conns[ci];
    if (!conn || conn.gen !== gen || conn.closed) return; // closed: nothing to ACK (protocol.md §3.6)
    const x = ctx.core.x;
    conn.released++;
    conn.held--;
    let rc = x.release(ci, gen, slot);
    if (rc === -ST.SPACE) {
      ctx.sender.flushControl(conn);
      rc = x.release(ci, gen, slot);
    }
    if (rc <= 0) return;
    // The ACK goes out within a few microtasks: a send to the peer made meanwhile (a
    // responder's reply, a requester's next request) carries it in the same write.
    if (rc & K.RELEASE_ACK_QUEUED) ctx.sender.flushControlSoon(conn);
    // The core paused this connection for a slot and the input is held back here: feed it
    // again. (A release during dispatch needs nothing: #feed goes on parsing by itself.)
    if ((rc & K.RELEASE_RESUME) && conn.pending !== null) queueMicrotask(() => this.#resume(conn));
  }

  #resume(conn: Conn): void {
    if (conn.closed || conn.pending === null) return;
    const p = conn.pending;
    conn.pending = null;
    this.#feed(conn, p);
    if (conn.pending === null && !conn.closed) conn.sock?.resume();
    this.ctx.timer.arm();
  }
}
