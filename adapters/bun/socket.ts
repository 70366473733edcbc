// A Socket (transport.ts contract) on a Bun socket: writes through the shared write queue,
// reads paused and resumed with the socket. Only bun/ touches the Bun global.
//
// Writing: Bun's socket.write(bytes) sends at once and returns how many bytes the kernel took;
// it keeps no rest. This adapter queues every write() in the shared write queue (write-queue.ts:
// chunks up to 16 KiB staged together, so many small frames go out in one send; larger chunks
// sent from their own memory) and sends the queue once per microtask (like cork/uncork per
// tick). When the
// kernel takes less than offered, the rest waits for the `drain` handler. `done` is called once
// the call's last byte was taken by the kernel (never synchronously inside write()).
// Reading: socket.pause()/resume() exist in Bun 1.4 and stop polling the socket for reads
// (checked: a paused peer receives nothing, the sender's send goes partial and its drain waits
// for resume()). A dialled socket is held paused until connect's cb has run, so no byte arrives
// before the engine has set onData.
// close() uses socket.end(): the peer sees an orderly close (as with Node's destroy());
// terminate() would reset the connection. Bun.listen has an ipv6Only option (IPV6_V6ONLY) but no
// backlog option: ListenOptions.backlog is not applied (Bun uses its own default).
/// <reference path="./bun-types.d.ts" />
import type { Socket } from "../transport.ts";
import { WriteQueue } from "../write-queue.ts";

const noop = (): void => {};

export class BunSocket implements Socket {
  onData: (bytes: Uint8Array) => void = noop;
  onClose: (err?: Error) => void = noop;
  onDrain: () => void = noop;
  #s: Bun.Socket<BunSocket | undefined>;
  #closed = false;
  #err: Error | undefined;
  readonly #queue = new WriteQueue();
  /** A flush is queued as a microtask. */
  #scheduled = false;
  /** The kernel took less than offered: wait for the drain handler. */
  #blocked = false;
  #paused = false;

  constructor(s: Bun.Socket<BunSocket | undefined>, readonly remoteAddress: string) {
    this.#s = s;
    s.data = this;
    try {
      s.setNoDelay(true);
      s.setKeepAlive(true, 60_000); // libchirp's CH_TCP_KEEPALIVE (protocol.md §1.1)
    } catch {
      // the socket may already be closing; the close handler reports it
    }
  }

  write(chunks: Uint8Array[], done: (err?: Error) => void): boolean {
    if (this.#closed) {
      queueMicrotask(() => done(new Error("socket closed")));
      return false;
    }
    const ok = this.#queue.push(chunks, done);
    if (!this.#blocked && !this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#flushTask);
    }
    return ok;
  }

  #flushTask = (): void => {
    this.#scheduled = false;
    this._flush();
  };

  /** Sends what is queued, as far as the kernel takes it (also the drain handler). */
  _flush(): void {
    if (this.#closed) return;
    this.#blocked = false;
    const q = this.#queue;
    const s = this.#s;
    for (let b = q.next(); b !== null; b = q.next()) {
      const n = s.write(b);
      q.sent(n);
      if (n < b.byteLength) {
        this.#blocked = true;
        break;
      }
    }
    if (q.settle() && !this.#closed) this.onDrain();
  }

  pause(): void {
    this.#paused = true;
    this.#s.pause();
  }

  resume(): void {
    this.#paused = false;
    if (!this.#closed) this.#s.resume();
  }

  /** After connect's cb: start reading unless the engine paused meanwhile. */
  _release(): void {
    if (!this.#paused && !this.#closed) this.#s.resume();
  }

  close(): void {
    if (this.#closed) return;
    this.#s.end(); // calls the close handler (_closed) synchronously
    this._closed(undefined);
  }

  _error(e: Error): void {
    this.#err ??= e;
  }

  /** The close handler (or close()). */
  _closed(err: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    const why = err ?? this.#err;
    this.#queue.close(why, () => this.onClose(why));
  }
}
