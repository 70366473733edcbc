// The thread implementation for the runtime this code runs on (adapters/thread.ts is the
// contract): node:worker_threads on Node, the Worker global on Deno and Bun. For the worker
// pool (pool/), which stays free of runtime APIs.
import type { ThreadHost } from "./thread.ts";
import { detectRuntime } from "./runtime.ts";
import { nodeThreads } from "./node/threads.ts";
import { denoThreads } from "./deno/threads.ts";
import { bunThreads } from "./bun/threads.ts";

export type { Thread, ThreadCallbacks, ThreadHost, ThreadPort } from "./thread.ts";

/** This runtime's threads. */
export function threadHost(): ThreadHost {
  const rt = detectRuntime();
  return rt === "deno" ? denoThreads : rt === "bun" ? bunThreads : nodeThreads;
}
