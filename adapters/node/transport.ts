// The Transport (transport.ts) on node:net: listening and dialling for Node. Kept apart from
// the entry point (node/entry.ts) so that tests can use it without loading the engine or the
// wasm core.
import * as net from "node:net";
import type { ListenOptions, Listener, Socket, TlsClientConfig, Transport } from "../transport.ts";
import { tlsConnect, withTls } from "../tls/node-tls.ts";
import { NodeSocket } from "./socket.ts";
import { dial } from "../dial.ts";
import { lookupAll } from "./resolve.ts";

const noop = (): void => {};

export const nodeTransport: Transport = {
  listen(opts: ListenOptions, onPlainSocket: (s: Socket) => void): Promise<Listener> {
    const onSocket = withTls(opts, onPlainSocket); // TLS per connection (tls/node-tls.ts)
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
    return dial<NodeSocket>(cb, (attempt) => {
      const s = net.connect({ host, port });
      const onError = (e: Error): void => {
        s.destroy();
        attempt.fail(e);
      };
      s.once("error", onError);
      s.once("connect", () => {
        s.off("error", onError);
        attempt.ok(new NodeSocket(s, host));
      });
      return () => s.destroy();
    });
  },
  resolve: lookupAll,
};
