// The worker pool: `workerPool({ module, threads })` starts a Chirp node that takes workers
// (push/pull JOIN/LEAVE, patterns/header.ts 0x50/5-7, answered with ACK like a pusher does,
// patterns/pipeline/joins.ts) and `threads` local threads that serve the module's functions
// and join it over loopback (pool/threads.ts); workers on other machines or runtimes join the
// same way (pool/join.ts, `chirpcat worker`). `pool.run(name, input, options)` hands the task
// to the scheduler (pool/dispatch.ts: capacity, retries, abort, timeout) with its input
// encoded (pool/codec.ts). The lifecycle (start, close), events and stats are here.
// The universal entry: a pool works without the caller importing a runtime entry first.
import { Chirp, ChirpError, type ChirpConfig, type Message } from "../adapters/index.ts";
import { OP, PATTERN, decodeHeader, encodeHeader, routerOf, text } from "../patterns/mod.ts";
import { threadHost } from "../adapters/threads.ts";
import { encodeValue, taskHeader } from "./codec.ts";
import { Dispatcher, type RunOptions, type WorkerInfo } from "./dispatch.ts";
import { ThreadGroup } from "./threads.ts";

/** Options of workerPool(). */
export interface PoolOptions {
  /** The module whose exported functions are the tasks (an ES module URL: `new URL("./tasks.ts",
   * import.meta.url)`). Needed when `threads` > 0. */
  module?: URL | string;
  /** Local threads (default: the number of CPUs minus one, at least 1; 0: only workers that join). */
  threads?: number;
  /** Tasks each local thread runs at once (default 1: CPU work; more for tasks that wait on I/O). */
  concurrentTasksPerThread?: number;
  /** Tasks each local thread takes beyond `concurrentTasksPerThread` (default 0), to start
   * as soon as one finishes: short tasks do not wait for a round trip through the pool. It
   * pays with `node: { synchronous: false }` (else the next task waits for the thread's ACK,
   * sent after the running task); a prefetched task counts as started (an abort does not
   * withdraw it) and may wait behind a long one while another worker is free. */
  prefetch?: number;
  /** Attempts per task when workers are lost under it (default 3). */
  maxAttempts?: number;
  /** Tasks that may wait for a worker (default 65536); more reject with ENOMEM. */
  maxQueue?: number;
  /** The pool node's config (default: port 0, i.e. any free port; give a port for workers on other
   * machines to join). Idle connections are kept an hour unless `reuseTime` says otherwise. */
  node?: ChirpConfig;
}

/** Whole-pool counters and one entry per worker (pool.stats()). */
export interface PoolStats {
  /** Tasks waiting for a worker. */
  queued: number;
  /** Tasks running on a worker. */
  inFlight: number;
  /** Tasks that returned a value. */
  done: number;
  /** Tasks that threw. */
  failed: number;
  /** Attempts started again because a worker was lost. */
  retried: number;
  /** Tasks rejected because their worker was lost (retry: false, or out of attempts). */
  lost: number;
  /** Local threads that crashed (each was replaced). */
  threadCrashes: number;
  /** One entry per worker (local threads and joined workers). */
  workers: WorkerInfo[];
}

/** A worker joined, left (LEAVE) or was dropped (lost: died, unreachable, thread crashed). */
export interface PoolEvent {
  /** What happened. */
  type: "join" | "leave" | "drop";
  /** "address:port" of the worker's node. */
  worker: string;
  /** One of this pool's own threads. */
  local: boolean;
  /** Why it was dropped. */
  reason?: string;
}

/** A pool of workers; see the file comment and docs/pool.md. */
export class WorkerPool {
  /** The pool's Chirp node (workers join "host:port" of it). */
  readonly node: Chirp;
  readonly #d: Dispatcher;
  readonly #group: ThreadGroup | null;
  readonly #listeners = new Map<PoolEvent["type"], Set<(e: PoolEvent) => void>>();
  readonly #offs: (() => void)[] = [];
  #closing: Promise<void> | null = null;
  #dropping = true;

  private constructor(node: Chirp, d: Dispatcher, group: ThreadGroup | null) {
    this.node = node;
    this.#d = d;
    this.#group = group;
  }

  /** Starts the node and the threads; resolves once every thread joined. */
  static async start(options: PoolOptions = {}): Promise<WorkerPool> {
    const threads = options.threads ?? Math.max(1, threadHost().cpus() - 1);
    const per = options.concurrentTasksPerThread ?? 1;
    const prefetch = options.prefetch ?? 0;
    const maxAttempts = options.maxAttempts ?? 3;
    const maxQueue = options.maxQueue ?? 65536;
    if (!(Number.isInteger(threads) && threads >= 0)) throw new ChirpError("VALUE_ERROR", `pool: threads = ${threads}; a whole number >= 0`);
    if (!(Number.isInteger(per) && per >= 1)) throw new ChirpError("VALUE_ERROR", `pool: concurrentTasksPerThread = ${per}; a whole number >= 1`);
    if (!(Number.isInteger(prefetch) && prefetch >= 0)) throw new ChirpError("VALUE_ERROR", `pool: prefetch = ${prefetch}; a whole number >= 0`);
    if (!(maxAttempts >= 1) || !(maxQueue >= 0)) throw new ChirpError("VALUE_ERROR", "pool: maxAttempts must be >= 1 and maxQueue >= 0");
    if (threads > 0 && options.module === undefined) throw new ChirpError("VALUE_ERROR", "pool: threads need a `module` whose exported functions are the tasks");
    const node = await Chirp.start({ port: 0, reuseTime: 3600, ...options.node });
    const d = new Dispatcher(node, maxAttempts, maxQueue);
    const ports = new Set<number>();
    d.isLocal = (key) => key.startsWith("127.0.0.1:") && ports.has(Number(key.slice(10)));
    let pool: WorkerPool | undefined;
    const group = threads === 0 ? null : new ThreadGroup({
      module: options.module!, join: `127.0.0.1:${node.port}`, threads, slots: per, prefetch,
      synchronous: node.config.synchronous, bind: "127.0.0.1",
      onReady: (port) => ports.add(port),
      onCrash: (port, err) => {
        if (port !== undefined && d.lose(`127.0.0.1:${port}`, `thread crashed: ${err.message}`)) {
          pool!.#emit({ type: "drop", worker: `127.0.0.1:${port}`, local: true, reason: `thread crashed: ${err.message}` });
        }
      },
    });
    pool = new WorkerPool(node, d, group);
    pool.#listen();
    if (group) {
      const joined = new Promise<void>((resolve) => {
        const check = (): void => {
          if (group.ports.length >= threads && group.ports.every((p) => d.workers().some((w) => w.worker === `127.0.0.1:${p}`))) {
            off();
            resolve();
          }
        };
        const off = pool!.on("join", check);
        pool!.#offs.push(off);
      });
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        await group.start();
        await Promise.race([joined, new Promise((_, reject) => (timer = setTimeout(() => reject(new ChirpError("TIMEOUT", "pool: the threads did not join within 20 s")), 20_000)))]);
      } catch (e) {
        await pool.close({ drain: false });
        throw e;
      } finally {
        clearTimeout(timer);
      }
    }
    return pool;
  }

  /** Takes JOIN and LEAVE, and drops a worker whose connection closed. */
  #listen(): void {
    const node = this.node;
    this.#offs.push(routerOf(node).use((msg: Message) => {
      const h = decodeHeader(msg.header);
      if (h?.pattern !== PATTERN.PIPELINE || (h.op !== OP.PIPELINE.JOIN && h.op !== OP.PIPELINE.LEAVE)) return false;
      msg.release();
      const key = node.targetOf(msg);
      if (this.#closing && h.op === OP.PIPELINE.JOIN) return true; // not acknowledged: a closing pool takes no workers
      if (h.op === OP.PIPELINE.LEAVE) {
        if (this.#d.leave(key)) this.#emit({ type: "leave", worker: key, local: this.#d.isLocal(key) });
      } else {
        const slots = h.body.length ? Number(text(h.body)) : 1;
        if (!(Number.isInteger(slots) && slots >= 1)) return true;
        if (this.#d.add(key, slots)) this.#emit({ type: "join", worker: key, local: this.#d.isLocal(key) });
      }
      msg.reply(undefined, { header: encodeHeader(PATTERN.PIPELINE, OP.PIPELINE.ACK) }).catch(() => {});
      return true;
    }));
    this.#offs.push(node.on("close", (ev) => {
      if (!this.#dropping) return;
      const key = node.targetOf(ev);
      const why = `connection closed${ev.code ? ` (${ev.code}: ${ev.reason})` : ev.reason ? ` (${ev.reason})` : ""}`;
      if (this.#d.lose(key, why)) this.#emit({ type: "drop", worker: key, local: this.#d.isLocal(key), reason: why });
    }));
  }

  /** The address workers join: "127.0.0.1:port" (the node listens on every address its config says). */
  get address(): string {
    return `127.0.0.1:${this.node.port}`;
  }

  /** Runs task `name` (an exported function of the module) with `input` on a worker; resolves
   * with what it returns, rejects with a TaskError (remote: true, with its remote stack) when
   * it throws, with TIMEOUT, the signal's reason, or CANNOT_CONNECT when its workers were lost
   * (see RunOptions). Inputs and results: bytes, strings or JSON data (pool/codec.ts). */
  run<T = unknown>(name: string, input?: unknown, options: RunOptions = {}): Promise<T> {
    if (this.#closing) return Promise.reject(new ChirpError("SHUTDOWN", "pool: closed"));
    let v;
    try {
      v = encodeValue(input);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#d.run(name, taskHeader(v.kind, name), v.data, options) as Promise<T>;
  }

  /** Counters of the pool and of each worker. */
  stats(): PoolStats {
    return { queued: this.#d.queued, inFlight: this.#d.inFlight, ...this.#d.totals, threadCrashes: this.#group?.crashed ?? 0, workers: this.#d.workers() };
  }

  /** Hears workers join, leave or being dropped; returns a function that stops listening. */
  on(type: PoolEvent["type"], listener: (e: PoolEvent) => void): () => void {
    let set = this.#listeners.get(type);
    if (!set) this.#listeners.set(type, (set = new Set()));
    set.add(listener);
    return () => set!.delete(listener);
  }

  #emit(e: PoolEvent): void {
    for (const l of this.#listeners.get(e.type) ?? []) {
      try {
        l(e);
      } catch {
        // a listener's error is its own
      }
    }
  }

  /** Resolves when no task is queued or running. */
  idle(): Promise<void> {
    return this.#d.idle();
  }

  /** Takes no more tasks, lets the queued and running ones finish (`drain: false`: rejects
   * the queued ones with SHUTDOWN), then stops the threads and the node. */
  close(options: { drain?: boolean } = {}): Promise<void> {
    return (this.#closing ??= (async () => {
      if (options.drain === false) this.#d.rejectQueued(new ChirpError("SHUTDOWN", "pool: closed"));
      await this.#d.idle();
      this.#dropping = false; // threads that leave now are not lost workers
      await this.#group?.close();
      for (const off of this.#offs.splice(0)) off();
      await this.node.close();
    })());
  }
}

/** Starts a worker pool (see WorkerPool and docs/pool.md). */
export function workerPool(options: PoolOptions = {}): Promise<WorkerPool> {
  return WorkerPool.start(options);
}
