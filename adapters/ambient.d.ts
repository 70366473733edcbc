// Hand-written ambient types for exactly the Deno globals this package uses (deno/transport.ts,
// runtime.ts), so that tsc type-checks them with only @types/node installed. A subset of Deno 2;
// Deno does not read this file (deno check has its own deno.ns lib). Bun's: bun/bun-types.d.ts.

declare namespace Deno {
  interface NetAddr {
    transport: "tcp";
    hostname: string;
    port: number;
  }
  interface TcpConn {
    readonly localAddr: NetAddr;
    readonly remoteAddr: NetAddr;
    /** Resolves to the number of bytes read, or null at EOF. */
    read(p: Uint8Array): Promise<number | null>;
    /** Resolves to the number of bytes written (possibly fewer than p.byteLength). */
    write(p: Uint8Array): Promise<number>;
    close(): void;
    setNoDelay(noDelay?: boolean): void;
    setKeepAlive(keepAlive?: boolean): void;
  }
  interface TcpListener {
    readonly addr: NetAddr;
    accept(): Promise<TcpConn>;
    close(): void;
  }
  function listen(options: { hostname?: string; port?: number; tcpBacklog?: number; transport?: "tcp" }): TcpListener;
  function connect(options: { hostname?: string; port: number; signal?: AbortSignal; transport?: "tcp" }): Promise<TcpConn>;
  namespace errors {
    class AddrInUse extends Error {}
    class AddrNotAvailable extends Error {}
    class ConnectionRefused extends Error {}
    class ConnectionReset extends Error {}
    class BadResource extends Error {}
    class Interrupted extends Error {}
  }
}
