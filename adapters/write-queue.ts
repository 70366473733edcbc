// The write queue of the Deno and Bun sockets (their runtimes take one buffer per write and
// keep no rest): chunks up to 16 KiB are copied into a 64 KiB staging buffer, so many small
// frames leave in one write; larger chunks are queued from their own memory. The socket
// drives it: `next()` gives the bytes to write, `sent(n)` says how many the kernel took,
// `settle()` calls the `done` of every write() whose last byte went out.
//
// A staging buffer handed out by `next()` may still be in flight (Deno awaits its write; Bun's
// kernel may take part of it), so staging goes on in another buffer; a buffer comes back as
// the spare once all of it was sent. Memory stays bounded: write() reports backpressure at
// HIGH_WATER bytes queued (the Socket contract, transport.ts).

/** write() returns false once this many bytes wait in the queue. */
const HIGH_WATER = 1 << 20;
/** Chunks up to this size are copied into the staging buffer; larger ones are queued as they are. */
const SMALL = 16 * 1024;
const STAGE_SIZE = 64 * 1024;
const EMPTY = new Uint8Array(0);

interface Pending {
  done: (err?: Error) => void;
  /** The value of #sentTotal once this call's last byte is sent. */
  end: number;
}

export class WriteQueue {
  /** Bytes not yet taken by the kernel, in order, from #head on (then the staging buffer's). */
  #segs: Uint8Array[] = [];
  /** Whether each of #segs is a staging buffer (it becomes the spare once sent). */
  #isStage: boolean[] = [];
  #head = 0;
  #stage: Uint8Array = new Uint8Array(STAGE_SIZE);
  #spare: Uint8Array | null = null;
  #staged = 0;
  /** Bytes queued and not yet sent. */
  pendingBytes = 0;
  #dones: Pending[] = [];
  /** Bytes ever queued, and bytes of those sent. */
  #queuedTotal = 0;
  #sentTotal = 0;
  /** write() said "full": onDrain is due once the queue is below HIGH_WATER. */
  #needDrain = false;

  /** Queues one write() of the Socket contract; false once HIGH_WATER bytes wait. */
  push(chunks: Uint8Array[], done: (err?: Error) => void): boolean {
    for (const c of chunks) {
      const len = c.byteLength;
      if (len === 0) continue;
      if (len <= SMALL) {
        if (this.#staged + len > STAGE_SIZE) this.#seal();
        this.#stage.set(c, this.#staged);
        this.#staged += len;
      } else {
        this.#seal();
        this.#segs.push(c);
        this.#isStage.push(false);
      }
      this.pendingBytes += len;
      this.#queuedTotal += len;
    }
    this.#dones.push({ done, end: this.#queuedTotal });
    if (this.pendingBytes >= HIGH_WATER) {
      this.#needDrain = true;
      return false;
    }
    return true;
  }

  /** Queues the staged bytes (a view of the staging buffer) and stages on in the spare. */
  #seal(): void {
    if (this.#staged === 0) return;
    this.#segs.push(this.#stage.subarray(0, this.#staged));
    this.#isStage.push(true);
    this.#stage = this.#spare ?? new Uint8Array(STAGE_SIZE);
    this.#spare = null;
    this.#staged = 0;
  }

  /** The next bytes to write, or null when everything queued was sent. */
  next(): Uint8Array | null {
    if (this.#head === this.#segs.length) this.#seal();
    return this.#head < this.#segs.length ? this.#segs[this.#head] : null;
  }

  /** The kernel took `n` bytes of what next() gave. */
  sent(n: number): void {
    if (n <= 0) return;
    this.#sentTotal += n;
    this.pendingBytes -= n;
    const segs = this.#segs;
    const b = segs[this.#head];
    if (n < b.byteLength) {
      segs[this.#head] = b.subarray(n);
      return;
    }
    if (this.#isStage[this.#head]) this.#spare = new Uint8Array(b.buffer, 0, STAGE_SIZE);
    segs[this.#head] = EMPTY;
    this.#head++;
    if (this.#head === segs.length) {
      this.#segs = [];
      this.#isStage = [];
      this.#head = 0;
    } else if (this.#head > 1024) {
      this.#segs = segs.slice(this.#head);
      this.#isStage = this.#isStage.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Calls `done` for the writes whose bytes were all sent. Returns true when onDrain is due. */
  settle(): boolean {
    const dones = this.#dones;
    let k = 0;
    while (k < dones.length && dones[k].end <= this.#sentTotal) k++;
    if (k > 0) {
      const ready = dones.splice(0, k);
      for (const d of ready) d.done();
    }
    if (this.#needDrain && this.pendingBytes < HIGH_WATER) {
      this.#needDrain = false;
      return true;
    }
    return false;
  }

  /** The socket closed: empties the queue, then (in a microtask) fails every write still
   * owed with `err` and calls `closed` (done callbacks come before onClose). */
  close(err: Error | undefined, closed: () => void): void {
    const owed = this.#dones;
    this.#dones = [];
    this.#segs = [];
    this.#isStage = [];
    this.#head = 0;
    this.#staged = 0;
    this.pendingBytes = 0;
    queueMicrotask(() => {
      if (owed.length > 0) {
        const e = err ?? new Error("socket closed");
        for (const d of owed) d.done(e);
      }
      closed();
    });
  }
}
