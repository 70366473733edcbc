// The Transport (transport.ts) on Deno's native TCP API (Deno.listen / Deno.connect and the
// conn.read / conn.write ops): sockets in socket.ts, listeners in listeners.ts. Kept apart from
// the entry point (deno/entry.ts) so that tests can use it without loading the engine or the
// wasm core.
import type { ListenOptions, Listener, Socket, TlsClientConfig, Transport } from "../transport.ts";
import { tlsConnect, withTls } from "../tls/node-tls.ts";
import { DenoSocket, withCode } from "./socket.ts";
import { listenDeno } from "./listeners.ts";
import { dial } from "../dial.ts";
// Deno.resolveDns asks DNS servers only (no /etc/hosts); node:dns lookup is getaddrinfo.
import { lookupAll } from "../node/resolve.ts";

export const denoTransport: Transport = {
  async listen(opts: ListenOptions, onPlainSocket: (s: Socket) => void): Promise<Listener> {
    // TLS per connection on node:tls over the accepted native socket (tls/node-tls.ts says why).
    return listenDeno(opts, withTls(opts, onPlainSocket));
  },

  connect(host: string, port: number, cb: (err: Error | null, s?: Socket) => void, tls?: TlsClientConfig): () => void {
    if (tls) return tlsConnect(host, port, tls, cb); // node:tls: tls/node-tls.ts says why
    return dial<DenoSocket>(cb, (attempt) => {
      const ac = new AbortController();
      Deno.connect({ hostname: host, port, signal: ac.signal }).then(
        (conn) => void attempt.ok(new DenoSocket(conn, host)),
        (e) => attempt.fail(withCode(e)),
      );
      return () => ac.abort();
    });
  },
  resolve: lookupAll,
};
