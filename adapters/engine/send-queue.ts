// The send queue: each remote's sends wait here until the protocol lets them out, and go to
// the socket in batches: one send() per message into the core's OUT area, one socket
// write per batch (protocol.md §4.1, §4.2). Control frames (ACKs) are flushed here too.
import { ST } from "../core/core.ts";
import { ChirpError } from "../errors.ts";
import { EMPTY, identityOf, settle, SendOp, SPENT, type Conn, type Remote, type SendOptions } from "./records.ts";
import type { Ctx, SenderPart } from "./context.ts";
import type { WriteBuffers } from "./write-buffers.ts";
import { Turns } from "./turns.ts";
import { copyInto, copySmall, LostSends, SendTimeEncoder } from "./accepted.ts";
import { aborted, executor, idPool, newReject, newResolve, nextIdentity, toBytes } from "./send-args.ts";

/** Payloads up to this size are copied into the core's OUT area; larger ones are written
 * from their own buffers right after their 27-byte header (no copy). */
const INLINE_MAX = 16 * 1024;
/** A write batch is cut at about this many bytes so that one burst does not build one huge
 * buffer list. */
const BATCH_BYTES = 256 * 1024;
/** Asynchronous mode: a send (up to ACCEPT_MAX bytes, copied) to a remote with a ready connection
 * resolves at once, accepted into the remote's queue, while the remote holds fewer accepted, unwritten bytes than this
 * (like zeromq's high-water mark); past it a send resolves when written, so an `await send()`
 * loop waits there (backpressure as a pending promise) and memory stays bounded. A send that
 * fails after it resolved is counted and reported to onError (issue 14, README "Errors"). */
const ACCEPT_BYTES = 256 * 1024;
/** The largest message (header + data) resolved when accepted: it is copied, which for
 * larger ones costs more than the write it saves (1 KiB messages measured 6-19 % slower one-way). */
const ACCEPT_MAX = 256;
/** Microtasks a released message's ACK waits for a send that can carry it: a responder's
 * reply comes about two after its release, a requester's next request up to five. */
const ACK_HOPS = 8;
/** Frame bytes a 27-byte header adds to a message. */
const FRAME = 27;

const now = (): number => performance.now();
/** Runs `fn` as a microtask. Not queueMicrotask: Node wraps every call of that in an
 * AsyncResource (a few hundred ns a time, and it runs once per send in synchronous mode). */
const RESOLVED = Promise.resolve();
const microtask = (fn: () => void): void => void RESOLVED.then(fn);

export class Sender implements SenderPart {
  #dirty = new Set<Remote>();
  readonly #turns = new Turns();
  #pumpScheduled = false;
  /** Sends accepted so far, the count the last pump pass saw, and frame bytes accepted since
   * the last pump: while an `await send()` loop keeps adding accepted sends, the pump lets it
   * run and writes them in one batch (#pumpDirty). */
  #accepted = 0;
  #acceptedSeen = 0;
  #acceptedBytes = 0;
  /** Accepted sends that failed after they resolved, reported to onError. */
  readonly #lost: LostSends;
  readonly #onLost = (op: SendOp, err: Error): void => this.#lost.add(op, err);
  /** Inline payloads must fit an empty OUT area beside queued ACKs (at most 2·32 + 1
   * headers of 27 bytes): with a small bufferSize that is less than INLINE_MAX. */
  readonly #inlineMax: number;
  /** Accepted sends encoded into OUT at send time (accepted.ts). */
  readonly #encoder: SendTimeEncoder;
  /** The clock, read once per pump pass for the sends encoded at send time (the core uses it
   * for idle times, §4.6, §5.5: a pass lasts well under a millisecond); -1: read it. */
  #t = -1;
  constructor(readonly ctx: Ctx, readonly buffers: WriteBuffers) {
    this.#inlineMax = Math.min(INLINE_MAX, ctx.core.outCap - 2048);
    this.#lost = new LostSends(ctx.onError);
    this.#encoder = new SendTimeEncoder(ctx.core, this.#onLost, (conn, run) => {
      const b = this.buffers.takeOut();
      this.write(conn, [b.view], [run], [b.buffer]);
    });
  }

  /** Frames encoded at send time wait in OUT for their write. */
  get pendingOut(): boolean {
    return this.#encoder.pending;
  }

  /** Writes the frames encoded at send time now: before a command that needs OUT for another
   * connection (a dial's or an accept's handshake). */
  flushOut(): void {
    this.#encoder.flush();
  }

  /** The connection closed (the core dropped its OUT bytes): its frames encoded at send time
   * are reported lost. */
  connClosed(conn: Conn, err: Error): void {
    this.#encoder.closed(conn, err);
  }

  enqueue(remote: Remote, data: Uint8Array, options: SendOptions | undefined): Promise<Uint8Array> {
    const config = this.ctx.config;
    if (remote.queue.length - remote.qHead >= config.maxQueued) {
      remote.tally.sendError("ENOMEM");
      throw new ChirpError("ENOMEM", `the send queue to ${remote.address}:${remote.port} is full (maxQueued ${config.maxQueued}): the peer does not keep up`);
    }
    const header = options === undefined ? EMPTY : toBytes(options.header, "header");
    if (header.length > 0xffff) throw new ChirpError("VALUE_ERROR", `header is ${header.length} bytes; at most 65535`);
    if (data.length > 0xffffffff) throw new ChirpError("VALUE_ERROR", "data is larger than 4 GiB - 1");
    if (header.length + data.length > config.maxSendSize) {
      throw new ChirpError("VALUE_ERROR", `the message is ${header.length + data.length} bytes (header + data), over this node's maxSendSize of ${config.maxSendSize} (default: its maxMsgSize, ${config.maxMsgSize}); a peer with the same maxMsgSize would refuse it`);
    }
    const signal = options === undefined ? undefined : options.signal;
    if (signal !== undefined && signal.aborted) throw aborted(signal);
    let ids: Uint8Array;
    let idAt = 0;
    if (options !== undefined && options.identity !== undefined) {
      if (!(options.identity instanceof Uint8Array) || options.identity.length !== 16) {
        throw new ChirpError("VALUE_ERROR", "identity must be a Uint8Array of 16 bytes");
      }
      // Copied (the caller may change its array before the write) into the identity pool: a
      // 16-byte slot there costs less than a new ArrayBuffer per reply.
      idAt = nextIdentity();
      ids = idPool;
      ids.set(options.identity, idAt);
    } else {
      idAt = nextIdentity();
      ids = idPool;
    }
    let conn: Conn | undefined;
    if (signal === undefined && !config.synchronous && header.length + data.length <= ACCEPT_MAX &&
      remote.acceptedBytes < ACCEPT_BYTES && (conn = this.#readyConn(remote)) !== undefined && this.#turns.mayAccept()) {
      // Resolved before it is written: the caller may reuse its buffers at once. With nothing
      // queued before it, its frame goes into OUT now (accepted.ts SendTimeEncoder); else its
      // bytes are copied (at most ACCEPT_MAX, into a slab) and it waits in the queue. Larger
      // payloads resolve when written, uncopied.
      if (remote.qHead === remote.queue.length) {
        if (this.#t < 0) this.#t = now();
        if (this.#encoder.encode(conn, remote, ids, idAt, header, data, this.#t)) {
          this.#accepted++;
          this.#acceptedBytes += FRAME + header.length + data.length;
          this.#schedule();
          return Promise.resolve(identityOf(ids, idAt));
        }
      }
      const op = new SendOp(remote, ids, idAt, EMPTY, EMPTY, newResolve, newReject);
      op.accepted = true;
      copyInto(op, header, data);
      const bytes = FRAME + header.length + data.length;
      remote.acceptedBytes += bytes;
      remote.onLost = this.#onLost;
      this.#accepted++;
      this.#acceptedBytes += bytes;
      remote.queue.push(op);
      if (!remote.kept) this.keep(remote, true);
      this.markDirty(remote);
      return Promise.resolve(op.identity);
    }
    const p = new Promise<Uint8Array>(executor);
    const op = new SendOp(remote, ids, idAt, header, data, newResolve, newReject);
    remote.queue.push(op);
    if (!remote.kept) this.keep(remote, true);
    if (signal !== undefined) {
      // A settled op is skipped by the queue (writeQueue), and a late ACK settles nothing.
      const onAbort = (): void => settle(op, aborted(signal));
      signal.addEventListener("abort", onAbort, { once: true });
      p.then(() => signal.removeEventListener("abort", onAbort), () => signal.removeEventListener("abort", onAbort));
    }
    this.markDirty(remote);
    return p;
  }

  /** Tells the core whether sends are queued for `r` (an idle remote may be evicted). */
  keep(r: Remote, on: boolean): void {
    if (r.freed) return;
    r.kept = on;
    this.ctx.core.x.remoteKeep(r.idx, on ? 1 : 0);
  }

  markDirty(r: Remote): void {
    this.#dirty.add(r);
    this.#schedule();
  }

  #schedule(): void {
    if (!this.#pumpScheduled) {
      this.#pumpScheduled = true;
      microtask(() => this.#pumpDirty());
    }
  }

  /** The remote's current connection if it takes writes now. */
  #readyConn(r: Remote): Conn | undefined {
    const ci = this.ctx.core.x.remoteConn(r.idx);
    if (ci < 0) return undefined;
    const conn = this.ctx.conns[ci];
    return conn !== undefined && !conn.needDrain && !conn.closed && conn.sock !== null ? conn : undefined;
  }

  #pumpDirty(): void {
    this.#t = -1;
    if (this.#accepted !== this.#acceptedSeen && this.#acceptedBytes < BATCH_BYTES) {
      // Sends were accepted since the last pass: the code that made them may make more in
      // its next microtask (an await loop); pass once more, and write when it stops.
      this.#acceptedSeen = this.#accepted;
      microtask(() => this.#pumpDirty());
      return;
    }
    this.#acceptedSeen = this.#accepted;
    this.#acceptedBytes = 0;
    this.#pumpScheduled = false;
    this.#encoder.flush();
    const dirty = this.#dirty;
    this.#dirty = new Set();
    for (const r of dirty) this.#pump(r);
    this.ctx.timer.arm();
  }

  /** Moves a remote's queue forward: write what the protocol allows, or dial. */
  #pump(r: Remote): void {
    const ctx = this.ctx;
    if (r.freed || ctx.closing) return;
    if (r.queued === 0) {
      if (r.kept) this.keep(r, false);
      return;
    }
    const ci = ctx.core.x.remoteConn(r.idx);
    const conn = ci >= 0 ? ctx.conns[ci] : undefined;
    if (!conn) {
      ctx.links.dial(r);
      return;
    }
    if (conn.needDrain) return;
    this.#writeQueue(conn, r);
  }

  #writeQueue(conn: Conn, r: Remote): void {
    this.#encoder.flush(); // OUT is shared: frames encoded at send time go first
    const core = this.ctx.core;
    const x = core.x;
    const t = now();
    const sync = this.ctx.config.synchronous;
    const chunks: Uint8Array[] = [];
    let ops: SendOp[] = [];
    let bufs: Uint8Array[] = [];
    let batchBytes = 0;
    let retired = false;
    const take = (): void => {
      const b = this.buffers.takeOut();
      bufs.push(b.buffer);
      chunks.push(b.view);
    };
    const write = (): boolean => {
      if (x.outLen() > 0) take();
      if (chunks.length === 0) return true;
      const ok = this.write(conn, chunks.splice(0), ops, bufs);
      ops = [];
      bufs = [];
      batchBytes = 0;
      return ok;
    };
    while (r.qHead < r.queue.length) {
      const op = r.queue[r.qHead];
      if (op.done) {
        r.queue[r.qHead++] = SPENT;
        continue;
      }
      const hl = op.hl;
      const dl = op.dl;
      const inline = hl + dl <= this.#inlineMax;
      const ids = op.ids;
      const mem = core.mem;
      for (let k = 0, d = core.idPtr, s = op.idAt; k < 16; k++) mem[d + k] = ids[s + k];
      const at = x.send(conn.idx, hl, dl, inline ? 1 : 0, t);
      if (at === -ST.SPACE) {
        if (x.outLen() === 0) {
          settle(op, new ChirpError("FATAL", "internal: the core has no room for a frame in an empty buffer"));
          r.queue[r.qHead++] = SPENT;
          continue;
        }
        // OUT is full: its bytes join the batch, and the batch is written once it reaches
        // BATCH_BYTES (one writev of several OUT buffers: fewer syscalls and wake-ups of a
        // loopback receiver than one write per OUT buffer).
        if (batchBytes < BATCH_BYTES) take();
        else if (!write()) break;
        continue;
      }
      if (at === -ST.RETIRED) {
        retired = true; // idle for 0.75·R: the peer may be collecting it (protocol.md §4.6)
        break;
      }
      if (at < 0) break; // WAIT: a sync message waits for its ACK; NOT_READY: no handshake yet
      // The queue drops its reference (the batch and, in sync mode, unacked hold the op now):
      // a taken slot below qHead would keep the payload until the queue is compacted.
      r.queue[r.qHead++] = SPENT;
      if (op.accepted) r.acceptedBytes -= FRAME + hl + dl;
      if (inline) {
        const p = core.outPtr + at; // where the core put the payload
        if (op.accepted) copySmall(core.mem, op.copy, p, op.copyAt, hl + dl); // header‖data
        else {
          if (hl) copySmall(core.mem, op.header, p);
          if (dl) copySmall(core.mem, op.data, p + hl);
        }
      } else {
        take();
        if (hl) chunks.push(op.header);
        if (dl) chunks.push(op.data);
      }
      ops.push(op);
      batchBytes += 27 + hl + dl;
      if (sync) {
        // The core answers -WAIT once the remote's window is full (protocol.md §4.7).
        op.at = t;
        r.unacked.push(op);
        continue;
      }
      if (batchBytes >= BATCH_BYTES && !write()) break;
    }
    write();
    if (r.qHead > 1024 && r.qHead * 2 > r.queue.length) {
      r.queue = r.queue.slice(r.qHead);
      r.qHead = 0;
    }
    if (retired) this.#pump(r); // no current connection now: dial a new one
  }

  /** Writes the connection's queued ACKs after ACK_HOPS microtasks, unless a send to the
   * peer carried them first (the core's send writes a connection's queued ACKs before its
   * frame, protocol.md §4.1): a synchronous request/reply is then two writes per round trip,
   * not four. A few microtasks cost well under a microsecond of the sender's round trip. */
  flushControlSoon(conn: Conn): void {
    if (conn.ackSoon) return;
    conn.ackSoon = true;
    let hops = ACK_HOPS;
    const step = (): void => {
      if (--hops > 0) return microtask(step);
      conn.ackSoon = false;
      this.flushControl(conn);
    };
    microtask(step);
  }

  /** Control frames (ACKs) for a connection, written on their own (protocol.md §4.1). */
  flushControl(conn: Conn): void {
    if (conn.closed || !conn.sock) return;
    this.#encoder.flush();
    const x = this.ctx.core.x;
    // OUT is taken after every command, so it is free here (assembly/ABI.md "Driving the core").
    const n = x.flush(conn.idx);
    if (n > 0) {
      const b = this.buffers.takeOut();
      this.write(conn, [b.view], [], [b.buffer]);
    } else if (x.outConn() === conn.idx) x.outReset();
  }

  write(conn: Conn, chunks: Uint8Array[], ops: SendOp[], bufs?: Uint8Array[]): boolean {
    const sock = conn.sock;
    if (!sock || conn.closed) {
      const err = new ChirpError("PROTOCOL_ERROR", "connection closed before the write");
      for (const op of ops) settle(op, err);
      return false;
    }
    const x = this.ctx.core.x;
    x.writeStart(conn.idx, now());
    conn.writesPending++;
    conn.batches.push(ops);
    const ok = sock.write(chunks, (err) => {
      if (bufs !== undefined && !err) this.buffers.giveBack(bufs);
      this.#written(conn, ops, err);
    });
    if (!ok) conn.needDrain = true;
    return ok;
  }

  #written(conn: Conn, ops: SendOp[], err?: Error): void {
    if (conn.closed) return; // closeConn already failed what it carried
    conn.writesPending--;
    if (err) {
      // closeConn settles (or requeues) this batch with the others still pending.
      conn.socketGone = true;
      this.ctx.links.closeConn(conn, "PROTOCOL_ERROR", `write failed: ${err.message}`);
      return;
    }
    const i = conn.batches.indexOf(ops);
    if (i >= 0) conn.batches.splice(i, 1);
    this.ctx.core.x.writeDone(conn.idx, conn.writesPending === 0 ? 1 : 0, now());
    const n = ops.length;
    if (n === 0) return;
    const sync = this.ctx.config.synchronous;
    let bytes = 0;
    let ready = 0;
    let messages = 0;
    for (let i = 0; i < n; i++) {
      const op = ops[i];
      bytes += op.hl + op.dl;
      messages += op.count;
      op.written = true;
      if (!sync || op.acked) ready++;
    }
    if (ready === n) this.#turns.settleWritten(ops);
    else if (ready > 0) this.#turns.settleWritten(ops.filter((op) => op.acked));
    const rt = ops[0].remote.tally;
    rt.messagesOut += messages;
    rt.bytesOut += bytes;
    const tt = this.ctx.tally;
    tt.messagesOut += messages;
    tt.bytesOut += bytes;
  }
}
