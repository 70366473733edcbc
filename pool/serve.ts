// The worker side of the pool: a Chirp node that serves a module's exported functions as
// tasks and joins a pool (a push/pull worker, patterns/pipeline/worker.ts, whose handler
// decodes the task, runs the function and encodes its result or error: pool/codec.ts). Local
// threads (pool/thread.ts) and remote workers (pool/join.ts) both run this.
import type { Chirp, Message, Target } from "../adapters/mod.ts";
import { worker, type PullWorker } from "../patterns/mod.ts";
import { KIND, decodeValue, encodeError, encodeValue, readTaskHeader } from "./codec.ts";

/** A module's task functions by name (an imported module's namespace will do). */
export type Tasks = Record<string, unknown>;

/** The functions a module exports (its task names). */
export function taskNames(tasks: Tasks): string[] {
  return Object.keys(tasks).filter((k) => typeof tasks[k] === "function").sort();
}

/** Runs the task an item names with its input; a throw (or a task that is not there) is
 * encoded as an error result (kind 4), never as a failed item, so it is not retried. With
 * `concurrency`, at most that many tasks run at once; the others wait their turn here. */
export function taskHandler(tasks: Tasks, concurrency = Infinity): (item: Message, header: Uint8Array) => Promise<{ data: Uint8Array; header: Uint8Array }> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (item, header) => {
    if (running >= concurrency) await new Promise<void>((r) => waiting.push(r));
    running++;
    try {
      const h = readTaskHeader(header);
      if (!h) throw new Error("not a pool task (no task header)");
      const fn = tasks[h.name];
      if (typeof fn !== "function") throw new Error(`no task named "${h.name}" (the module exports: ${taskNames(tasks).join(", ") || "no functions"})`);
      const out = encodeValue(await (fn as (x: unknown) => unknown)(decodeValue(h.kind, item.data)));
      return { data: out.data, header: Uint8Array.of(out.kind) };
    } catch (e) {
      return { data: encodeError(e), header: Uint8Array.of(KIND.ERROR) };
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}

/** Options of serveTasks(). */
export interface ServeOptions {
  /** The pool(s) to join ("host:port"); more with the worker's join(). */
  join?: Target | Target[];
  /** Tasks this node runs at once (default 1). */
  slots?: number;
  /** Tasks it takes beyond `slots`, to start as soon as one finishes (default 0): the pool
   * sends the next task while this one runs, so a short task does not wait for a round trip
   * through the pool. The pool sees slots + prefetch when it joins (and prefers idle workers). */
  prefetch?: number;
}

/** Serves `tasks` on `node` and joins the pool(s): the worker joins again by itself when a
 * pool restarts or its connection closed (patterns/renew.ts). */
export function serveTasks(node: Chirp, tasks: Tasks, options: ServeOptions = {}): PullWorker {
  const slots = options.slots ?? 1;
  return worker(node, taskHandler(tasks, slots), { join: options.join ?? [], slots: slots + (options.prefetch ?? 0), plain: false });
}
