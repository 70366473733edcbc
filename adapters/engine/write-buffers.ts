// Write buffers: the core's OUT bytes are copied into pooled buffers of outCap bytes, and a
// buffer goes back to the pool when its write completed, so a steady stream of batches
// allocates nothing. With the pool empty (many writes pending: a publisher's fan-out to
// peers that push back), a small write gets a buffer of its own size instead: a fresh
// outCap buffer (68 KiB, zeroed) per few hundred bytes cost a publisher a quarter of its
// CPU and held 68 KiB per pending write.
import type { Core } from "../core/core.ts";

/** Write buffers kept for reuse per node. A window of 2,000 1 KiB sends is about 30 buffers
 * of 68 KiB; with 8 kept, each window allocated 22 new ones (1 KiB one-way sends 4-9 % slower
 * on Node, bench/compare.ts). 64 keep at most 64 · outCap bytes (4.4 MiB by default). */
const OUT_POOL = 64;

/** Writes up to this many bytes get an exact-size buffer when the pool is empty. */
const SMALL_WRITE = 16 * 1024;

export class WriteBuffers {
  readonly #free: Uint8Array[] = [];
  constructor(readonly core: Core) {}

  /** The OUT area's bytes, copied into a buffer from the pool; empties OUT. */
  takeOut(): { buffer: Uint8Array; view: Uint8Array } {
    const core = this.core;
    const n = core.x.outLen();
    let buffer = this.#free.pop();
    if (buffer === undefined && n <= SMALL_WRITE) {
      buffer = core.mem.slice(core.outPtr, core.outPtr + n);
      core.x.outReset();
      return { buffer, view: buffer };
    }
    buffer ??= new Uint8Array(core.outCap);
    buffer.set(core.mem.subarray(core.outPtr, core.outPtr + n));
    core.x.outReset();
    return { buffer, view: buffer.subarray(0, n) };
  }

  /** Buffers whose write completed (the pool keeps full-size ones). */
  giveBack(bufs: Uint8Array[]): void {
    const cap = this.core.outCap;
    for (const b of bufs) if (b.length === cap && this.#free.length < OUT_POOL) this.#free.push(b);
  }
}
