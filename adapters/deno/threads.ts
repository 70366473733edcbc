// Threads on Deno: the Worker global (module workers, which inherit the permissions) behind the
// contract of adapters/thread.ts, for the worker pool (pool/), through adapters/web-threads.ts.
// A message that cannot be read ends the thread as crashed.
import type { ThreadHost } from "../thread.ts";
import { webThreads, type WorkerScope } from "../web-threads.ts";

export const denoThreads: ThreadHost = webThreads({
  watch: (w, end) => w.addEventListener("messageerror", () => end(new Error("thread sent a message that cannot be read"))),
  scope: () => {
    // In a worker `WorkerGlobalScope` exists and `self` is the worker's global scope.
    const g = globalThis as unknown as { WorkerGlobalScope?: unknown; self?: WorkerScope };
    return g.WorkerGlobalScope === undefined || g.self === undefined ? null : g.self;
  },
});
