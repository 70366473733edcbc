// A Socket (transport.ts contract) on a Deno.TcpConn, and the errno-style codes of Deno's
// errors. Only deno/ touches the Deno global.
//
// Reading: one loop per socket, `await conn.read(buf)` into one reused 64 KiB buffer; each read
// is handed to onData (the contract lets the engine keep the bytes only until it returns).
// pause() makes the loop stop issuing reads, so the kernel buffer fills and TCP pushes back on
// the sender (at most the one read already in flight completes; its bytes are held back until
// resume()). Writing: one loop per socket over the shared write queue (write-queue.ts: chunks
// up to 16 KiB staged together into 64 KiB buffers, one write op for many small frames, larger
// ones written from their own memory); partial writes are continued. The op-based loops were measured faster
// than Deno's node:net and than conn.readable/conn.writable streams (numbers in deno/entry.ts).
//
import type { Socket } from "../transport.ts";
import { WriteQueue } from "../write-queue.ts";

const noop = (): void => {};

const READ_SIZE = 64 * 1024;

/** Gives a Deno error the errno-style `.code` the engine reads (Deno sets most of them). */
export function withCode(e: unknown): Error {
  const err = e instanceof Error ? e : new Error(String(e));
  const x = err as Error & { code?: string };
  if (typeof x.code !== "string" || x.code === "") {
    if (err instanceof Deno.errors.AddrInUse || /os error 98\b/.test(err.message)) x.code = "EADDRINUSE";
    else if (err instanceof Deno.errors.AddrNotAvailable || /os error 99\b/.test(err.message)) x.code = "EADDRNOTAVAIL";
    else if (/os error 97\b/.test(err.message)) x.code = "EAFNOSUPPORT";
    else if (err instanceof Deno.errors.ConnectionRefused) x.code = "ECONNREFUSED";
    else if (err instanceof Deno.errors.ConnectionReset) x.code = "ECONNRESET";
  }
  return err;
}

export class DenoSocket implements Socket {
  onData: (bytes: Uint8Array) => void = noop;
  onClose: (err?: Error) => void = noop;
  onDrain: () => void = noop;
  #conn: Deno.TcpConn;
  #closed = false;
  #paused = false;
  #wake: (() => void) | null = null;
  readonly #queue = new WriteQueue();
  #writing = false;

  constructor(conn: Deno.TcpConn, readonly remoteAddress: string) {
    this.#conn = conn;
    try {
      conn.setNoDelay(true);
      conn.setKeepAlive(true); // Deno takes no idle time: the kernel's default applies
    } catch {
      // the connection may already be gone; the read loop reports it
    }
    void this.#readLoop();
  }

  async #readLoop(): Promise<void> {
    const conn = this.#conn;
    const buf = new Uint8Array(READ_SIZE);
    let err: Error | undefined;
    try {
      for (;;) {
        if (this.#paused) await new Promise<void>((r) => (this.#wake = r));
        if (this.#closed) return;
        const n = await conn.read(buf);
        if (n === null || this.#closed) break;
        if (this.#paused) await new Promise<void>((r) => (this.#wake = r));
        if (this.#closed) return;
        if (n > 0) this.onData(buf.subarray(0, n));
      }
    } catch (e) {
      err = withCode(e);
    }
    this.#finish(err);
  }

  write(chunks: Uint8Array[], done: (err?: Error) => void): boolean {
    if (this.#closed) {
      queueMicrotask(() => done(new Error("socket closed")));
      return false;
    }
    const ok = this.#queue.push(chunks, done);
    if (!this.#writing) void this.#writeLoop();
    return ok;
  }

  /** Writes what is queued, one write op per queued buffer (write-queue.ts stages small
   * chunks together); write() calls made meanwhile join the loop. */
  async #writeLoop(): Promise<void> {
    this.#writing = true;
    const q = this.#queue;
    try {
      for (;;) {
        const b = q.next();
        if (b === null) break;
        const n = await this.#conn.write(b);
        if (this.#closed) return;
        q.sent(n);
        if (q.settle() && !this.#closed) this.onDrain();
      }
    } catch (e) {
      this.#finish(withCode(e));
    } finally {
      this.#writing = false;
    }
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }

  close(): void {
    this.#finish();
  }

  #finish(err?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
    const w = this.#wake;
    this.#wake = null;
    w?.();
    this.#queue.close(err, () => this.onClose(err));
  }
}
