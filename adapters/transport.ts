// The socket contract every runtime adapter implements (node/, deno/, bun/ transport.ts).
// The engine (engine/) only sees these interfaces; only the runtime folders import runtime APIs.

/** One TCP connection, as the engine needs it. */
export interface Socket {
  /** Peer IP as text ("127.0.0.1", "::1"); for outgoing sockets the dialled address. */
  readonly remoteAddress: string;
  /** Write the chunks in order as one batch. `done` is called once, when all of them were
   * handed to the kernel, or with the error that stopped them. Returns false when the
   * runtime's write buffer is full: wait for `onDrain` before writing much more. */
  write(chunks: Uint8Array[], done: (err?: Error) => void): boolean;
  /** Stop delivering data (slots full, protocol.md §3.2: TCP pushes back); bytes already
   * read may still arrive in the current onData call. */
  pause(): void;
  /** Deliver data again after `pause()` (a slot was released). */
  resume(): void;
  /** Close at once (no half-close, protocol.md §5.7). `onClose` follows. */
  close(): void;
  /** Set by the engine. Each call delivers bytes the engine may keep only until it returns. */
  onData: (bytes: Uint8Array) => void;
  /** Set by the engine: the connection is gone (err: why, if it failed). Called once. */
  onClose: (err?: Error) => void;
  /** Set by the engine: the write buffer has room again. */
  onDrain: () => void;
}

/** A listening TCP socket, as `Transport.listen` resolves it. */
export interface Listener {
  /** The bound port (useful with port 0). */
  readonly port: number;
  /** Stop accepting connections. Sockets already handed to onSocket stay open (the engine
   * closes them itself); the promise may wait for them (Node's server.close does). */
  close(): Promise<void>;
}

/** TLS material (PEM text), as resolved from the config (protocol.md §1.3). */
export interface TlsClientConfig {
  /** The private key (one PEM block). */
  key: string;
  /** Our certificate, then any intermediate certificates (PEM). */
  cert: string;
  /** Trust anchors: the peer's chain must lead to one of these (PEM, one per entry). */
  ca: string[];
  /** PEM DH parameters for the TLS 1.2 DHE suites (used by a TLS server). */
  dhParams?: string;
}

/** TLS material and rules for the listening side: the client material plus the handshake
 * timeout and the report of failed handshakes. */
export interface TlsServerConfig extends TlsClientConfig {
  /** An incoming TLS handshake not finished after this many ms is abandoned (TIMEOUT). */
  handshakeTimeoutMs: number;
  /** A failed incoming TLS handshake; the error has `chirpCode` "TLS_ERROR" or "TIMEOUT"
   * ("ENOMEM": refused by `admit`). It costs only that connection. */
  onError: (err: Error) => void;
  /** Asked before an incoming TLS handshake starts: a handshake in progress holds a socket, so
   * it counts against the node's connection limit. Returns the function that gives the place
   * back (called when the handshake ends, before the socket is handed over), or null: no room,
   * the socket is closed. Absent: every handshake starts. */
  admit?: () => (() => void) | null;
}

/** Errors a transport produces may carry the ChirpError code the engine should use. */
export type TransportError = Error & {
  chirpCode?: "TLS_ERROR" | "TIMEOUT" | "ENOMEM";
  /** For a failed incoming TLS handshake: the peer's address (as onSocket's remoteAddress). */
  peerAddress?: string;
};

/** What `Transport.listen` binds and how it treats accepted connections. */
export interface ListenOptions {
  /** The address to bind (an IP address text, "0.0.0.0" / "::" for every interface). */
  host: string;
  /** The TCP port to bind; 0 lets the system pick one (then read `Listener.port`). */
  port: number;
  /** The kernel's queue length for connections not yet accepted (listen(2) backlog). */
  backlog: number;
  /** For IPv6 listeners: do not also accept IPv4 (libchirp's IPV6_V6ONLY, protocol.md §1.1). */
  ipv6Only: boolean;
  /** TLS for incoming connections; absent: every accepted socket is handed over as it is. */
  tls?: TlsServerConfig;
  /** With `tls`: whether the connection from `peerAddress` (the text onSocket's socket would
   * carry as remoteAddress) is TLS (protocol.md §1.2). True: the transport runs the TLS server
   * handshake and calls onSocket only once it completed; false: plaintext. */
  encryptFrom?: (peerAddress: string) => boolean;
}

/** A runtime's sockets (node/, deno/, bun/ transport.ts; `setDefaultTransport` registers
 * one): listening, dialling and optional name resolution. Implement it to run Chirp over
 * another socket API. */
export interface Transport {
  /** Listen; every accepted socket goes to onSocket. Rejects with the runtime's error (the
   * engine maps address-in-use to EADDRINUSE). */
  listen(opts: ListenOptions, onSocket: (s: Socket) => void): Promise<Listener>;
  /** Dial host:port. `cb` is called once: with the socket, or with the error. The returned
   * function aborts the attempt (then cb is not called). With `tls` the socket is a TLS
   * client (mutual: it presents tls.cert, verifies the peer against tls.ca, no hostname
   * check) and cb gets it only once the TLS handshake completed; TLS failures carry
   * `chirpCode` "TLS_ERROR". */
  connect(host: string, port: number, cb: (err: Error | null, s?: Socket) => void, tls?: TlsClientConfig): () => void;
  /** The runtime's host name resolver (node|deno|bun/resolve.ts): the addresses of `host`, in
   * the order to try them. Absent: only config.resolve resolves names. */
  resolve?(host: string): Promise<string[]>;
}
