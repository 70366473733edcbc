// Write buffers: the core's OUT bytes are copied into pooled buffers of outCap bytes, and a
// buffer goes back to the pool when its write completed, so a steady stream of batches
// allocates nothing.
import type { Core } from "../core/core.ts";

/** Write buffers kept for reuse per node. A window of 2,000 1 KiB sends is about 30 buffers
 * of 68 KiB; with 8 kept, each window allocated 22 new ones (1 KiB one-way sends 4-9 % slower
 * on Node, bench/compare.ts). 64 keep at most 64 · outCap bytes (4.4 MiB by default). */
const OUT_POOL = 64;

export class WriteBuffers {
  readonly #free: Uint8Array[] = [];
  constructor(readonly core: Core) {}

  /** The OUT area's bytes, copied into a buffer from the pool; empties OUT. */
  takeOut(): { buffer: Uint8Array; view: Uint8Array } {
    const core = this.core;
    const n = core.x.outLen();
    const buffer = this.#free.pop() ?? new Uint8Array(core.outCap);
    buffer.set(core.mem.subarray(core.outPtr, core.outPtr + n));
    core.x.outReset();
    return { buffer, view: buffer.subarray(0, n) };
  }

  /** Buffers whose write completed. */
  giveBack(bufs: Uint8Array[]): void {
    for (const b of bufs) if (this.#free.length < OUT_POOL) this.#free.push(b);
  }
}
