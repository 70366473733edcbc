// Push/pull (pipeline): a pusher spreads work items over a set of workers by free capacity
// and reports each item's result; workers ("pullers") are plain nodes.
//
//   pusher(node, { workers, slots, maxFailures, results, timeout }) -> Pusher
//     .push(data, { header }) -> Promise<PushResult>
//   puller(handler)                                                   -> MessageHandler
//
// Capacity: each worker has `slots` (default: the pusher node's config.maxSlots, 1 in
// synchronous mode and 16 in asynchronous mode); an item is in flight from its send until
// its result (or, without results, until its send settles). A new item goes to the live
// worker with the most free slots (ties: round robin); when every worker is full, items wait
// in FIFO order.
//
// Failure: when an attempt fails (the send rejects: CANNOT_CONNECT, TIMEOUT, ...; or no result
// within `timeout`), the worker's failure counts go up and the item is retried at once on
// another worker if one has room (else on the next free one). A worker is dropped after
// `maxFailures` consecutive failures. Delivery is at least once: a worker that timed out may
// still have done the item. When every worker is dropped, waiting items reject with
// CANNOT_CONNECT. A worker's handler error (FAILED) is not a worker failure: that item
// rejects with RemoteError and is not retried.
//
// Joining (patterns/pipeline/worker.ts): a worker announces itself with JOIN 0x50/5 (body: its
// slots) and the pusher adds it, or takes it back if it was dropped, and answers ACK 0x50/7;
// LEAVE 0x50/6 removes it. Workers join again when the pusher restarts. While no worker is
// live, items wait up to `waitForWorkers` seconds for one to join (default 0 when `workers`
// are listed: they reject at once; else twice the timeout).
//
// Header: WORK 0x50/1 (the worker answers RESULT 0x50/2 or FAILED 0x50/3 with the item's
// identity), WORK_ONEWAY 0x50/4 (no answer; the worker releases the item only when its
// handler finished, so in synchronous mode the send itself reports completion).
import { ChirpError, type Chirp, type Message, type Target } from "../../adapters/mod.ts";
import { OP, PATTERN, RemoteError, decodeHeader, targetKey, text, type PatternHeader } from "../header.ts";
import { routerOf, type MessageHandler } from "../router.ts";
import { joinHandler } from "./joins.ts";
import { Call, respond, run, type ReplyValue } from "../call.ts";

/** A worker with its own capacity (a plain Target takes the pusher's `slots`). */
export interface WorkerSpec {
  /** The worker node's address; it runs `puller(...)`. */
  target: Target;
  /** Items in flight at once on this worker (default: the pusher's `slots`). */
  slots?: number;
}

/** How a pusher spreads items: its workers, their capacity, when to retry and drop. */
export interface PusherOptions {
  /** The workers to start with (default none: add them with `add`). */
  workers?: (Target | WorkerSpec)[];
  /** Default slots per worker; default the node's config.maxSlots. */
  slots?: number;
  /** Consecutive failed attempts after which a worker is dropped (default 3). */
  maxFailures?: number;
  /** Wait for each worker's RESULT reply (default true). With false an item is done when
   * its send settles (synchronous mode: when the worker's handler finished). */
  results?: boolean;
  /** Seconds an attempt may take, send and result together (default config.timeout). */
  timeout?: number;
  /** Attempts per item before it rejects with the last error (default: unlimited; the
   * dropping of failing workers bounds them). */
  maxAttempts?: number;
  /** Called with each finished item. */
  onResult?: (r: PushResult) => void;
  /** Called when a worker is dropped, with the error of its last attempt. */
  onDrop?: (worker: WorkerStats, err: unknown) => void;
  /** Take workers that announce themselves (JOIN, patterns/pipeline/worker.ts) and let them
   * LEAVE. Default: as `results` (a pusher without results reads no messages unless this is
   * true, so a node that reads its own messages keeps them). */
  acceptJoins?: boolean;
  /** Seconds queued items wait for a worker while none is live, before they reject with
   * CANNOT_CONNECT (default: 0 when `workers` are listed, else 2 × timeout). */
  waitForWorkers?: number;
  /** Called when a worker joined (true: JOIN) or left (false: LEAVE). */
  onJoin?: (worker: string, joined: boolean) => void;
}

/** A finished item, as `push()` resolves it and `onResult` gets it. */
export interface PushResult {
  /** The worker that did the item ("address:port" as given). */
  worker: string;
  /** Attempts it took (1 = first try). */
  attempts: number;
  /** The worker's RESULT reply (released) when results are on. */
  reply?: Message;
  /** The result data (empty without results). */
  data: Uint8Array;
}

/** One worker's counters (`Pusher.workers`, `onDrop`). */
export interface WorkerStats {
  /** The worker's key: its target as given ("host:port"; "[v6]:port" for a Target object). */
  target: string;
  /** Items it may have in flight at once. */
  slots: number;
  /** Items sent to it and not yet finished (result received or send settled). */
  inFlight: number;
  /** Items it finished successfully. */
  done: number;
  /** Failed attempts on it in all (send errors and result timeouts, not handler errors). */
  failures: number;
  /** Failed attempts since its last success; it is dropped at `maxFailures`. */
  consecutiveFailures: number;
  /** Whether it was dropped (by failures or `remove`): it gets no more items. */
  dropped: boolean;
}

interface Worker extends WorkerStats {
  to: Target;
  /** What each attempt's Call gets from its worker, made once per worker (not per item). */
  take: (msg: Message, h: PatternHeader | null, c: Call<Message | undefined>) => boolean;
  timeoutMessage: () => string;
  /** Bumped when the worker is added again (a JOIN after a restart): failures of attempts
   * made before do not count towards dropping it. */
  epoch: number;
}

interface Item {
  data: Uint8Array | string | undefined;
  header: Uint8Array | string | undefined;
  attempts: number;
  /** The workers it failed on (null until it fails once). */
  tried: Set<Worker> | null;
  lastError: unknown;
  /** When it was queued (performance.now()), for waitForWorkers. */
  since: number;
  /** Its signal aborted: rejected already; not retried, and a late result is ignored. */
  aborted: boolean;
  resolve(r: PushResult): void;
  reject(e: unknown): void;
}

const EMPTY = new Uint8Array(0);
/** Queued items looked at per placement (see #pump). */
const LOOKAHEAD = 16;

/** Spreads work items over workers by free capacity, retries failed attempts on other
 * workers and drops workers that keep failing (see the file comment; made by `pusher()`). */
export class Pusher {
  readonly #node: Chirp;
  readonly #workers: Worker[] = [];
  readonly #queue: Item[] = [];
  readonly #slots: number;
  readonly #maxFailures: number;
  readonly #results: boolean;
  readonly #timeoutMs: number;
  readonly #maxAttempts: number;
  readonly #onResult?: (r: PushResult) => void;
  readonly #onDrop?: (w: WorkerStats, err: unknown) => void;
  #rr = 0;
  #inFlight = 0;
  #closed = false;
  #idle: (() => void)[] = [];
  readonly #waitMs: number;
  #waitTimer: ReturnType<typeof setTimeout> | null = null;
  /** Since when no worker is live (performance.now()), or null while one is. */
  #noWorkersSince: number | null = null;
  readonly #offJoins: (() => void) | null = null;
  readonly #onJoin?: (worker: string, joined: boolean) => void;

  /** Throws VALUE_ERROR for slots, maxFailures or maxAttempts below 1 or a timeout <= 0. */
  constructor(node: Chirp, options: PusherOptions = {}) {
    this.#node = node;
    this.#slots = options.slots ?? node.config.maxSlots;
    this.#maxFailures = options.maxFailures ?? 3;
    this.#results = options.results ?? true;
    this.#timeoutMs = (options.timeout ?? node.config.timeout) * 1000;
    this.#maxAttempts = options.maxAttempts ?? Infinity;
    this.#onResult = options.onResult;
    this.#onDrop = options.onDrop;
    if (!(this.#slots >= 1) || !(this.#maxFailures >= 1) || !(this.#timeoutMs > 0) || !(this.#maxAttempts >= 1)) {
      throw new ChirpError("VALUE_ERROR", "pusher: slots, maxFailures and maxAttempts must be >= 1 and timeout > 0");
    }
    this.#waitMs = (options.waitForWorkers ?? (options.workers?.length ? 0 : 2 * this.#timeoutMs / 1000)) * 1000;
    if (!(this.#waitMs >= 0)) throw new ChirpError("VALUE_ERROR", "pusher: waitForWorkers must be >= 0");
    this.#onJoin = options.onJoin;
    if (this.#results) routerOf(node);
    if (options.acceptJoins ?? this.#results) {
      this.#offJoins = routerOf(node).use(joinHandler(node, {
        add: (target, slots) => !this.#closed && (this.add(slots === undefined ? { target } : { target, slots }), true),
        remove: (target) => this.remove(target),
        onJoin: this.#onJoin,
      }));
    }
    for (const w of options.workers ?? []) this.add(w);
  }



  /** Adds a worker (again, if it was dropped). */
  add(worker: Target | WorkerSpec): void {
    const spec: WorkerSpec = typeof worker === "object" && "target" in worker ? worker : { target: worker };
    const key = typeof spec.target === "string" ? spec.target : targetKey(spec.target.address, spec.target.port);
    const slots = spec.slots ?? this.#slots;
    if (!(slots >= 1)) throw new ChirpError("VALUE_ERROR", `pusher: worker ${key} slots = ${slots}; at least 1`);
    const old = this.#workers.find((w) => w.target === key);
    if (old && !old.dropped) {
      old.slots = slots;
      old.epoch++;
      old.consecutiveFailures = 0;
    } else {
      if (old) this.#workers.splice(this.#workers.indexOf(old), 1);
      // A result or a FAILED answer ends the attempt (the handler threw: RemoteError).
      const take = (msg: Message, h: PatternHeader | null, c: Call<Message | undefined>): boolean => {
        msg.release();
        if (h?.pattern === PATTERN.PIPELINE && h.op === OP.PIPELINE.FAILED) c.reject(new RemoteError(text(msg.data), key), true);
        else c.resolve(msg, true);
        return true;
      };
      const timeoutMessage = (): string => `pusher: no result from ${key} within ${this.#timeoutMs / 1000} s`;
      this.#workers.push({ to: spec.target, target: key, slots, inFlight: 0, done: 0, failures: 0, consecutiveFailures: 0, dropped: false, epoch: 0, take, timeoutMessage });
    }
    this.#pump();
  }

  /** Removes a worker; its items in flight finish (or fail and move on). */
  remove(target: Target): void {
    const key = typeof target === "string" ? target : targetKey(target.address, target.port);
    const w = this.#workers.find((x) => x.target === key);
    if (!w) return;
    w.dropped = true;
    this.#workers.splice(this.#workers.indexOf(w), 1);
    this.#pump();
  }

  /** Counters per worker (dropped workers are no longer listed). */
  get workers(): WorkerStats[] {
    return this.#workers.map(({ to: _to, epoch: _e, take: _t, timeoutMessage: _m, ...s }) => ({ ...s }));
  }

  /** Items waiting for a free worker. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Items being worked on. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Queues one item; resolves with its result once a worker did it. `signal`: aborting
   * rejects with the signal's reason at once; an item still queued is withdrawn, one a worker
   * has is not recalled (its result is ignored, it is not retried). */
  push(data?: Uint8Array | string, options: { header?: Uint8Array | string; signal?: AbortSignal } = {}): Promise<PushResult> {
    if (this.#closed) return Promise.reject(new ChirpError("SHUTDOWN", "pusher: closed"));
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<PushResult>((resolve, reject) => {
      const item: Item = { data, header: options.header, attempts: 0, tried: null, lastError: undefined, since: performance.now(), aborted: false, resolve, reject };
      if (signal) {
        const onAbort = (): void => {
          item.aborted = true;
          const at = this.#queue.indexOf(item);
          if (at >= 0) this.#queue.splice(at, 1);
          reject(signal.reason);
          this.#checkIdle();
        };
        signal.addEventListener("abort", onAbort, { once: true });
        const off = (): void => signal.removeEventListener("abort", onAbort);
        item.resolve = (r) => { off(); resolve(r); };
        item.reject = (e) => { off(); reject(e); };
      }
      this.#queue.push(item);
      this.#pump();
    });
  }

  /** Resolves when no item is queued or in flight. */
  idle(): Promise<void> {
    if (this.#queue.length === 0 && this.#inFlight === 0) return Promise.resolve();
    return new Promise((r) => this.#idle.push(r));
  }

  /** Rejects queued items with SHUTDOWN and refuses new ones; items in flight finish. */
  close(): void {
    this.#closed = true;
    this.#offJoins?.();
    if (this.#waitTimer !== null) clearTimeout(this.#waitTimer);
    this.#waitTimer = null;
    const err = new ChirpError("SHUTDOWN", "pusher: closed");
    for (const it of this.#queue.splice(0)) it.reject(err);
    this.#checkIdle();
  }

  #pump(): void {
    if (this.#workers.length > 0) this.#noWorkersSince = null;
    if (this.#waitTimer !== null && (this.#workers.length > 0 || this.#queue.length === 0)) {
      clearTimeout(this.#waitTimer); // a worker came (or nothing waits): the wait is over
      this.#waitTimer = null;
    }
    while (this.#queue.length > 0) {
      const live = this.#workers; // dropped workers are removed from the list at once
      if (live.length === 0) {
        if (this.#waitMs > 0) {
          this.#waitForWorkers();
          break;
        }
        const items = this.#queue.splice(0);
        for (const it of items) {
          it.reject(it.lastError !== undefined
            ? new ChirpError("CANNOT_CONNECT", `pusher: every worker failed; last error: ${(it.lastError as Error)?.message ?? it.lastError}`, { cause: it.lastError })
            : new ChirpError("CANNOT_CONNECT", "pusher: no live workers"));
        }
        break;
      }
      if (!live.some((w) => w.inFlight < w.slots)) break;
      // FIFO, except that an item being retried waits for a worker it has not failed on
      // while the first fresh item behind it (within a short look-ahead) may take a free one.
      let at = 0;
      let w = this.#pick(live, this.#queue[0]);
      if (!w) {
        const n = Math.min(this.#queue.length, LOOKAHEAD);
        for (let i = 1; i < n; i++) {
          if (this.#queue[i].tried !== null) continue;
          w = this.#pick(live, this.#queue[i]);
          at = i;
          break;
        }
        if (!w) break;
      }
      const item = at === 0 ? this.#queue.shift()! : this.#queue.splice(at, 1)[0];
      this.#attempt(item, w);
    }
    this.#checkIdle();
  }

  /** No live worker: items queued longer than waitForWorkers reject, the rest wait (one
   * timer for the oldest; a worker that joins ends the wait through #pump). */
  #waitForWorkers(): void {
    if (this.#waitTimer !== null) return;
    const now = performance.now();
    const from = (this.#noWorkersSince ??= now);
    const waited = (it: Item): number => now - Math.max(it.since, from);
    const late = this.#queue.filter((it) => waited(it) >= this.#waitMs);
    if (late.length) {
      this.#queue.splice(0, this.#queue.length, ...this.#queue.filter((it) => waited(it) < this.#waitMs));
      for (const it of late) {
        it.reject(new ChirpError("CANNOT_CONNECT", `pusher: no live worker within ${this.#waitMs / 1000} s` +
          (it.lastError !== undefined ? `; last error: ${(it.lastError as Error)?.message ?? it.lastError}` : ""), { cause: it.lastError }));
      }
    }
    if (this.#queue.length === 0) return;
    let oldest = Infinity;
    for (const it of this.#queue) oldest = Math.min(oldest, Math.max(it.since, from));
    this.#waitTimer = setTimeout(() => {
      this.#waitTimer = null;
      this.#pump();
    }, Math.max(1, oldest + this.#waitMs - performance.now()));
  }

  /** The live worker with the most free slots among those this item has not failed on (all
   * live workers once it failed on each); ties by round robin. */
  #pick(live: Worker[], item: Item): Worker | undefined {
    const tried = item.tried;
    const pool = tried !== null && live.some((w) => !tried.has(w)) ? live.filter((w) => !tried.has(w)) : live;
    let best: Worker | undefined;
    let bestFree = 0;
    const n = pool.length;
    for (let k = 0; k < n; k++) {
      const w = pool[(this.#rr + k) % n];
      const free = w.slots - w.inFlight;
      if (free > bestFree) {
        best = w;
        bestFree = free;
      }
    }
    if (best) this.#rr = (this.#rr + 1) % Math.max(1, live.length);
    return best;
  }

  #attempt(item: Item, w: Worker): void {
    item.attempts++;
    const epoch = w.epoch;
    w.inFlight++;
    this.#inFlight++;
    // How the attempt ended: a result (answered), a FAILED answer (the handler threw, not the
    // worker's fault), the send resolved without results, or a failure (send, deadline).
    const settle = (err: unknown, reply: Message | undefined, answered: boolean): void => {
      w.inFlight--;
      this.#inFlight--;
      if (err === undefined || answered) {
        w.done++;
        w.consecutiveFailures = 0;
        if (err !== undefined) {
          item.reject(err);
        } else {
          const r: PushResult = { worker: w.target, attempts: item.attempts, reply, data: reply?.data ?? EMPTY };
          item.resolve(r);
          if (!item.aborted) this.#onResult?.(r);
        }
        this.#pump();
        return;
      }
      w.failures++;
      if (epoch === w.epoch) w.consecutiveFailures++;
      (item.tried ??= new Set()).add(w);
      item.lastError = err;
      if (w.consecutiveFailures >= this.#maxFailures && !w.dropped) {
        w.dropped = true;
        this.#workers.splice(this.#workers.indexOf(w), 1);
        const { to: _to, epoch: _e, take: _t, timeoutMessage: _m, ...stats } = w;
        this.#onDrop?.({ ...stats }, err);
      }
      if (item.attempts >= this.#maxAttempts) item.reject(err);
      else if (!item.aborted) this.#queue.unshift(item);
      this.#pump();
    };
    const results = this.#results;
    const c = new Call<Message | undefined>(this.#node, {
      pattern: PATTERN.PIPELINE,
      op: results ? OP.PIPELINE.WORK : OP.PIPELINE.WORK_ONEWAY,
      header: item.header,
      take: results ? w.take : undefined,
      timeout: this.#timeoutMs / 1000, // one timer for all attempts (patterns/deadlines.ts)
      timeoutMessage: w.timeoutMessage,
      settle,
    });
    c.send(w.to, item.data, results ? undefined : () => c.resolve(undefined));
  }

  #checkIdle(): void {
    if (this.#queue.length === 0 && this.#inFlight === 0) for (const r of this.#idle.splice(0)) r();
  }
}

/** A pusher on `node` (see the file comment). */
export function pusher(node: Chirp, options: PusherOptions = {}): Pusher {
  return new Pusher(node, options);
}

/** What `puller()` takes besides pipeline work, and where its errors go. */
export interface PullerOptions {
  /** Also take messages without a pattern header (plain libchirp senders), as one-way
   * work, default true. */
  plain?: boolean;
  /** A result that could not be sent back, or a one-way item's handler error. */
  onError?: (err: unknown, item: Message) => void;
}

/**
 * A worker's handler. For WORK it releases the item first (protocol.md §10.2), runs
 * `handler(item, applicationHeader)` and sends its (possibly async) return value back as the
 * RESULT (FAILED with the error text when it throws). For WORK_ONEWAY and plain messages it
 * runs the handler and releases the item when the handler finished, so a synchronous
 * pusher's send completes only then (backpressure by slots).
 */
export function puller(
  handler: (item: Message, header: Uint8Array) => ReplyValue | Promise<ReplyValue>,
  options: PullerOptions = {},
): MessageHandler {
  const plain = options.plain ?? true;
  const onError = options.onError ?? (() => {});
  return (msg) => {
    const h = decodeHeader(msg.header);
    let oneway: boolean;
    let appHeader: Uint8Array;
    if (h) {
      if (h.pattern !== PATTERN.PIPELINE || (h.op !== OP.PIPELINE.WORK && h.op !== OP.PIPELINE.WORK_ONEWAY)) return false;
      oneway = h.op === OP.PIPELINE.WORK_ONEWAY;
      appHeader = h.body;
    } else {
      if (!plain) return false;
      oneway = true;
      appHeader = msg.header;
    }
    if (oneway) {
      run(() => handler(msg, appHeader)).catch((e) => onError(e, msg)).finally(() => msg.release());
      return true;
    }
    msg.release();
    respond(msg, PATTERN.PIPELINE, OP.PIPELINE.RESULT, OP.PIPELINE.FAILED, handler, appHeader, onError);
    return true;
  };
}
