// A worker process's side of a pool on another machine (or runtime): `joinPool({ module, join,
// threads })` starts `threads` threads that serve the module's functions and join the pool at
// `join` (pool/threads.ts; a crashed thread is replaced), or with `threads: 0` one node in
// this thread (pool/serve.ts). They join again by themselves when the pool restarts or their
// connection to it closed, and close() has them leave it. `chirpcat worker` runs this.
import { Chirp, ChirpError, type ChirpConfig } from "../adapters/index.ts";
import { threadHost } from "../adapters/threads.ts";
import { serveTasks, type Tasks } from "./serve.ts";
import { ThreadGroup } from "./threads.ts";

/** Options of joinPool(). */
export interface JoinOptions {
  /** The task module (an ES module URL or a file:// URL string). */
  module: URL | string;
  /** The pool to join, "host:port". */
  join: string;
  /** Threads (default: the number of CPUs); 0: serve in this thread. */
  threads?: number;
  /** Tasks each thread runs at once (default 1). */
  concurrentTasksPerThread?: number;
  /** Tasks each thread takes beyond those (default 0; see PoolOptions.prefetch). */
  prefetch?: number;
  /** With threads: 0, the node's config (default: port 0). */
  node?: ChirpConfig;
}

/** Workers that joined a pool; close() has them leave. */
export interface JoinedWorkers {
  /** The ports the workers' nodes listen on. */
  readonly ports: number[];
  /** Threads that crashed and were replaced. */
  readonly crashes: number;
  /** Leaves the pool and stops the threads (or the node). */
  close(): Promise<void>;
}

const isLoopback = (target: string): boolean => /^(127\.|\[::1\]:|localhost:)/.test(target);

/** Starts workers that join the pool at `options.join`; resolves once each listens (the
 * joins go on in the background until the pool takes them). */
export async function joinPool(options: JoinOptions): Promise<JoinedWorkers> {
  const threads = options.threads ?? threadHost().cpus();
  const per = options.concurrentTasksPerThread ?? 1;
  const prefetch = options.prefetch ?? 0;
  if (!(Number.isInteger(threads) && threads >= 0)) throw new ChirpError("VALUE_ERROR", `joinPool: threads = ${threads}; a whole number >= 0`);
  if (!(Number.isInteger(per) && per >= 1)) throw new ChirpError("VALUE_ERROR", `joinPool: concurrentTasksPerThread = ${per}; a whole number >= 1`);
  if (!(Number.isInteger(prefetch) && prefetch >= 0)) throw new ChirpError("VALUE_ERROR", `joinPool: prefetch = ${prefetch}; a whole number >= 0`);
  if (threads === 0) {
    const mod = typeof options.module === "string" ? new URL(options.module) : options.module;
    const tasks = (await import(threadHost().moduleUrl(mod).href)) as Tasks;
    const node = await Chirp.start({ port: 0, reuseTime: 3600, ...options.node });
    const w = serveTasks(node, tasks, { join: options.join, slots: per, prefetch });
    return {
      ports: [node.port],
      crashes: 0,
      close: async () => {
        await w.close();
        await node.close();
      },
    };
  }
  const group = new ThreadGroup({
    module: options.module, join: options.join, threads, slots: per, prefetch, synchronous: true,
    bind: isLoopback(options.join) ? "127.0.0.1" : null,
  });
  await group.start();
  return {
    get ports() {
      return group.ports;
    },
    get crashes() {
      return group.crashed;
    },
    close: () => group.close(),
  };
}
