// The Transport (transport.ts) on Bun's native TCP API (Bun.listen / Bun.connect with socket
// handlers); the sockets are in socket.ts. Kept apart from the entry point (bun/entry.ts) so
// that tests can use it without loading the engine or the wasm core.
//
// Bun.listen has an ipv6Only option (IPV6_V6ONLY) but no backlog option: ListenOptions.backlog
// is not applied (Bun uses its own default).
/// <reference path="./bun-types.d.ts" />
import type { ListenOptions, Listener, Socket, TlsClientConfig, Transport } from "../transport.ts";
import { tlsConnect, withTls } from "../tls/node-tls.ts";
import { BunSocket } from "./socket.ts";
import { dial } from "../dial.ts";
import { lookupAll } from "./resolve.ts";

const noop = (): void => {};

const unmap = (a: string): string => (a.startsWith("::ffff:") && a.includes(".") ? a.slice(7) : a);
const isV4 = (h: string): boolean => /^\d{1,3}(\.\d{1,3}){3}$/.test(h);

type BunSock = Bun.Socket<BunSocket | undefined>;

const handlers = {
  data(s: BunSock, bytes: Uint8Array): void {
    s.data?.onData(bytes);
  },
  drain(s: BunSock): void {
    s.data?._flush();
  },
  close(s: BunSock, err?: Error): void {
    s.data?._closed(err);
  },
  error(s: BunSock, err: Error): void {
    s.data?._error(err);
  },
};

export const bunTransport: Transport = {
  async listen(opts: ListenOptions, onPlainSocket: (s: Socket) => void): Promise<Listener> {
    // TLS per connection on node:tls over the accepted native socket (tls/node-tls.ts says why).
    const onSocket = withTls(opts, onPlainSocket);
    const v4 = isV4(opts.host);
    const server = Bun.listen<BunSocket | undefined>({
      hostname: opts.host,
      port: opts.port,
      ipv6Only: opts.ipv6Only,
      socket: {
        ...handlers,
        open(s: BunSock): void {
          const addr = s.remoteAddress;
          if (!addr) {
            s.end();
            return;
          }
          onSocket(new BunSocket(s, v4 ? unmap(addr) : addr));
        },
      },
    });
    let closed = false;
    return {
      port: server.port,
      close: async () => {
        if (closed) return;
        closed = true;
        server.stop(false); // stop accepting; open connections stay
      },
    };
  },

  connect(host: string, port: number, cb: (err: Error | null, s?: Socket) => void, tls?: TlsClientConfig): () => void {
    if (tls) return tlsConnect(host, port, tls, cb); // node:tls (Bun's own TLS): tls/node-tls.ts says why
    return dial<BunSocket>(cb, (attempt) => {
      let sock: BunSocket | undefined;
      Bun.connect<BunSocket | undefined>({
        hostname: host,
        port,
        data: undefined,
        socket: {
          ...handlers,
          connectError: noop,
          open(s: BunSock): void {
            // Hold reads until the engine has the socket (and its onData) from cb.
            s.pause();
            sock = new BunSocket(s, host);
          },
        },
      }).then(
        (s) => {
          sock ??= new BunSocket(s, host);
          if (attempt.ok(sock)) sock._release();
        },
        (e: Error) => attempt.fail(e),
      );
      return () => sock?.close();
    });
  },
  resolve: lookupAll,
};
