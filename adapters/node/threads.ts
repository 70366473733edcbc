// Threads on Node: node:worker_threads behind the contract of adapters/thread.ts, for the
// worker pool (pool/). An uncaught error in a thread ends it ('error', then 'exit').
import { Worker, parentPort, isMainThread } from "node:worker_threads";
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import type { ThreadHost, ThreadPort } from "../thread.ts";

let port: ThreadPort | null | undefined;

export const nodeThreads: ThreadHost = {
  start(url, cb) {
    const w = new Worker(url);
    let ended = false;
    let crash: Error | undefined;
    w.on("message", (m) => cb.message(m));
    w.on("error", (e) => (crash = e instanceof Error ? e : new Error(String(e))));
    w.on("exit", () => {
      if (ended) return;
      ended = true;
      cb.exit(crash);
    });
    return {
      post: (msg) => w.postMessage(msg),
      terminate: async () => {
        await w.terminate();
      },
    };
  },
  port() {
    if (port !== undefined) return port;
    const p = isMainThread ? null : parentPort;
    port = p === null ? null : { post: (m) => p.postMessage(m), onMessage: (f) => p.on("message", f) };
    return port;
  },
  moduleUrl(url) {
    if (url.protocol === "file:" && url.pathname.endsWith(".ts") && !existsSync(fileURLToPath(url))) {
      return new URL(url.href.replace(/\.ts$/, ".js"));
    }
    return url;
  },
  cpus: () => availableParallelism(),
};
