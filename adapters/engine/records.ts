// The engine's records: one per send (SendOp), per connection (Conn) and per remote (Remote),
// holding what JavaScript must own (promises, sockets, queues, payload bytes). Protocol state
// (handshake done, paused, dialling, ACK waiting, slots, timers) is the core's only: the
// engine asks its getters (assembly/ABI.md), it keeps no copy.
import type { Socket } from "../transport.ts";
import type { ChirpError } from "../errors.ts";
import { Tally } from "../monitor/stats.ts";

export const EMPTY = new Uint8Array(0);

/** The options of `Chirp.send`: an upper-layer header, the message identity, cancellation. */
export interface SendOptions {
  /** Upper-layer header bytes (at most 65535). */
  header?: Uint8Array | string;
  /** The message identity (16 bytes); default random. A reply reuses the request's. */
  identity?: Uint8Array;
  /** Cancels the send: rejects at once with ABORTED (the signal's reason as `cause`). A send
   * still queued is not written; one already written is not recalled (in synchronous mode
   * its late ACK is ignored, and the next send to that remote still waits for it, §4.1). */
  signal?: AbortSignal;
}

/** One send, from send() until its promise settles. */
export class SendOp {
  written = false;
  acked = false;
  /** Requeued once after its connection's socket closed before taking the frame. */
  retried = false;
  done = false;
  /** Asynchronous mode: its promise resolved when the node accepted it into the remote's
   * bounded queue (send-queue.ts ACCEPT_BYTES); a later failure goes to the remote's onLost. */
  accepted = false;
  /** An accepted send's bytes, copied: header then data at `copyAt` in `copy` (a shared
   * slab); `header` and `data` are then empty. */
  copy: Uint8Array = EMPTY;
  copyAt = 0;
  copyHl = 0;
  copyDl = 0;
  /** Synchronous mode: when the frame went into a write (for the ACK round trip). */
  at = 0;
  /** The messages this record stands for: 1, or for a run of accepted sends encoded at send
   * time (send-queue.ts #encodeNow) their number; a run's `copyDl` is their bytes. */
  count = 1;
  constructor(
    readonly remote: Remote,
    /** The identity's bytes are `ids[idAt .. idAt + 16]` (the pool, or the caller's array). */
    readonly ids: Uint8Array,
    readonly idAt: number,
    readonly header: Uint8Array,
    readonly data: Uint8Array,
    readonly resolve: (id: Uint8Array) => void,
    readonly reject: (e: Error) => void,
  ) {}
  /** Header bytes, data bytes (of the copy, if accepted). */
  get hl(): number {
    return this.accepted ? this.copyHl : this.header.length;
  }
  get dl(): number {
    return this.accepted ? this.copyDl : this.data.length;
  }
  get identity(): Uint8Array {
    return identityOf(this.ids, this.idAt);
  }
}

const ignore = (): void => {};
/** What a remote's queue holds below its head (qHead) once a send has left the queue: the
 * queue is compacted only now and then, and the send itself would keep its payload. */
export const SPENT: SendOp = new SendOp(null as unknown as Remote, EMPTY, 0, EMPTY, EMPTY, ignore, ignore);
SPENT.done = true;

/** Takes the unacknowledged send with this identity (16 bytes of `mem` at `at`: an EV_ACK's,
 * which the core matched to one of its entries) out of the remote's list. */
export function takeAcked(r: Remote, mem: Uint8Array, at: number): SendOp | undefined {
  const list = r.unacked;
  for (let i = 0; i < list.length; i++) {
    const op = list[i];
    let k = 0;
    while (k < 16 && op.ids[op.idAt + k] === mem[at + k]) k++;
    if (k === 16) return list.splice(i, 1)[0];
  }
  return undefined;
}

/** Fails every unacknowledged send of the remote with `err`. */
export function failUnacked(r: Remote, err: Error): void {
  const list = r.unacked;
  r.unacked = [];
  for (const op of list) settle(op, err);
}

/** A send's identity: the caller's 16-byte array, or its 16 bytes of the identity pool. */
export function identityOf(ids: Uint8Array, idAt: number): Uint8Array {
  return idAt === 0 && ids.length === 16 ? ids : ids.subarray(idAt, idAt + 16);
}

/** Settles a send once: resolves with its identity, or rejects (counted by code). A send
 * accepted earlier has resolved already: its failure is counted and reported (onLost). */
export function settle(op: SendOp, err?: Error): void {
  if (op.done) return;
  op.done = true;
  if (err) {
    op.remote.tally.sendError((err as ChirpError).code ?? "FATAL", op.count);
    if (op.accepted) op.remote.onLost?.(op, err);
    else op.reject(err);
  } else if (!op.accepted) op.resolve(op.identity);
}

/** A message whose bytes span reads (EV_BEGIN .. EV_END), assembled here (messages.ts). */
interface PartialMessage {
  slot: number;
  identity: Uint8Array;
  serial: number;
  type: number;
  headerLen: number;
  /** header_len + data_len as announced. */
  total: number;
  /** header‖data received so far, at their offsets; grows as bytes arrive (at most `total`). */
  buf: Uint8Array;
  /** Bytes received so far. */
  got: number;
}

export class Conn {
  sock: Socket | null = null;
  remote: Remote | null = null;
  /** The socket is closed (or closing): nothing more is written or read. */
  closed = false;
  /** The socket closed or failed by itself (the peer, the network), not by our decision. */
  socketGone = false;
  needDrain = false;
  /** Input held back while the core pauses the connection for a slot (protocol.md §3.2);
   * null while input goes straight to the core. */
  pending: Uint8Array | null = null;
  partial: PartialMessage | null = null;
  /** Bytes to write once the dial completes (our handshake). */
  pre: Uint8Array[] = [];
  /** Write batches not yet completed, in order; each holds the sends it carries. */
  batches: SendOp[][] = [];
  writesPending = 0;
  peerPort = 0;
  remoteIdentity: Uint8Array = EMPTY;
  cancelDial: (() => void) | null = null;
  /** Releases so far (lets the reader see that a handler freed slots). */
  released = 0;
  /** A plaintext connection whose first bytes are still to come: check them for TLS. */
  sniff = false;
  /** The peer speaks TLS: input is ignored until the connection closes. */
  mismatch = false;
  /** Received messages not yet released. */
  held = 0;
  /** An ACK flush is scheduled (send-queue.ts flushControlSoon). */
  ackSoon = false;
  constructor(
    readonly idx: number,
    readonly gen: number,
    readonly outgoing: boolean,
    readonly address: string,
  ) {}
}

export class Remote {
  queue: SendOp[] = [];
  qHead = 0;
  /** Synchronous mode: the written sends whose ACKs the core waits for, oldest first (one, or
   * up to `window`, protocol.md §4.7); each promise settles on its EV_ACK. */
  unacked: SendOp[] = [];
  /** Asynchronous mode: bytes (frames) of accepted sends not yet handed to a socket. */
  acceptedBytes = 0;
  /** Reports an accepted send that failed after its promise resolved (send-queue.ts). */
  onLost: ((op: SendOp, err: Error) => void) | null = null;
  conns = new Set<Conn>();
  freed = false;
  /** The core was told that sends are queued here (remoteKeep 1): it is not evicted. */
  kept = false;
  /** The peer node's identity from its last handshake (hex). */
  peerIdentity: string | null = null;
  /** The host name a send last reached it by (engine/names.ts), for stats; null: none. */
  name: string | null = null;
  readonly tally: Tally;
  constructor(
    readonly idx: number,
    readonly key: string,
    readonly address: string,
    readonly port: number,
    total: Tally,
  ) {
    this.tally = new Tally(total);
  }
  get queued(): number {
    return this.queue.length - this.qHead;
  }
}
