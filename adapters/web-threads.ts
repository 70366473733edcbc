// Threads from the web `Worker` global (module workers), behind the contract of
// adapters/thread.ts: what Deno's and Bun's thread adapters (adapters/deno|bun/threads.ts)
// share. An uncaught error in a thread reaches the parent as an "error" event; it is taken
// (preventDefault, else Deno would end the parent too) and the thread is terminated: a thread
// that threw is a crashed thread. Each runtime adds how else a thread ends and how a thread
// knows it is one.
import type { ThreadHost } from "./thread.ts";

/** The part of a worker's global scope the thread side uses. */
export interface WorkerScope {
  postMessage(m: unknown): void;
  addEventListener(type: "message", f: (e: MessageEvent) => void): void;
}

export interface WebThreadRules {
  /** Other ways this runtime's Worker ends: call `end` (with the error, if it is one). */
  watch(w: Worker, end: (err: Error | undefined) => void): void;
  /** This thread's worker scope, or null on the main thread. */
  scope(): WorkerScope | null;
}

/** A ThreadHost over the Worker global with this runtime's rules. */
export function webThreads(rules: WebThreadRules): ThreadHost {
  return {
    start(url, cb) {
      const w = new Worker(url, { type: "module" });
      let ended = false;
      const end = (err: Error | undefined): void => {
        if (ended) return;
        ended = true;
        w.terminate();
        cb.exit(err);
      };
      w.addEventListener("message", (e) => cb.message((e as MessageEvent).data));
      w.addEventListener("error", (e) => {
        e.preventDefault();
        end(new Error((e as ErrorEvent).message || "thread crashed"));
      });
      rules.watch(w, end);
      return {
        post: (msg) => w.postMessage(msg),
        terminate: async () => end(undefined),
      };
    },
    port() {
      const self = rules.scope();
      if (self === null) return null;
      return { post: (m) => self.postMessage(m), onMessage: (f) => self.addEventListener("message", (e) => f(e.data)) };
    },
    moduleUrl: (url) => url,
    cpus: () => navigator.hardwareConcurrency || 1,
  };
}
