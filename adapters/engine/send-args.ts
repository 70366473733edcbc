// A send's arguments made ready for the queue: bytes from strings, identities from a random
// pool, the promise's executor without a closure per send, the abort error. Kept apart from
// the queue (send-queue.ts) so that each stays one job.
import { ChirpError } from "../errors.ts";
import { EMPTY } from "./records.ts";

const encoder = new TextEncoder();

/** Random message identities, drawn from a pool filled 64 KiB at a time (one
 * getRandomValues call per message costs more than the rest of a send). A send keeps the pool
 * and an offset; the identity's own Uint8Array is made only when its promise settles, so a
 * queued send holds one object less. Read `idPool` after `nextIdentity()`: it may refill it. */
export let idPool = new Uint8Array(0);
let idPos = 0;

/** The offset in `idPool` of 16 fresh random bytes. */
export function nextIdentity(): number {
  if (idPos + 16 > idPool.length) {
    idPool = crypto.getRandomValues(new Uint8Array(65536));
    idPos = 0;
  }
  const at = idPos;
  idPos += 16;
  return at;
}

/** The executor of every send's Promise: no closure per send (read right after `new`). */
export let newResolve: (id: Uint8Array) => void = () => {};
export let newReject: (e: Error) => void = () => {};
export function executor(res: (id: Uint8Array) => void, rej: (e: Error) => void): void {
  newResolve = res;
  newReject = rej;
}

export function aborted(signal: AbortSignal): ChirpError {
  return new ChirpError("ABORTED", "the send was aborted by its signal", { cause: signal.reason });
}

export function toBytes(v: Uint8Array | string | undefined, what: string): Uint8Array {
  if (v === undefined) return EMPTY;
  if (typeof v === "string") return encoder.encode(v);
  if (v instanceof Uint8Array) return v;
  throw new ChirpError("VALUE_ERROR", `${what} must be a Uint8Array or a string`);
}
