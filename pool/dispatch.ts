// The pool's scheduler: which worker runs which task. Workers come from joins (pool/pool.ts
// takes JOIN/LEAVE); tasks wait in FIFO order and go to the worker with the most free slots
// (ties: round robin). A task is sent as push/pull WORK (patterns/header.ts, pipeline 0x50/1)
// with its own identity; the worker's RESULT carries that identity back (protocol.md §2.5).
//
// Failure: a worker is lost when its connection closes (the pool's and its workers' nodes keep
// idle connections for an hour, so a close means it died or the network failed), when a send
// to it fails, or when its thread crashed. Its unfinished tasks go back to the front of the
// queue (at least once: a lost worker may have done a task) unless a task says `retry: false`
// or has had `maxAttempts` attempts; those reject with CANNOT_CONNECT. A task's own error is a
// result, never retried. An aborted or timed-out task rejects at once; if it was queued it is
// withdrawn, if it runs its slot stays taken until its late result comes (and is ignored).
import { ChirpError, type Chirp, type Message } from "../adapters/mod.ts";
import { OP, PATTERN, decodeHeader, encodeHeader, newIdentity, routerOf, text } from "../patterns/mod.ts";
import { KIND, decodeError, decodeValue } from "./codec.ts";

/** One task's options. */
export interface RunOptions {
  /** Aborting rejects the task with `signal.reason` (withdrawn if not started). */
  signal?: AbortSignal;
  /** Seconds from run() to the result (queue time included); then it rejects with TIMEOUT. */
  timeout?: number;
  /** false: a task whose worker was lost rejects instead of running again elsewhere. */
  retry?: boolean;
}

/** Counters of one worker, as pool.stats() shows them. */
export interface WorkerInfo {
  /** "address:port" of its node. */
  worker: string;
  /** One of this pool's own threads (else a worker that joined from elsewhere). */
  local: boolean;
  /** Tasks it runs at once (as it said when it joined). */
  slots: number;
  /** Tasks it runs now. */
  inFlight: number;
  /** Tasks that returned a value. */
  done: number;
  /** Tasks that threw. */
  failed: number;
  /** Mean time from send to result of its finished tasks, ms. */
  meanMs: number;
  /** It left (LEAVE) and finishes what it has. */
  leaving: boolean;
}

interface Worker extends Omit<WorkerInfo, "inFlight" | "meanMs"> {
  running: Set<Task>;
  totalMs: number;
}

interface Task {
  name: string;
  header: Uint8Array;
  data: Uint8Array;
  retry: boolean;
  attempts: number;
  settled: boolean;
  worker?: Worker;
  started: number;
  stop?: (answered?: boolean) => void;
  cleanup: () => void;
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

/** The scheduler (see the file comment). */
export class Dispatcher {
  readonly #node: Chirp;
  readonly #workers = new Map<string, Worker>();
  readonly #queue: Task[] = [];
  readonly #maxAttempts: number;
  readonly #maxQueue: number;
  #rr = 0;
  #running = 0;
  #idle: (() => void)[] = [];
  /** Tasks done, failed (threw), retried (ran again after a lost worker), lost (rejected
   * because their worker was lost). */
  readonly totals = { done: 0, failed: 0, retried: 0, lost: 0 };
  /** Whether `key` is one of the pool's own threads. */
  isLocal: (key: string) => boolean = () => false;

  constructor(node: Chirp, maxAttempts: number, maxQueue: number) {
    this.#node = node;
    this.#maxAttempts = maxAttempts;
    this.#maxQueue = maxQueue;
    routerOf(node);
  }

  /** Adds a worker, or takes one back (slots updated). Returns whether it is new. */
  add(key: string, slots: number): boolean {
    const w = this.#workers.get(key);
    if (w) {
      w.slots = slots;
      w.leaving = false;
    } else {
      this.#workers.set(key, { worker: key, local: this.isLocal(key), slots, running: new Set(), done: 0, failed: 0, totalMs: 0, leaving: false });
    }
    this.#pump();
    return !w;
  }

  /** A worker left: it gets no more tasks and is forgotten once its tasks finished. */
  leave(key: string): boolean {
    const w = this.#workers.get(key);
    if (!w) return false;
    w.leaving = true;
    if (w.running.size === 0) this.#workers.delete(key);
    return true;
  }

  /** A worker was lost (see the file comment); returns false when it was not known. */
  lose(key: string, why: string): boolean {
    const w = this.#workers.get(key);
    if (!w) return false;
    this.#workers.delete(key);
    const back: Task[] = [];
    for (const t of w.running) {
      this.#running--;
      t.stop?.(false);
      t.worker = undefined;
      if (t.settled) continue;
      if (t.retry && t.attempts < this.#maxAttempts) {
        this.totals.retried++;
        back.push(t);
      } else {
        this.totals.lost++;
        this.#settle(t, new ChirpError("CANNOT_CONNECT", `pool: worker ${key} was lost (${why}) while running task "${t.name}" (attempt ${t.attempts}${t.retry ? ", the last one allowed" : ", retry: false"})`));
      }
    }
    w.running.clear();
    this.#queue.unshift(...back);
    this.#pump();
    return true;
  }

  /** The workers' counters. */
  workers(): WorkerInfo[] {
    return [...this.#workers.values()].map(({ running, totalMs, ...w }) => ({ ...w, inFlight: running.size, meanMs: w.done + w.failed ? totalMs / (w.done + w.failed) : 0 }));
  }

  get queued(): number {
    return this.#queue.length;
  }

  get inFlight(): number {
    return this.#running;
  }

  /** Queues a task (header: its encoded task header, pool/codec.ts). */
  run(name: string, header: Uint8Array, data: Uint8Array, o: RunOptions): Promise<unknown> {
    if (this.#queue.length >= this.#maxQueue) {
      return Promise.reject(new ChirpError("ENOMEM", `pool: ${this.#queue.length} tasks queued, the most maxQueue allows; wait for results before adding more`));
    }
    return new Promise((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const onAbort = (): void => this.#cancel(t, o.signal!.reason);
      const t: Task = {
        name, header: encodeHeader(PATTERN.PIPELINE, OP.PIPELINE.WORK, header), data, retry: o.retry ?? true, attempts: 0, settled: false, started: 0,
        cleanup: () => {
          if (timer !== undefined) clearTimeout(timer);
          o.signal?.removeEventListener("abort", onAbort);
        },
        resolve, reject,
      };
      if (o.signal?.aborted) return reject(o.signal.reason);
      o.signal?.addEventListener("abort", onAbort, { once: true });
      if (o.timeout !== undefined) {
        timer = setTimeout(() => this.#cancel(t, new ChirpError("TIMEOUT", `pool: task "${name}" had no result within ${o.timeout} s`)), o.timeout * 1000);
      }
      this.#queue.push(t);
      this.#pump();
    });
  }

  /** Resolves when no task is queued or running (aborted and timed-out ones that still run
   * on a worker do not count). */
  idle(): Promise<void> {
    return new Promise((r) => {
      this.#idle.push(r);
      this.#checkIdle();
    });
  }

  /** Rejects every queued task with `err` (close without draining). */
  rejectQueued(err: unknown): void {
    for (const t of this.#queue.splice(0)) this.#settle(t, err);
    this.#checkIdle();
  }

  #cancel(t: Task, reason: unknown): void {
    if (t.settled) return;
    const i = this.#queue.indexOf(t);
    if (i >= 0) this.#queue.splice(i, 1); // not started: withdrawn
    this.#settle(t, reason);
    this.#checkIdle();
  }

  #settle(t: Task, err: unknown, value?: unknown): void {
    if (t.settled) return;
    t.settled = true;
    t.cleanup();
    if (err !== undefined) t.reject(err);
    else t.resolve(value);
  }

  #pump(): void {
    while (this.#queue.length > 0) {
      const w = this.#pick();
      if (!w) break;
      this.#attempt(this.#queue.shift()!, w);
    }
    this.#checkIdle();
  }

  #pick(): Worker | undefined {
    const all = [...this.#workers.values()];
    let best: Worker | undefined;
    let bestFree = 0;
    for (let k = 0; k < all.length; k++) {
      const w = all[(this.#rr + k) % all.length];
      const free = w.leaving ? 0 : w.slots - w.running.size;
      if (free > bestFree) {
        best = w;
        bestFree = free;
      }
    }
    if (best) this.#rr = (this.#rr + 1) % all.length;
    return best;
  }

  #attempt(t: Task, w: Worker): void {
    t.attempts++;
    t.worker = w;
    t.started = performance.now();
    w.running.add(t);
    this.#running++;
    const identity = newIdentity();
    t.stop = routerOf(this.#node).expect(identity, (msg) => this.#answer(t, w, msg));
    this.#node.send(w.worker, t.data, { header: t.header, identity }).catch((e) => {
      if (t.worker === w) this.lose(w.worker, `send failed: ${(e as Error)?.message ?? e}`);
    });
  }

  /** A message with the task's identity: its RESULT (or FAILED, from a worker that is not a
   * pool worker but a plain puller). */
  #answer(t: Task, w: Worker, msg: Message): boolean {
    const h = decodeHeader(msg.header);
    if (h?.pattern !== PATTERN.PIPELINE || (h.op !== OP.PIPELINE.RESULT && h.op !== OP.PIPELINE.FAILED)) return false;
    msg.release();
    t.stop?.(true);
    w.running.delete(t);
    this.#running--;
    t.worker = undefined;
    w.totalMs += performance.now() - t.started;
    let err: unknown;
    let value: unknown;
    if (h.op === OP.PIPELINE.FAILED) err = decodeError(t.name, w.worker, new TextEncoder().encode(JSON.stringify({ message: text(msg.data) })));
    else if (h.body[0] === KIND.ERROR) err = decodeError(t.name, w.worker, msg.data);
    else {
      try {
        value = decodeValue(h.body[0] ?? KIND.BYTES, msg.data);
      } catch (e) {
        err = e;
      }
    }
    if (err === undefined) {
      w.done++;
      this.totals.done++;
    } else {
      w.failed++;
      this.totals.failed++;
    }
    this.#settle(t, err, value);
    if (w.leaving && w.running.size === 0) this.#workers.delete(w.worker);
    this.#pump();
    return true;
  }

  #checkIdle(): void {
    if (this.#idle.length === 0 || this.#queue.length > 0) return;
    // Aborted and timed-out tasks that still run do not hold up idle().
    for (const w of this.#workers.values()) for (const t of w.running) if (!t.settled) return;
    for (const r of this.#idle.splice(0)) r();
  }
}
