// The socket contract every runtime adapter implements (node.ts today). The engine
// (chirp.ts) only sees these interfaces; only adapter files import runtime APIs.

/** One TCP connection, as the engine needs it. */
export interface Socket {
  /** Peer IP as text ("127.0.0.1", "::1"); for outgoing sockets the dialled address. */
  readonly remoteAddress: string;
  /** Write the chunks in order as one batch. `done` is called once, when all of them were
   * handed to the kernel, or with the error that stopped them. Returns false when the
   * runtime's write buffer is full: wait for `onDrain` before writing much more. */
  write(chunks: Uint8Array[], done: (err?: Error) => void): boolean;
  /** Stop / restart delivering data (slots full, spec §3.2: TCP pushes back). */
  pause(): void;
  resume(): void;
  /** Close at once (no half-close, spec §5.7). `onClose` follows. */
  close(): void;
  /** Set by the engine. Each call delivers bytes the engine may keep only until it returns. */
  onData: (bytes: Uint8Array) => void;
  /** Set by the engine: the connection is gone (err: why, if it failed). Called once. */
  onClose: (err?: Error) => void;
  /** Set by the engine: the write buffer has room again. */
  onDrain: () => void;
}

export interface Listener {
  /** The bound port (useful with port 0). */
  readonly port: number;
  close(): Promise<void>;
}

export interface ListenOptions {
  host: string;
  port: number;
  backlog: number;
  /** For IPv6 listeners: do not also accept IPv4 (libchirp's IPV6_V6ONLY, spec §1.1). */
  ipv6Only: boolean;
}

export interface Transport {
  /** Runtime name, for diagnostics. */
  readonly name: string;
  /** Listen; every accepted socket goes to onSocket. Rejects with the runtime's error (the
   * engine maps address-in-use to EADDRINUSE). */
  listen(opts: ListenOptions, onSocket: (s: Socket) => void): Promise<Listener>;
  /** Dial host:port. `cb` is called once: with the socket, or with the error. The returned
   * function aborts the attempt (then cb is not called). */
  connect(host: string, port: number, cb: (err: Error | null, s?: Socket) => void): () => void;
}
