// Hand-written ambient types for exactly the Deno and Bun globals this package uses
// (deno/transport.ts, bun/transport.ts, runtime.ts), so that tsc type-checks them with only @types/node
// installed. They describe a subset of Deno 2 and Bun 1.4; neither runtime reads this file.

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

declare namespace Bun {
  interface Socket<Data = undefined> {
    data: Data;
    readonly remoteAddress: string;
    /** Sends at once; returns the bytes the kernel took (-1 when closed); keeps no rest. */
    write(data: Uint8Array): number;
    /** Closes normally (FIN); the close handler runs before this returns. */
    end(): void;
    pause(): void;
    resume(): void;
    setNoDelay(noDelay?: boolean): boolean;
    setKeepAlive(enable?: boolean, initialDelay?: number): boolean;
  }
  interface SocketHandler<Data> {
    open?(socket: Socket<Data>): void;
    data?(socket: Socket<Data>, bytes: Uint8Array): void;
    drain?(socket: Socket<Data>): void;
    close?(socket: Socket<Data>, error?: Error): void;
    error?(socket: Socket<Data>, error: Error): void;
    connectError?(socket: Socket<Data>, error: Error): void;
  }
  interface TCPSocketListener {
    readonly port: number;
    stop(closeActiveConnections?: boolean): void;
  }
  function listen<Data = undefined>(options: {
    hostname: string;
    port: number;
    ipv6Only?: boolean;
    data?: Data;
    socket: SocketHandler<Data>;
  }): TCPSocketListener;
  function connect<Data = undefined>(options: {
    hostname: string;
    port: number;
    data?: Data;
    socket: SocketHandler<Data>;
  }): Promise<Socket<Data>>;
  namespace dns {
    function lookup(hostname: string, options?: { backend?: "system" | "libc" | "c-ares" | "getaddrinfo" }): Promise<{ address: string; family: 4 | 6 }[]>;
  }
}
