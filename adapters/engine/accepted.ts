// Asynchronous sends that resolve when accepted (send-queue.ts ACCEPT_BYTES; protocol.md
// §4.2): their bytes, copied so the caller may reuse its buffers at once, and the report of
// those that fail after they resolved (counted in settle, reported here to onError).
import { ChirpError } from "../errors.ts";
import type { Remote, SendOp } from "./records.ts";

const RESOLVED = Promise.resolve();

/** Copies of accepted payloads (the caller may reuse its buffer once the send resolved), header
 * then data, bump-allocated in 1 MiB slabs: no ArrayBuffer or view per send. A slab is dropped
 * when full and lives until its last send was written. */
const SLAB_BYTES = 1 << 20;
let slab = new Uint8Array(0);
let slabAt = 0;
export function copyInto(op: SendOp, header: Uint8Array, data: Uint8Array): void {
  const hl = header.length;
  const n = hl + data.length;
  if (slabAt + n > slab.length) {
    slab = new Uint8Array(SLAB_BYTES);
    slabAt = 0;
  }
  op.copy = slab;
  op.copyAt = slabAt;
  op.copyHl = hl;
  op.copyDl = data.length;
  if (hl) copySmall(slab, header, slabAt);
  copySmall(slab, data, slabAt + hl);
  slabAt += (n + 7) & ~7;
}

/** Copies `n` bytes of `src` from `from` into `dst` at `at` (default: all of `src`): a plain
 * loop for the short arrays of the hot path (cheaper than TypedArray.set's call overhead
 * there), set() for the rest. */
export function copySmall(dst: Uint8Array, src: Uint8Array, at: number, from = 0, n = src.length): void {
  if (n > 64) {
    dst.set(from === 0 && n === src.length ? src : src.subarray(from, from + n), at);
    return;
  }
  for (let i = 0; i < n; i++) dst[at + i] = src[from + i];
}

/** Accepted sends that failed after their promise resolved, one onError report per remote and
 * microtask turn with the count. */
export class LostSends {
  #lost = new Map<Remote, { n: number; err: Error }>();
  constructor(readonly onError: (err: Error) => void) {}

  add(op: SendOp, err: Error): void {
    const r = op.remote;
    const seen = this.#lost.get(r);
    if (seen) {
      seen.n++;
      return;
    }
    if (this.#lost.size === 0) void RESOLVED.then(() => this.#flush());
    this.#lost.set(r, { n: 1, err });
  }

  #flush(): void {
    const lost = this.#lost;
    this.#lost = new Map();
    for (const [r, { n, err }] of lost) {
      const code = (err as ChirpError).code ?? "FATAL";
      const what = n === 1 ? "1 asynchronous send" : `${n} asynchronous sends`;
      this.onError(new ChirpError(code, `${what} to ${r.address}:${r.port} resolved when accepted but ${n === 1 ? "was" : "were"} not delivered: ${err.message}`, { cause: err }));
    }
  }
}
