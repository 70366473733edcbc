// Asynchronous sends that resolve when accepted (send-queue.ts ACCEPT_BYTES; protocol.md
// §4.2): encoded into the core's OUT area at send time when nothing is queued before them
// (SendTimeEncoder), else their bytes copied into a slab so the caller may reuse its buffers
// at once; and the report of those that fail after they resolved (counted in settle,
// reported here to onError).
import { ST, type Core } from "../core/core.ts";
import { ChirpError } from "../errors.ts";
import { EMPTY, SendOp, settle, type Conn, type Remote } from "./records.ts";

const RESOLVED = Promise.resolve();

/** Copies of accepted payloads (the caller may reuse its buffer once the send resolved), header
 * then data, bump-allocated in 1 MiB slabs: no ArrayBuffer or view per send. A slab is dropped
 * when full and lives until its last send was written. */
const SLAB_BYTES = 1 << 20;
let slab = new Uint8Array(0);
let slabAt = 0;
export function copyInto(op: SendOp, header: Uint8Array, data: Uint8Array): void {
  const hl = header.length;
  const n = hl + data.length;
  if (slabAt + n > slab.length) {
    slab = new Uint8Array(SLAB_BYTES);
    slabAt = 0;
  }
  op.copy = slab;
  op.copyAt = slabAt;
  op.copyHl = hl;
  op.copyDl = data.length;
  if (hl) copySmall(slab, header, slabAt);
  copySmall(slab, data, slabAt + hl);
  slabAt += (n + 7) & ~7;
}

/** Copies `n` bytes of `src` from `from` into `dst` at `at` (default: all of `src`): a plain
 * loop for the short arrays of the hot path (cheaper than TypedArray.set's call overhead
 * there), set() for the rest. */
export function copySmall(dst: Uint8Array, src: Uint8Array, at: number, from = 0, n = src.length): void {
  if (n > 64) {
    dst.set(from === 0 && n === src.length ? src : src.subarray(from, from + n), at);
    return;
  }
  for (let i = 0; i < n; i++) dst[at + i] = src[from + i];
}

/** Accepted sends that failed after their promise resolved, one onError report per remote and
 * microtask turn with the count. */
export class LostSends {
  #lost = new Map<Remote, { n: number; err: Error }>();
  constructor(readonly onError: (err: Error) => void) {}

  add(op: SendOp, err: Error): void {
    const r = op.remote;
    const seen = this.#lost.get(r);
    if (seen) {
      seen.n += op.count;
      return;
    }
    if (this.#lost.size === 0) void RESOLVED.then(() => this.#flush());
    this.#lost.set(r, { n: op.count, err });
  }

  #flush(): void {
    const lost = this.#lost;
    this.#lost = new Map();
    for (const [r, { n, err }] of lost) {
      const code = (err as ChirpError).code ?? "FATAL";
      const what = n === 1 ? "1 asynchronous send" : `${n} asynchronous sends`;
      this.onError(new ChirpError(code, `${what} to ${r.address}:${r.port} resolved when accepted but ${n === 1 ? "was" : "were"} not delivered: ${err.message}`, { cause: err }));
    }
  }
}

const ignore = (): void => {};

/**
 * The fast path of an accepted send (issue 14, 19): the frame goes into the core's OUT area
 * at once (one copy of the payload, no queue entry, no per-send record); the frames of one
 * connection gather there and go out in one socket write when OUT is full, when the pump runs,
 * or before any command that needs OUT for another connection (assembly/ABI.md "Driving the
 * core": OUT holds one connection's bytes). A send to another connection while OUT holds
 * frames does not take this path (it is queued, and the pump writes each remote's queue in
 * one write): else a fan-out (a publisher's send to each subscriber in turn) flushed OUT
 * before every send, one socket write per message. One SendOp record (`count` messages)
 * stands for the frames of one write: its failure reports them all as lost (onLost). It is
 * never requeued: its frames carry serials of the connection they were encoded for
 * (protocol.md §2.3).
 */
export class SendTimeEncoder {
  /** The connection whose frames OUT holds, and the record counting them. */
  #conn: Conn | null = null;
  #run: SendOp | null = null;
  constructor(
    readonly core: Core,
    readonly onLost: (op: SendOp, err: Error) => void,
    /** Takes OUT's bytes and writes them to the connection (Sender.write through takeOut). */
    readonly writeOut: (conn: Conn, run: SendOp) => void,
  ) {}

  get pending(): boolean {
    return this.#conn !== null;
  }

  /** Encodes one message for the connection into OUT; false if it cannot go now (the
   * connection takes no writes, was retired, or the core said no): the caller queues it. */
  encode(conn: Conn, r: Remote, ids: Uint8Array, idAt: number, header: Uint8Array, data: Uint8Array, t: number): boolean {
    if (this.#conn !== null && this.#conn !== conn) return false;
    const core = this.core;
    const mem = core.mem;
    for (let k = 0, d = core.idPtr; k < 16; k++) mem[d + k] = ids[idAt + k];
    const hl = header.length;
    const dl = data.length;
    let at = core.x.send(conn.idx, hl, dl, 1, t);
    if (at === -ST.SPACE && this.#conn !== null) {
      this.flush(); // OUT is full: write it, then encode into the empty area
      if (conn.needDrain || conn.closed) return false;
      at = core.x.send(conn.idx, hl, dl, 1, t);
    }
    if (at < 0) return false; // RETIRED: the queue's pump dials a new connection (§4.6)
    const p = core.outPtr + at;
    if (hl) copySmall(mem, header, p);
    if (dl) copySmall(mem, data, p + hl);
    let run = this.#run;
    if (run === null || this.#conn !== conn) {
      run = new SendOp(r, EMPTY, 0, EMPTY, EMPTY, ignore, ignore);
      run.accepted = true;
      run.retried = true;
      run.count = 0;
      r.onLost = this.onLost;
      this.#run = run;
      this.#conn = conn;
    }
    run.count++;
    run.copyDl += hl + dl;
    return true;
  }

  /** Writes the frames OUT holds (a no-op when it holds none of ours). */
  flush(): void {
    const conn = this.#conn;
    if (conn === null) return;
    const run = this.#run!;
    this.#conn = null;
    this.#run = null;
    this.writeOut(conn, run);
  }

  /** The connection closed: the core dropped its OUT bytes (connClose), so its frames there
   * are lost; they are reported. */
  closed(conn: Conn, err: Error): void {
    if (this.#conn !== conn) return;
    const run = this.#run!;
    this.#conn = null;
    this.#run = null;
    settle(run, err);
  }
}
