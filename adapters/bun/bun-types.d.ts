// Hand-written ambient types for exactly the Bun globals this package uses (bun/socket.ts,
// bun/transport.ts), referenced by them so that tsc and deno check (JSR) type-check them without
// Bun's own types. A subset of Bun 1.4; Bun does not read this file.

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
