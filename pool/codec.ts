// How the worker pool puts a task and its result into a push/pull item (patterns/pipeline):
// the item's application header (after the pipeline's 3 pattern bytes, patterns/header.ts)
// is one kind byte and, on a task, the task's name in UTF-8; the data is the value:
//
//   kind  value                   data
//   ----  ----------------------  ----------------------------------------------------
//   0     Uint8Array              the bytes as they are
//   1     string                  UTF-8
//   2     anything else (JSON)    JSON.stringify's UTF-8 (so: plain objects, arrays,
//                                 numbers, booleans, null; Dates become strings, Maps and
//                                 class instances lose what JSON drops)
//   3     undefined               empty
//   4     an error (result only)  JSON { name, message, stack, code? } of the task's throw
//
// A task's error travels as a RESULT of kind 4, not as the pipeline's FAILED (which carries
// only a message), so the caller gets the remote stack; either way it is not retried.
import { ChirpError } from "../adapters/mod.ts";

export const KIND = { BYTES: 0, STRING: 1, JSON: 2, UNDEFINED: 3, ERROR: 4 } as const;

/** A value a task takes or returns (see the file comment for how each kind travels). */
export type TaskValue = unknown;

const enc = new TextEncoder();
const dec = new TextDecoder();
const EMPTY = new Uint8Array(0);

/** The data and kind byte of a value. */
export function encodeValue(v: TaskValue): { kind: number; data: Uint8Array } {
  if (v instanceof Uint8Array) return { kind: KIND.BYTES, data: v };
  if (typeof v === "string") return { kind: KIND.STRING, data: enc.encode(v) };
  if (v === undefined) return { kind: KIND.UNDEFINED, data: EMPTY };
  const json = JSON.stringify(v);
  if (json === undefined) throw new ChirpError("VALUE_ERROR", `pool: a ${typeof v} cannot be sent (JSON has no form for it)`);
  return { kind: KIND.JSON, data: enc.encode(json) };
}

/** The value back from its kind byte and data (kind 4: see decodeError). */
export function decodeValue(kind: number, data: Uint8Array): TaskValue {
  switch (kind) {
    case KIND.BYTES:
      return data.slice();
    case KIND.STRING:
      return dec.decode(data);
    case KIND.JSON:
      return JSON.parse(dec.decode(data));
    case KIND.UNDEFINED:
      return undefined;
    default:
      throw new ChirpError("PROTOCOL_ERROR", `pool: unknown value kind ${kind}`);
  }
}

/** A task's header: kind byte + name. */
export function taskHeader(kind: number, name: string): Uint8Array {
  const n = enc.encode(name);
  const h = new Uint8Array(1 + n.length);
  h[0] = kind;
  h.set(n, 1);
  return h;
}

/** Name and kind from a task's header (null when it is not one). */
export function readTaskHeader(h: Uint8Array): { kind: number; name: string } | null {
  if (h.length < 2 || h[0] > KIND.UNDEFINED) return null;
  return { kind: h[0], name: dec.decode(h.subarray(1)) };
}

/** A task's error as data of kind 4. */
export function encodeError(e: unknown): Uint8Array {
  const err = e instanceof Error ? e : new Error(String(e));
  const code = (err as { code?: unknown }).code;
  return enc.encode(JSON.stringify({ name: err.name, message: err.message, stack: err.stack ?? "", ...(typeof code === "string" ? { code } : {}) }));
}

/** A task's error, as the caller of pool.run() sees it: it happened in a worker. */
export class TaskError extends Error {
  /** Always true: the error was thrown by the task in a worker, not in this process. */
  readonly remote = true;
  /** The task's error's code when it had a string `code`, else "TASK_FAILED". */
  readonly code: string;
  /** The task that threw. */
  readonly task: string;
  /** The worker it ran on ("address:port"). */
  readonly worker: string;
  /** The error's stack as the worker printed it. */
  readonly remoteStack: string;
  /** The name of the error class in the worker ("TypeError", ...). */
  readonly remoteName: string;
  /** The error `e` (as the worker sent it) of `task` on `worker`. */
  constructor(task: string, worker: string, e: { name?: string; message?: string; stack?: string; code?: string }) {
    super(`${e.message ?? "task failed"} (task ${task} on worker ${worker})`);
    this.name = "TaskError";
    this.task = task;
    this.worker = worker;
    this.remoteName = e.name ?? "Error";
    this.remoteStack = e.stack ?? "";
    this.code = e.code ?? "TASK_FAILED";
    // The stack a user prints shows where the task threw, under the local frames' header.
    this.stack = `${this.name}: ${this.message}\n    [remote stack]\n${this.remoteStack}`;
  }
}

/** The TaskError of a kind-4 result. */
export function decodeError(task: string, worker: string, data: Uint8Array): TaskError {
  let e: { name?: string; message?: string; stack?: string; code?: string };
  try {
    e = JSON.parse(dec.decode(data));
  } catch {
    e = { message: dec.decode(data) };
  }
  return new TaskError(task, worker, e);
}
