// The Transport (transport.ts) on node:net. Kept apart from the entry point (node.ts) so that
// tests and the other runtimes can use it without loading the engine or the wasm core.
import * as net from "node:net";
import type { ListenOptions, Listener, Socket, TlsClientConfig, Transport } from "./transport.ts";
import { tlsConnect, withTls } from "./tls-node.ts";

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
      s.setKeepAlive(true, 60_000); // libchirp's CH_TCP_KEEPALIVE (spec §1.1)
    } catch {
      // a TLS socket over a stream (tls-node.ts): its TCP socket has these set already
    }
    s.on("data", (b: Buffer) => this.onData(b));
    s.on("drain", () => this.onDrain());
    s.on("error", (e) => {
      this.#err ??= e;
    });
    s.on("close", () => this.onClose(this.#err));
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

export const nodeTransport: Transport = {
  name: "node",
  listen(opts: ListenOptions, onPlainSocket: (s: Socket) => void): Promise<Listener> {
    const onSocket = withTls(opts, onPlainSocket); // TLS per connection (tls-node.ts)
    return new Promise((resolve, reject) => {
      const server = net.createServer((s) => {
        const addr = s.remoteAddress;
        if (!addr) {
          s.destroy();
          return;
        }
        onSocket(new NodeSocket(s, addr));
      });
      server.once("error", reject);
      server.listen({ host: opts.host, port: opts.port, backlog: opts.backlog, ipv6Only: opts.ipv6Only }, () => {
        server.off("error", reject);
        server.on("error", noop);
        const port = (server.address() as net.AddressInfo).port;
        resolve({
          port,
          close: () => new Promise<void>((res) => server.close(() => res())),
        });
      });
    });
  },
  connect(host: string, port: number, cb: (err: Error | null, s?: Socket) => void, tls?: TlsClientConfig): () => void {
    if (tls) return tlsConnect(host, port, tls, cb);
    let settled = false;
    const s = net.connect({ host, port });
    const onError = (e: Error): void => {
      if (settled) return;
      settled = true;
      s.destroy();
      cb(e);
    };
    s.once("error", onError);
    s.once("connect", () => {
      if (settled) return;
      settled = true;
      s.off("error", onError);
      cb(null, new NodeSocket(s, host));
    });
    return () => {
      settled = true;
      s.destroy();
    };
  },
};
