// A group of pool threads (pool/thread.ts) that serve one module and join one pool: the local
// threads of a pool (pool/pool.ts) and those of a worker process that joins one (pool/join.ts).
// A thread that crashes after it started is replaced (a task that crashes every thread it runs
// on is bounded by the pool's attempts per task); one that fails to start fails start().
import { ChirpError } from "../adapters/mod.ts";
import { threadHost, type Thread } from "../adapters/threads.ts";
import type { ThreadInit } from "./thread.ts";

const THREAD_URL = new URL(import.meta.url.endsWith(".ts") ? "./thread.ts" : "./thread.js", import.meta.url);
/** How long a stopping thread may take to leave the pool before it is terminated (ms). */
const STOP_MS = 2000;
/** Delay before a crashed thread is replaced (ms). */
const RESTART_MS = 50;

/** Options of a thread group. */
export interface ThreadGroupOptions {
  module: URL | string;
  join: string;
  threads: number;
  slots: number;
  /** Tasks each thread takes beyond `slots` (pool/serve.ts). */
  prefetch: number;
  synchronous: boolean;
  bind: string | null;
  /** A thread listens on `port` (it joins next). */
  onReady?: (port: number) => void;
  /** The thread listening on `port` (undefined: not yet listening) crashed with `err`. */
  onCrash?: (port: number | undefined, err: Error) => void;
}

interface Member {
  thread: Thread;
  port?: number;
  stopped?: () => void;
}

/** Threads that serve a module and join a pool; see the file comment. */
export class ThreadGroup {
  readonly #o: ThreadGroupOptions;
  readonly #init: ThreadInit;
  readonly #members = new Set<Member>();
  #closed = false;
  /** Threads started, replacements included. */
  started = 0;
  /** Threads that crashed. */
  crashed = 0;

  constructor(options: ThreadGroupOptions) {
    this.#o = options;
    const host = threadHost();
    const mod = typeof options.module === "string" ? new URL(options.module) : options.module;
    this.#init = { module: host.moduleUrl(mod).href, join: options.join, slots: options.slots, prefetch: options.prefetch, synchronous: options.synchronous, bind: options.bind };
  }

  /** Starts the threads; resolves when each listens, rejects when one fails to start. */
  async start(): Promise<void> {
    try {
      await Promise.all(Array.from({ length: this.#o.threads }, () => this.#spawn()));
    } catch (e) {
      await this.close();
      throw e;
    }
  }

  /** The listening ports of the running threads. */
  get ports(): number[] {
    return [...this.#members].flatMap((m) => (m.port === undefined ? [] : [m.port]));
  }

  #spawn(): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      this.started++;
      let m: Member;
      const thread = threadHost().start(THREAD_URL, {
        message: (raw) => {
          const msg = raw as { ready?: number; error?: string; stopped?: boolean };
          if (typeof msg.ready === "number") {
            m.port = msg.ready;
            this.#o.onReady?.(msg.ready);
            resolve(msg.ready);
          } else if (msg.error !== undefined) {
            this.#members.delete(m);
            void thread.terminate();
            reject(new ChirpError("VALUE_ERROR", `pool: a thread could not start: ${msg.error}`));
          } else if (msg.stopped) m.stopped?.();
        },
        exit: (err) => {
          const was = this.#members.delete(m);
          m.stopped?.();
          if (!was || this.#closed) return;
          this.crashed++;
          const e = err ?? new Error("the thread ended");
          this.#o.onCrash?.(m.port, e);
          if (m.port === undefined) {
            reject(new ChirpError("VALUE_ERROR", `pool: a thread ended before it started: ${e.message}`));
            return;
          }
          setTimeout(() => {
            if (!this.#closed) this.#spawn().catch(() => {});
          }, RESTART_MS);
        },
      });
      m = { thread };
      this.#members.add(m);
      thread.post(this.#init);
    });
  }

  /** Has each thread leave the pool and close its node (terminated after 2 s at most). */
  async close(): Promise<void> {
    this.#closed = true;
    const all = [...this.#members];
    this.#members.clear();
    await Promise.all(all.map(async (m) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((done) => {
        m.stopped = done;
        timer = setTimeout(done, STOP_MS);
        m.thread.post({ stop: true });
      });
      clearTimeout(timer);
      await m.thread.terminate();
    }));
  }
}
