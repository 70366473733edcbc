// Threads on Bun: the Worker global behind the contract of adapters/thread.ts, for the worker
// pool (pool/), through adapters/web-threads.ts. Bun's own "close" event says when a thread
// ended by itself.
import type { ThreadHost } from "../thread.ts";
import { webThreads, type WorkerScope } from "../web-threads.ts";

export const bunThreads: ThreadHost = webThreads({
  watch: (w, end) => w.addEventListener("close", () => end(undefined)),
  scope: () => {
    const g = globalThis as unknown as { Bun?: { isMainThread?: boolean }; self?: WorkerScope };
    return g.Bun?.isMainThread !== false || g.self === undefined ? null : g.self;
  },
});
