// A Socket (transport.ts contract) over a node:net socket, or a node:tls socket (tls/node-tls.ts
// wraps its TLS sockets in it too). Its own module so that the Node transport and the TLS
// wrapper both use it without importing each other.
import type * as net from "node:net";
import type { Socket } from "../transport.ts";

const noop = (): void => {};

export class NodeSocket implements Socket {
  onData: (bytes: Uint8Array) => void = noop;
  onClose: (err?: Error) => void = noop;
  onDrain: () => void = noop;
  #s: net.Socket;
  #err: Error | undefined;
  constructor(s: net.Socket, readonly remoteAddress: string) {
    this.#s = s;
    try {
      s.setNoDelay(true);
      s.setKeepAlive(true, 60_000); // libchirp's CH_TCP_KEEPALIVE (protocol.md §1.1)
    } catch {
      // a TLS socket over a stream (tls/node-tls.ts): its TCP socket has these set already
    }
    s.on("data", this.#data);
    s.on("drain", this.#drain);
    s.on("error", this.#error);
    s.on("close", this.#close);
  }
  #data = (b: Buffer): void => this.onData(b);
  #drain = (): void => this.onDrain();
  #error = (e: Error): void => {
    this.#err ??= e;
  };
  #close = (): void => this.onClose(this.#err);
  /** Hands the node:net socket over (tls/accept.ts gives it to a shared tls.Server): paused,
   * this object's listeners removed; this object is done. */
  release(): net.Socket {
    const s = this.#s;
    s.pause();
    s.off("data", this.#data).off("drain", this.#drain).off("error", this.#error).off("close", this.#close);
    return s;
  }
  write(chunks: Uint8Array[], done: (err?: Error) => void): boolean {
    const s = this.#s;
    if (s.destroyed) {
      queueMicrotask(() => done(new Error("socket destroyed")));
      return false;
    }
    const cb = (err?: Error | null): void => done(err ?? undefined);
    if (chunks.length === 1) return s.write(chunks[0], cb);
    s.cork();
    const last = chunks.length - 1;
    for (let i = 0; i < last; i++) s.write(chunks[i]);
    const ok = s.write(chunks[last], cb);
    s.uncork();
    return ok;
  }
  pause(): void {
    this.#s.pause();
  }
  resume(): void {
    this.#s.resume();
  }
  close(): void {
    this.#s.destroy();
  }
}

