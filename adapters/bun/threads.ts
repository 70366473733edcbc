// Threads on Bun: the Worker global behind the contract of adapters/thread.ts, for the worker
// pool (pool/). An uncaught error in a thread reaches the parent as an "error" event (the
// thread is then terminated: a thread that threw is a crashed thread); Bun's own "close" event
// says when a thread ended by itself.
import type { ThreadHost } from "../thread.ts";

interface WorkerScope {
  postMessage(m: unknown): void;
  addEventListener(type: "message", f: (e: MessageEvent) => void): void;
}

export const bunThreads: ThreadHost = {
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
    w.addEventListener("close", () => end(undefined));
    return {
      post: (msg) => w.postMessage(msg),
      terminate: async () => end(undefined),
    };
  },
  port() {
    const g = globalThis as unknown as { Bun?: { isMainThread?: boolean }; self?: WorkerScope };
    if (g.Bun?.isMainThread !== false || g.self === undefined) return null;
    const self = g.self;
    return { post: (m) => self.postMessage(m), onMessage: (f) => self.addEventListener("message", (e) => f(e.data)) };
  },
  moduleUrl: (url) => url,
  cpus: () => navigator.hardwareConcurrency || 1,
};
