// Threads on Deno: the Worker global (module workers, which inherit the permissions) behind the
// contract of adapters/thread.ts, for the worker pool (pool/). An uncaught error in a thread
// reaches the parent as an "error" event; it is taken (preventDefault, else Deno would end the
// parent too) and the thread is terminated: a thread that threw is a crashed thread.
import type { ThreadHost } from "../thread.ts";

interface WorkerScope {
  postMessage(m: unknown): void;
  addEventListener(type: "message", f: (e: MessageEvent) => void): void;
}

export const denoThreads: ThreadHost = {
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
    w.addEventListener("messageerror", () => end(new Error("thread sent a message that cannot be read")));
    return {
      post: (msg) => w.postMessage(msg),
      terminate: async () => end(undefined),
    };
  },
  port() {
    // In a worker there is no `document` and `self` is the worker's global scope.
    const g = globalThis as unknown as { document?: unknown; WorkerGlobalScope?: unknown; self?: WorkerScope };
    if (g.WorkerGlobalScope === undefined || g.self === undefined) return null;
    const self = g.self;
    return { post: (m) => self.postMessage(m), onMessage: (f) => self.addEventListener("message", (e) => f(e.data)) };
  },
  moduleUrl: (url) => url,
  cpus: () => navigator.hardwareConcurrency || 1,
};
