// The Chirp node: the runtime-neutral engine between the user's API, the wasm core and a
// runtime's sockets (transport.ts). It keeps what JavaScript must own (promises, send queues,
// sockets, payload bytes) and asks the core for every protocol decision: framing, handshake,
// slots, serials, ACK matching, NOOPs and all timers (assembly/ABI.md).
//
// Data flow per connection: socket bytes -> feed() once per read -> events -> Messages;
// send queue -> send() per message into the OUT area -> one socket write per batch.
import { Core, EV, EV_SIZE, EVENT, PEER_FAULT, ST } from "./core/core.ts";
import { ChirpError, type ChirpErrorCode } from "./errors.ts";
import { resolveConfig, isIPv4, type ChirpConfig, type ResolvedConfig } from "./config.ts";
import { Message, type MessageOwner } from "./message.ts";
import type { Listener, ListenOptions, Socket, Transport, TransportError } from "./transport.ts";
import { encryptionNeeded, looksLikeTls, PEER_TLS, plaintextTail } from "./encryption.ts";
import { Tally, toHex, type ChirpEvents, type ChirpStats, type RemoteStats } from "./monitor.ts";

let registeredTransport: Transport | undefined;

/** Runtime entry points (node.ts, ...) register their transport here. */
export function setDefaultTransport(t: Transport): void {
  registeredTransport = t;
}

/** Where a message goes: "host:port", "[v6]:port", or an object. */
export type Target = string | { address: string; port: number };

export interface SendOptions {
  /** Upper-layer header bytes (at most 65535). */
  header?: Uint8Array | string;
  /** The message identity (16 bytes); default random. A reply reuses the request's. */
  identity?: Uint8Array;
}

const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();
/** Payloads up to this size are copied into the core's OUT area; larger ones are written
 * from their own buffers right after their 27-byte header (no copy). */
const INLINE_MAX = 16 * 1024;
/** A write batch is cut at about this many bytes so that one burst does not build one huge
 * buffer. */
const BATCH_BYTES = 256 * 1024;
/** Write buffers kept for reuse per node. */
const OUT_POOL = 8;

const now = (): number => performance.now();

/** Runs `fn` as a microtask. Not queueMicrotask: Node wraps every call of that in an
 * AsyncResource (a few hundred ns a time, and it runs once per send in synchronous mode). */
const RESOLVED = Promise.resolve();
const microtask = (fn: () => void): void => void RESOLVED.then(fn);

/** Random message identities, drawn from a pool filled 64 KiB at a time (one
 * getRandomValues call per message costs more than the rest of a send). A send keeps the pool
 * and an offset; the identity's own Uint8Array is made only when its promise settles, so a
 * queued send holds one object less. */
let idPool = new Uint8Array(0);
let idPos = 0;

/** The executor of every send's Promise: no closure per send (read right after `new`). */
let newResolve: (id: Uint8Array) => void = () => {};
let newReject: (e: Error) => void = () => {};
function executor(res: (id: Uint8Array) => void, rej: (e: Error) => void): void {
  newResolve = res;
  newReject = rej;
}

/** Parsed "address:port" strings (send() is called with the same few targets). */
const targetCache = new Map<string, { address: string; port: number }>();

function toBytes(v: Uint8Array | string | undefined, what: string): Uint8Array {
  if (v === undefined) return EMPTY;
  if (typeof v === "string") return encoder.encode(v);
  if (v instanceof Uint8Array) return v;
  throw new ChirpError("VALUE_ERROR", `${what} must be a Uint8Array or a string`);
}

function normalizeAddress(a: string): string | null {
  if (a === "localhost") return "127.0.0.1";
  if (isIPv4(a)) return a;
  if (a.includes(":")) {
    try {
      const h = new URL(`http://[${a}]/`).hostname;
      return h.slice(1, -1);
    } catch {
      return null;
    }
  }
  return null;
}

function parseTarget(to: Target): { address: string; port: number } {
  if (typeof to === "string") {
    const hit = targetCache.get(to);
    if (hit) return hit;
    const t = parseTargetUncached(to);
    if (targetCache.size >= 1024) targetCache.clear();
    targetCache.set(to, t);
    return t;
  }
  return parseTargetUncached(to);
}

function parseTargetUncached(to: Target): { address: string; port: number } {
  let address: string;
  let port: number;
  if (typeof to === "string") {
    const m = /^\[([^\]]+)\]:(\d+)$/.exec(to) ?? /^([^:]+):(\d+)$/.exec(to);
    if (!m) throw new ChirpError("VALUE_ERROR", `target "${to}" is not "address:port" or "[ipv6]:port"`);
    address = m[1];
    port = Number(m[2]);
  } else if (to && typeof to === "object") {
    address = to.address;
    port = to.port;
  } else {
    throw new ChirpError("VALUE_ERROR", "target must be \"address:port\" or { address, port }");
  }
  const norm = typeof address === "string" ? normalizeAddress(address) : null;
  if (norm === null) throw new ChirpError("VALUE_ERROR", `address "${address}" is not an IPv4 or IPv6 address (or "localhost")`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ChirpError("VALUE_ERROR", `port ${port} is out of range: 1 to 65535`);
  return { address: norm, port };
}

/** One send, from send() until its promise settles. */
class SendOp {
  written = false;
  acked = false;
  done = false;
  /** Synchronous mode: when the frame went into a write (for the ACK round trip). */
  at = 0;
  constructor(
    readonly remote: Remote,
    /** The identity's bytes are `ids[idAt .. idAt + 16]` (the pool, or the caller's array). */
    readonly ids: Uint8Array,
    readonly idAt: number,
    readonly header: Uint8Array,
    readonly data: Uint8Array,
    readonly resolve: (id: Uint8Array) => void,
    readonly reject: (e: Error) => void,
  ) {}
  get identity(): Uint8Array {
    return this.idAt === 0 && this.ids.length === 16 ? this.ids : this.ids.subarray(this.idAt, this.idAt + 16);
  }
}

/** Copies `src` into `dst` at `at`: a plain loop for the short arrays of the hot path (cheaper
 * than TypedArray.set's call overhead there), set() for the rest. */
function copySmall(dst: Uint8Array, src: Uint8Array, at: number): void {
  const n = src.length;
  if (n > 64) {
    dst.set(src, at);
    return;
  }
  for (let i = 0; i < n; i++) dst[at + i] = src[i];
}

function settle(op: SendOp, err?: Error): void {
  if (op.done) return;
  op.done = true;
  if (err) {
    op.remote.tally.sendError((err as ChirpError).code ?? "FATAL");
    op.reject(err);
  } else op.resolve(op.identity);
}

interface Partial {
  slot: number;
  identity: Uint8Array;
  serial: number;
  type: number;
  header: Uint8Array;
  data: Uint8Array;
}

class Conn {
  sock: Socket | null = null;
  remote: Remote | null = null;
  ready = false;
  closed = false;
  paused = false;
  needDrain = false;
  /** Unconsumed input kept while paused for a slot (spec §3.2). */
  pending: Uint8Array | null = null;
  partial: Partial | null = null;
  /** Bytes to write once the dial completes (our handshake). */
  pre: Uint8Array[] = [];
  /** Write batches not yet completed, in order; each holds the sends it carries. */
  batches: SendOp[][] = [];
  writesPending = 0;
  peerPort = 0;
  remoteIdentity: Uint8Array = EMPTY;
  cancelDial: (() => void) | null = null;
  /** Releases so far (lets #feed see that a handler freed slots). */
  released = 0;
  /** A plaintext connection whose first bytes are still to come: check them for TLS. */
  sniff = false;
  /** The peer speaks TLS: input is ignored until the connection closes. */
  mismatch = false;
  /** Received messages not yet released. */
  held = 0;
  constructor(
    readonly idx: number,
    readonly gen: number,
    readonly outgoing: boolean,
    readonly address: string,
  ) {}
}

class Remote {
  queue: SendOp[] = [];
  qHead = 0;
  /** Synchronous mode: the message written and waiting for its ACK. */
  inflight: SendOp | null = null;
  dialing: Conn | null = null;
  conns = new Set<Conn>();
  freed = false;
  /** The peer node's identity from its last handshake (hex). */
  peerIdentity: string | null = null;
  readonly tally: Tally;
  constructor(
    readonly idx: number,
    readonly key: string,
    readonly address: string,
    readonly port: number,
    total: Tally,
  ) {
    this.tally = new Tally(total);
  }
  get queued(): number {
    return this.queue.length - this.qHead;
  }
}

/** A Chirp node. Start one with `Chirp.start(config)`. */
export class Chirp implements MessageOwner, AsyncIterable<Message> {
  /** The resolved configuration. */
  readonly config: Readonly<ResolvedConfig>;
  /** The port this node listens on and announces. */
  readonly port: number;
  /** This node's 16-byte identity. */
  readonly identity: Uint8Array;
  readonly #core: Core;
  readonly #transport: Transport;
  readonly #onMessage?: (msg: Message) => void;
  readonly #onError: (err: Error) => void;
  #listeners: Listener[] = [];
  readonly #conns: (Conn | undefined)[] = [];
  readonly #remotes = new Map<string, Remote>();
  readonly #remoteByIdx: (Remote | undefined)[] = [];
  readonly #remoteByTarget = new Map<string, Remote>();
  #dirty = new Set<Remote>();
  #pumpScheduled = false;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #timerAt = Infinity;
  #closing: Promise<void> | null = null;
  #openSockets = 0;
  #socketsClosed: (() => void) | null = null;
  #inbox: Message[] = [];
  #waiters: ((r: IteratorResult<Message>) => void)[] = [];
  readonly #tally = new Tally();
  /** Free write buffers of outCap bytes (at most OUT_POOL). */
  readonly #outPool: Uint8Array[] = [];
  readonly #started = now();
  #listenersOf: { [K in keyof ChirpEvents]: Set<(e: ChirpEvents[K]) => void> } = { open: new Set(), close: new Set(), identity: new Set() };

  private constructor(cfg: ResolvedConfig, core: Core, transport: Transport, port: number, user: ChirpConfig) {
    this.config = Object.freeze({ ...cfg, port });
    this.port = port;
    this.identity = cfg.identity.slice();
    this.#core = core;
    this.#transport = transport;
    this.#onMessage = user.onMessage;
    this.#onError = user.onError ?? (() => {});
  }

  /** Validates the config, listens (IPv4 and IPv6) and returns the running node. */
  static async start(config: ChirpConfig = {}, transport?: Transport): Promise<Chirp> {
    const cfg = resolveConfig(config);
    const t = transport ?? registeredTransport;
    if (!t) throw new ChirpError("FATAL", "no socket transport registered: import Chirp from the package entry for your runtime");
    const early: Socket[] = [];
    let node: Chirp | undefined;
    const onSocket = (s: Socket): void => {
      if (node) node.#accept(s);
      else early.push(s);
    };
    const listeners: Listener[] = [];
    let port = cfg.port;
    // The core is configured once the port is known; its config record already answers the
    // connect timeout, which the TLS handshake of incoming connections uses too.
    const core = new Core();
    core.writeConfig({
      maxConns: cfg.maxConnections,
      maxRemotes: cfg.maxRemotes,
      maxSlots: cfg.maxSlots,
      synchronous: cfg.synchronous,
      maxMsgSize: cfg.maxMsgSize,
      timeoutMs: cfg.timeout * 1000,
      reuseMs: cfg.reuseTime * 1000,
      bufSize: cfg.bufferSize,
      port,
      identity: cfg.identity,
    });
    // TLS for incoming connections, decided per connection by the transport (spec §1.2).
    const userOnError = config.onError ?? (() => {});
    const tlsOpts: Pick<ListenOptions, "tls" | "encryptFrom"> = cfg.tls && cfg.encryption !== "never" ? {
      tls: {
        ...cfg.tls,
        handshakeTimeoutMs: core.x.connectTimeout(),
        onError: (e: TransportError) => userOnError(new ChirpError(e.chirpCode ?? "TLS_ERROR", e.message, { cause: e })),
      },
      encryptFrom: (a) => encryptionNeeded(cfg.encryption, normalizeAddress(a) ?? a),
    } : {};
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          if (cfg.bindV4 !== null) {
            const l = await t.listen({ host: cfg.bindV4, port, backlog: cfg.backlog, ipv6Only: false, ...tlsOpts }, onSocket);
            listeners.push(l);
            port = l.port;
          }
          if (cfg.bindV6 !== null) {
            try {
              const l = await t.listen({ host: cfg.bindV6, port, backlog: cfg.backlog, ipv6Only: true, ...tlsOpts }, onSocket);
              listeners.push(l);
              port = l.port;
            } catch (e) {
              const code = (e as { code?: string }).code;
              const noV6 = code === "EAFNOSUPPORT" || code === "EADDRNOTAVAIL";
              if (!(noV6 && !cfg.bindV6Explicit && cfg.bindV4 !== null)) throw e;
            }
          }
          break;
        } catch (e) {
          await Promise.all(listeners.splice(0).map((l) => l.close()));
          const code = (e as { code?: string }).code;
          // Port 0: the IPv4 port the system picked may be taken on IPv6; pick again.
          if (cfg.port === 0 && code === "EADDRINUSE" && attempt < 8) {
            port = 0;
            continue;
          }
          throw e;
        }
      }
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === "EADDRINUSE") throw new ChirpError("EADDRINUSE", `port ${cfg.port} is already in use`, { cause: e });
      if (e instanceof ChirpError) throw e;
      throw new ChirpError("EADDRINUSE", `cannot listen on port ${cfg.port}: ${(e as Error).message}`, { cause: e });
    }
    try {
      core.setPort(port);
      core.configure();
    } catch (e) {
      await Promise.all(listeners.map((l) => l.close()));
      throw new ChirpError("ENOMEM", `cannot set up the protocol core: ${(e as Error).message}`, { cause: e });
    }
    node = new Chirp(cfg, core, t, port, config);
    node.#listeners = listeners;
    for (const s of early) node.#accept(s);
    return node;
  }

  /** Open connections (incoming and outgoing, including ones still dialling). */
  get connectionCount(): number {
    let n = 0;
    for (const c of this.#conns) if (c) n++;
    return n;
  }

  /** Bytes of wasm memory the core uses; fixed after start (it never grows). */
  get coreMemoryBytes(): number {
    return this.#core.memoryBytes;
  }

  // ---------------------------------------------------------------- monitoring

  /** A snapshot of the node's counters, in total and per remote (monitor.ts). */
  stats(): ChirpStats {
    const perRemote: RemoteStats[] = [];
    let slots = 0;
    let queued = 0;
    let unacked = 0;
    for (const r of this.#remoteByIdx) {
      if (!r) continue;
      let held = 0;
      for (const c of r.conns) held += c.held;
      const live = { slotsInUse: held, queued: r.queued, unacked: r.inflight ? 1 : 0, connections: r.conns.size };
      queued += live.queued;
      unacked += live.unacked;
      perRemote.push({ address: r.address, port: r.port, identity: r.peerIdentity, ...r.tally.snapshot(live) });
    }
    for (const c of this.#conns) if (c) slots += c.held;
    const totals = this.#tally.snapshot({ slotsInUse: slots, queued, unacked, connections: this.connectionCount });
    return {
      time: Date.now(),
      uptimeMs: now() - this.#started,
      identity: toHex(this.identity),
      port: this.port,
      synchronous: this.config.synchronous,
      remotes: this.#remoteCount(),
      coreMemoryBytes: this.#core.memoryBytes,
      ...totals,
      perRemote,
    };
  }

  /** Listens for connection events: "open" (handshake done), "close" (with the error code,
   * null when orderly) and "identity" (a peer restarted). Returns a function that stops
   * listening. A listener that throws is reported to onError. */
  on<K extends keyof ChirpEvents>(type: K, listener: (e: ChirpEvents[K]) => void): () => void {
    const set = this.#listenersOf[type];
    if (!set) throw new ChirpError("VALUE_ERROR", `unknown event "${String(type)}": open, close or identity`);
    set.add(listener);
    return () => void set.delete(listener);
  }

  #emit<K extends keyof ChirpEvents>(type: K, e: ChirpEvents[K]): void {
    for (const l of this.#listenersOf[type]) {
      try {
        l(e);
      } catch (err) {
        this.#onError(err as Error);
      }
    }
  }

  // ---------------------------------------------------------------- sending

  /**
   * Sends `data` to `to`. Connects on first use and reuses the connection both ways.
   * Resolves with the message identity: asynchronous mode once the frame was handed to the
   * kernel, synchronous mode once the receiver released it (spec §4.2). Rejects with a
   * ChirpError: TIMEOUT, CANNOT_CONNECT, PROTOCOL_ERROR, SHUTDOWN, ENOMEM, VALUE_ERROR.
   */
  send(to: Target, data?: Uint8Array | string, options?: SendOptions): Promise<Uint8Array> {
    try {
      if (this.#closing) throw new ChirpError("SHUTDOWN", "this node is closing");
      // Hot path: the same target string maps to the same live remote.
      if (typeof to === "string") {
        const r = this.#remoteByTarget.get(to);
        if (r !== undefined && !r.freed) return this.#enqueue(r, toBytes(data, "data"), options);
      }
      const { address, port } = parseTarget(to);
      const r = this.#remote(address, port);
      if (typeof to === "string") {
        if (this.#remoteByTarget.size >= 1024) this.#remoteByTarget.clear();
        this.#remoteByTarget.set(to, r);
      }
      return this.#enqueue(r, toBytes(data, "data"), options);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** MessageOwner: reply over the message's remote (its connection while it lives). */
  reply(msg: Message, data?: Uint8Array | string, options: { header?: Uint8Array | string } = {}): Promise<Uint8Array> {
    try {
      if (this.#closing) throw new ChirpError("SHUTDOWN", "this node is closing");
      const r = this.#remote(msg.address, msg.port);
      return this.#enqueue(r, toBytes(data, "data"), { header: options.header, identity: msg.identity });
    } catch (e) {
      return Promise.reject(e);
    }
  }

  #enqueue(remote: Remote, data: Uint8Array, options: SendOptions | undefined): Promise<Uint8Array> {
    if (remote.queue.length - remote.qHead >= this.config.maxQueued) {
      remote.tally.sendError("ENOMEM");
      throw new ChirpError("ENOMEM", `the send queue to ${remote.address}:${remote.port} is full (maxQueued ${this.config.maxQueued}): the peer does not keep up`);
    }
    const header = options === undefined ? EMPTY : toBytes(options.header, "header");
    if (header.length > 0xffff) throw new ChirpError("VALUE_ERROR", `header is ${header.length} bytes; at most 65535`);
    if (data.length > 0xffffffff) throw new ChirpError("VALUE_ERROR", "data is larger than 4 GiB - 1");
    let ids: Uint8Array;
    let idAt = 0;
    if (options !== undefined && options.identity !== undefined) {
      if (!(options.identity instanceof Uint8Array) || options.identity.length !== 16) {
        throw new ChirpError("VALUE_ERROR", "identity must be a Uint8Array of 16 bytes");
      }
      ids = options.identity.slice(); // the caller may change its array before the write
    } else {
      if (idPos + 16 > idPool.length) {
        idPool = crypto.getRandomValues(new Uint8Array(65536));
        idPos = 0;
      }
      ids = idPool;
      idAt = idPos;
      idPos += 16;
    }
    const p = new Promise<Uint8Array>(executor);
    remote.queue.push(new SendOp(remote, ids, idAt, header, data, newResolve, newReject));
    this.#markDirty(remote);
    return p;
  }

  /** The remote for (address, port): the core finds or makes it (remoteOpen); `#remotes`
   * caches the answer by key. */
  #remote(address: string, port: number): Remote {
    const key = `${address}|${port}`;
    const hit = this.#remotes.get(key);
    if (hit && !hit.freed) return hit;
    const core = this.#core;
    core.setAddress(address);
    const idx = core.x.remoteOpen(port, now());
    if (idx < 0) throw new ChirpError("ENOMEM", `too many remotes (maxRemotes ${this.config.maxRemotes})`);
    const r = this.#remoteAt(idx, address, port);
    this.#remotes.set(key, r);
    return r;
  }

  /** The JavaScript object of the core's remote `idx` (made on first sight). */
  #remoteAt(idx: number, address: string, port: number): Remote {
    let r = this.#remoteByIdx[idx];
    if (r) return r;
    r = new Remote(idx, `${address}|${port}`, address, port, this.#tally);
    this.#remoteByIdx[idx] = r;
    if (!this.#remotes.has(r.key)) this.#remotes.set(r.key, r);
    return r;
  }

  #remoteCount(): number {
    let n = 0;
    for (const r of this.#remoteByIdx) if (r) n++;
    return n;
  }

  #markDirty(r: Remote): void {
    this.#dirty.add(r);
    if (!this.#pumpScheduled) {
      this.#pumpScheduled = true;
      microtask(() => this.#pumpDirty());
    }
  }

  #pumpDirty(): void {
    this.#pumpScheduled = false;
    const dirty = this.#dirty;
    this.#dirty = new Set();
    for (const r of dirty) this.#pump(r);
    this.#armTimer();
  }

  /** Moves a remote's queue forward: write what the protocol allows, or dial. */
  #pump(r: Remote): void {
    if (r.freed || this.#closing) return;
    const x = this.#core.x;
    if (r.queued === 0) return;
    const ci = x.remoteConn(r.idx);
    const conn = ci >= 0 ? this.#conns[ci] : undefined;
    if (!conn) {
      this.#dial(r);
      return;
    }
    if (conn.needDrain) return;
    this.#writeQueue(conn, r);
  }

  #writeQueue(conn: Conn, r: Remote): void {
    const core = this.#core;
    const x = core.x;
    const t = now();
    const sync = this.config.synchronous;
    const chunks: Uint8Array[] = [];
    let ops: SendOp[] = [];
    let bufs: Uint8Array[] = [];
    let batchBytes = 0;
    const take = (): void => {
      const b = this.#outBuffer();
      bufs.push(b.buffer);
      chunks.push(b.view);
    };
    const write = (): boolean => {
      if (x.outLen() > 0) take();
      if (chunks.length === 0) return true;
      const ok = this.#write(conn, chunks.splice(0), ops, bufs);
      ops = [];
      bufs = [];
      batchBytes = 0;
      return ok;
    };
    while (r.qHead < r.queue.length) {
      const op = r.queue[r.qHead];
      if (op.done) {
        r.qHead++;
        continue;
      }
      const hl = op.header.length;
      const dl = op.data.length;
      const inline = hl + dl <= INLINE_MAX;
      const ids = op.ids;
      const mem = core.mem;
      for (let k = 0, d = core.idPtr, s = op.idAt; k < 16; k++) mem[d + k] = ids[s + k];
      const at = x.send(conn.idx, hl, dl, inline ? 1 : 0, t);
      if (at === -ST.SPACE) {
        if (x.outLen() === 0) {
          settle(op, new ChirpError("FATAL", "internal: the core has no room for a frame in an empty buffer"));
          r.qHead++;
          continue;
        }
        if (!write()) break;
        continue;
      }
      if (at < 0) break; // WAIT: a sync message waits for its ACK; NOT_READY: no handshake yet
      r.qHead++;
      if (inline) {
        const p = core.outPtr + at;
        if (hl) copySmall(core.mem, op.header, p);
        if (dl) copySmall(core.mem, op.data, p + hl);
      } else {
        take();
        if (hl) chunks.push(op.header);
        if (dl) chunks.push(op.data);
      }
      ops.push(op);
      batchBytes += 27 + hl + dl;
      if (sync) {
        op.at = t;
        r.inflight = op;
        break;
      }
      if (batchBytes >= BATCH_BYTES && !write()) break;
    }
    write();
    if (r.qHead > 1024 && r.qHead * 2 > r.queue.length) {
      r.queue = r.queue.slice(r.qHead);
      r.qHead = 0;
    }
  }

  /** Control frames (ACKs, NOOP) for a connection, written on their own (spec §4.1). */
  #flushControl(conn: Conn): void {
    if (conn.closed || !conn.sock) return;
    const x = this.#core.x;
    // OUT is always taken before control returns to the event loop, so it is free here.
    const n = x.flush(conn.idx);
    if (n > 0) {
      const b = this.#outBuffer();
      this.#write(conn, [b.view], [], [b.buffer]);
    } else if (x.outConn() === conn.idx) x.outReset();
  }

  /** The OUT area's bytes, copied into a write buffer from the pool (a buffer goes back to
   * the pool when its write completed, so a steady stream of batches allocates nothing). */
  #outBuffer(): { buffer: Uint8Array; view: Uint8Array } {
    const core = this.#core;
    const n = core.x.outLen();
    const buffer = this.#outPool.pop() ?? new Uint8Array(core.outCap);
    buffer.set(core.mem.subarray(core.outPtr, core.outPtr + n));
    core.x.outReset();
    return { buffer, view: buffer.subarray(0, n) };
  }

  #write(conn: Conn, chunks: Uint8Array[], ops: SendOp[], bufs?: Uint8Array[]): boolean {
    const sock = conn.sock;
    if (!sock || conn.closed) {
      const err = new ChirpError("PROTOCOL_ERROR", "connection closed before the write");
      for (const op of ops) settle(op, err);
      return false;
    }
    const x = this.#core.x;
    x.writeStart(conn.idx, now());
    conn.writesPending++;
    conn.batches.push(ops);
    const ok = sock.write(chunks, (err) => {
      if (bufs !== undefined && !err) for (const b of bufs) if (this.#outPool.length < OUT_POOL) this.#outPool.push(b);
      this.#written(conn, ops, err);
    });
    if (!ok) conn.needDrain = true;
    return ok;
  }

  #written(conn: Conn, ops: SendOp[], err?: Error): void {
    if (conn.closed) return; // closeConn already failed what it carried
    conn.writesPending--;
    const i = conn.batches.indexOf(ops);
    if (i >= 0) conn.batches.splice(i, 1);
    if (err) {
      this.#closeConn(conn, "PROTOCOL_ERROR", `write failed: ${err.message}`);
      for (const op of ops) settle(op, new ChirpError("PROTOCOL_ERROR", `write failed: ${err.message}`));
      return;
    }
    this.#core.x.writeDone(conn.idx, conn.writesPending === 0 ? 1 : 0, now());
    const n = ops.length;
    if (n === 0) return;
    const sync = this.config.synchronous;
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      const op = ops[i];
      bytes += op.header.length + op.data.length;
      op.written = true;
      if (!sync || op.acked) settle(op);
    }
    const rt = ops[0].remote.tally;
    rt.messagesOut += n;
    rt.bytesOut += bytes;
    const tt = this.#tally;
    tt.messagesOut += n;
    tt.bytesOut += bytes;
  }

  // ---------------------------------------------------------------- connections

  #dial(r: Remote): void {
    if (r.dialing || this.#closing) return;
    const x = this.#core.x;
    const useTls = encryptionNeeded(this.config.encryption, r.address);
    if (useTls && !this.config.tls) {
      this.#failQueue(r, new ChirpError("TLS_ERROR", `this connection needs TLS (encryption: ${this.config.encryption}${this.config.encryption === "auto" ? ", peer not loopback" : ""}) but no tls.certChain/key/cert is configured (${r.address}:${r.port})`));
      return;
    }
    const ci = x.remoteDial(r.idx, now());
    // LATER: the reconnect delay runs (the core emits EV_RETRY when it ends, spec §4.5).
    if (ci === -ST.LATER || ci === -ST.STATE) return;
    if (ci < 0) {
      this.#failQueue(r, new ChirpError("ENOMEM", `too many connections (maxConnections ${this.config.maxConnections})`));
      return;
    }
    const conn = new Conn(ci, x.connGen(ci), true, r.address);
    conn.sniff = !useTls;
    conn.pre.push(this.#core.takeOut());
    conn.remote = r;
    conn.peerPort = r.port;
    r.conns.add(conn);
    r.dialing = conn;
    this.#conns[ci] = conn;
    conn.cancelDial = this.#transport.connect(r.address, r.port, (err, sock) => {
      conn.cancelDial = null;
      if (conn.closed) {
        sock?.close();
        return;
      }
      if (err || !sock) {
        const code = (err as TransportError | null)?.chirpCode ?? "CANNOT_CONNECT";
        this.#closeConn(conn, code, code === "CANNOT_CONNECT" ? `cannot connect: ${err?.message ?? "no socket"}` : err!.message);
        return;
      }
      this.#attach(conn, sock);
      const pre = conn.pre;
      conn.pre = [];
      this.#write(conn, pre, []);
    }, useTls ? this.config.tls! : undefined);
  }

  #accept(sock: Socket): void {
    if (this.#closing) {
      sock.close();
      return;
    }
    const address = normalizeAddress(sock.remoteAddress) ?? sock.remoteAddress;
    // With TLS material the transport already did the TLS server handshake where needed.
    const plain = !encryptionNeeded(this.config.encryption, address);
    if (!plain && !this.config.tls) {
      sock.close();
      this.#onError(new ChirpError("TLS_ERROR", `refused a connection from ${address}: it needs TLS (encryption: ${this.config.encryption}${this.config.encryption === "auto" ? ", peer not loopback" : ""}) but no tls.certChain/key/cert is configured`));
      return;
    }
    const core = this.#core;
    const x = core.x;
    core.setAddress(address);
    const ci = x.connAccept(now());
    if (ci < 0) {
      sock.close();
      this.#onError(new ChirpError("ENOMEM", `refused a connection from ${sock.remoteAddress}: too many connections (maxConnections ${this.config.maxConnections})`));
      return;
    }
    const conn = new Conn(ci, x.connGen(ci), false, address);
    conn.sniff = plain;
    this.#conns[ci] = conn;
    this.#attach(conn, sock);
    this.#write(conn, [this.#core.takeOut()], []);
    this.#armTimer();
  }

  #attach(conn: Conn, sock: Socket): void {
    conn.sock = sock;
    this.#openSockets++;
    let gone = false;
    sock.onData = (bytes) => this.#onData(conn, bytes);
    sock.onDrain = () => {
      conn.needDrain = false;
      if (conn.remote) this.#markDirty(conn.remote);
    };
    sock.onClose = (err) => {
      if (gone) return;
      gone = true;
      this.#openSockets--;
      this.#closeConn(conn, "PROTOCOL_ERROR", err ? `connection failed: ${err.message}` : "the peer closed the connection", !err);
      if (this.#openSockets === 0) this.#socketsClosed?.();
    };
  }

  #onData(conn: Conn, bytes: Uint8Array): void {
    if (conn.closed || conn.mismatch) return;
    if (conn.sniff) {
      // First bytes of a plaintext connection: a TLS record means the peer encrypts and we
      // do not (encryption.ts explains why a chirp handshake never passes for one).
      conn.sniff = false;
      if (looksLikeTls(bytes)) {
        conn.mismatch = true;
        if (!conn.outgoing) this.#onError(new ChirpError("PROTOCOL_ERROR", `${PEER_TLS} (connection from ${conn.address} closed)`));
        // Close once our handshake is out (a write completes after the earlier ones): the
        // peer's TLS client then reads it and reports that we answered in plaintext. The tail
        // makes sure it can parse it as a (bad) record rather than wait (encryption.ts).
        conn.sock?.write([plaintextTail(this.port, this.identity)], () => this.#closeConn(conn, "PROTOCOL_ERROR", PEER_TLS));
        return;
      }
    }
    if (conn.paused) {
      // The runtime may deliver a chunk after pause(): keep it behind the saved bytes.
      const p = conn.pending ?? EMPTY;
      const joined = new Uint8Array(p.length + bytes.length);
      joined.set(p);
      joined.set(bytes, p.length);
      conn.pending = joined;
      return;
    }
    this.#feed(conn, bytes);
    this.#armTimer();
  }

  /** One feed() per read (more only if a read exceeds the IN area or the event area fills). */
  #feed(conn: Conn, bytes: Uint8Array): void {
    const core = this.#core;
    const x = core.x;
    let off = 0;
    for (;;) {
      const n = Math.min(bytes.length - off, core.inCap);
      if (n > 0) core.mem.set(n === bytes.length ? bytes : bytes.subarray(off, off + n), core.inPtr);
      const used = x.feed(conn.idx, n, now());
      const delivered = this.#handleEvents();
      off += used;
      const released = conn.released;
      this.#dispatch(delivered);
      if (conn.closed) return;
      if (x.connPaused(conn.idx)) {
        // Handlers that released during dispatch freed slots: parse on at once.
        if (conn.released !== released) continue;
        conn.paused = true;
        conn.pending = bytes.slice(off);
        conn.sock?.pause();
        return;
      }
      if (off >= bytes.length) return;
      if (used === 0 && n > 0) {
        this.#closeConn(conn, "FATAL", "internal: the core made no progress");
        return;
      }
    }
  }

  /** Reads the core's event records (from feed or tick). Messages are returned, to be handed
   * to the application only after all records were read. */
  #handleEvents(): Message[] {
    const core = this.#core;
    const x = core.x;
    const n = x.evCount();
    const out: Message[] = [];
    // Whole messages of this batch (EV.MSG: header and data in the IN area) are copied out with
    // one allocation and one copy: the span of the IN area they cover, then their identities
    // (from the event records). Each message's header and data are views of that buffer.
    let batch: Uint8Array | null = null;
    let lo = 0;
    let idAt = 0;
    for (let i = 0; i < n; i++) {
      const kind = core.evKind(i);
      const conn = this.#conns[core.evConn(i)];
      switch (kind) {
        case EV.MSG: {
          if (!conn) break;
          const p1 = core.evBytes(i);
          const hl = core.evHeaderLen(i);
          const p2 = p1 + hl;
          const dl = core.evDataLen(i);
          this.#received(conn, hl + dl);
          const mem = core.mem;
          if (batch === null) {
            lo = Infinity;
            let hi = 0;
            let count = 0;
            for (let j = i; j < n; j++) {
              if (core.evKind(j) !== EV.MSG) continue;
              count++;
              const a = core.evBytes(j);
              const len = core.evLen(j);
              if (len > 0 && a < lo) lo = a;
              if (len > 0 && a + len > hi) hi = a + len;
            }
            if (hi === 0) lo = hi;
            batch = new Uint8Array(hi - lo + 16 * count);
            if (hi > lo) batch.set(mem.subarray(lo, hi));
            idAt = hi - lo;
          }
          for (let k = 0, src = core.evPtr + i * EV_SIZE + EVENT.IDENTITY; k < 16; k++) batch[idAt + k] = mem[src + k];
          idAt += 16;
          out.push(new Message(
            this, conn.idx, conn.gen, core.evSlot(i), batch, idAt - 16, core.evSerial(i), core.evType(i),
            hl ? batch.subarray(p1 - lo, p1 - lo + hl) : EMPTY, dl ? batch.subarray(p2 - lo, p2 - lo + dl) : batch.subarray(0, 0),
            conn.address, conn.peerPort, conn.remoteIdentity,
          ));
          break;
        }
        case EV.BEGIN: {
          if (!conn) break;
          conn.partial = {
            slot: core.evSlot(i), identity: core.evIdentity(i), serial: core.evSerial(i), type: core.evType(i),
            header: new Uint8Array(core.evHeaderLen(i)), data: new Uint8Array(core.evDataLen(i)),
          };
          break;
        }
        case EV.CHUNK: {
          const pm = conn?.partial;
          if (!pm) break;
          const p = core.evBytes(i);
          const len = core.evLen(i);
          const at = core.evOffset(i);
          const hl = pm.header.length;
          const src = core.mem.subarray(p, p + len);
          if (at < hl) {
            const inHeader = Math.min(len, hl - at);
            pm.header.set(src.subarray(0, inHeader), at);
            if (len > inHeader) pm.data.set(src.subarray(inHeader), 0);
          } else {
            pm.data.set(src, at - hl);
          }
          break;
        }
        case EV.END: {
          const pm = conn?.partial;
          if (!conn || !pm) break;
          conn.partial = null;
          this.#received(conn, pm.header.length + pm.data.length);
          out.push(new Message(
            this, conn.idx, conn.gen, pm.slot, pm.identity, 0, pm.serial, pm.type, pm.header, pm.data,
            conn.address, conn.peerPort, conn.remoteIdentity,
          ));
          break;
        }
        case EV.HANDSHAKE:
          if (conn) this.#handshake(conn, core.evPort(i), core.evIdentity(i), core.evRemote(i));
          break;
        case EV.ACK: {
          const r = this.#remoteByIdx[core.evRemote(i)];
          const op = r?.inflight;
          if (!r || !op) break;
          r.inflight = null;
          op.acked = true;
          r.tally.ackRtt(now() - op.at);
          if (op.written) settle(op);
          this.#markDirty(r);
          break;
        }
        case EV.ERROR: {
          if (!conn) break;
          const code = core.evCode(i);
          if (code === ST.FULL) {
            // An incoming peer the remote table has no room for.
            this.#closeConn(conn, "ENOMEM", `too many remotes (maxRemotes ${this.config.maxRemotes})`);
            break;
          }
          const big = code === ST.TOO_BIG;
          this.#closeConn(conn, PEER_FAULT[code], big
            ? `the peer sent a frame larger than maxMsgSize (${this.config.maxMsgSize} bytes)`
            : "the peer sent an invalid frame");
          this.#onError(new ChirpError(PEER_FAULT[code], `connection from ${conn.address}:${conn.peerPort} closed: ${big ? "frame larger than maxMsgSize" : "invalid frame"}`));
          break;
        }
        case EV.TIMEOUT: {
          if (!conn) break;
          const code = core.evCode(i);
          const why = code === ST.CONNECT_TIMEOUT ? "connect timeout: no handshake from the peer"
            : code === ST.HANDSHAKE_TIMEOUT ? "handshake timeout: the peer never spoke"
            : code === ST.ACK_TIMEOUT ? "send timeout: the receiver did not acknowledge (release) the message in time"
            : "write timeout: the peer does not read";
          this.#closeConn(conn, "TIMEOUT", why);
          break;
        }
        case EV.GC_REMOTE: {
          const r = this.#remoteByIdx[core.evRemote(i)];
          if (r) this.#dropRemote(r, new ChirpError("SHUTDOWN", `remote ${r.address}:${r.port} was idle and garbage-collected`));
          break;
        }
        case EV.GC_CONN:
          if (conn) this.#closeConn(conn, "SHUTDOWN", "idle connection garbage-collected", true);
          break;
        case EV.RETRY: {
          const r = this.#remoteByIdx[core.evRemote(i)];
          if (r) this.#markDirty(r);
          break;
        }
        default:
          break;
      }
    }
    return out;
  }

  #received(conn: Conn, bytes: number): void {
    conn.held++;
    const rt = conn.remote?.tally;
    if (rt) {
      rt.messagesIn++;
      rt.bytesIn += bytes;
    }
    const tt = this.#tally;
    tt.messagesIn++;
    tt.bytesIn += bytes;
  }

  /** A handshake completed: events "open" and, for a changed peer identity, "identity". */
  #opened(conn: Conn, r: Remote): void {
    const current = toHex(conn.remoteIdentity);
    const previous = r.peerIdentity;
    r.peerIdentity = current;
    this.#emit("open", { type: "open", address: r.address, port: r.port, outgoing: conn.outgoing, identity: current });
    if (previous !== null && previous !== current) {
      this.#emit("identity", { type: "identity", address: r.address, port: r.port, previous, current });
    }
  }

  #handshake(conn: Conn, port: number, identity: Uint8Array, remote: number): void {
    conn.ready = true;
    conn.remoteIdentity = identity;
    if (conn.outgoing) {
      // Filed under the remote we dialled, whatever port the peer announces (libchirp files it
      // under the announced port and strands the queue, spec §10.4).
      const r = conn.remote!;
      if (r.dialing === conn) r.dialing = null;
      this.#markDirty(r);
      this.#opened(conn, r);
      return;
    }
    // Incoming: the core filed it under the remote for (address, announced port) (§5.1).
    conn.peerPort = port;
    const r = this.#remoteAt(remote, conn.address, port);
    conn.remote = r;
    r.conns.add(conn);
    this.#markDirty(r);
    this.#opened(conn, r);
  }

  #dispatch(msgs: Message[]): void {
    for (const msg of msgs) {
      if (this.#onMessage) {
        try {
          this.#onMessage(msg);
        } catch (e) {
          this.#onError(e as Error);
        }
      } else if (this.#waiters.length > 0) {
        this.#waiters.shift()!({ value: msg, done: false });
      } else {
        this.#inbox.push(msg);
      }
    }
  }

  /** MessageOwner: frees a slot; queues the ACK in sync mode; resumes a paused reader. */
  releaseSlot(ci: number, gen: number, slot: number): void {
    const conn = this.#conns[ci];
    if (!conn || conn.gen !== gen || conn.closed) return; // closed: nothing to ACK (spec §3.6)
    const x = this.#core.x;
    conn.released++;
    conn.held--;
    let rc = x.release(ci, gen, slot);
    if (rc === -ST.SPACE) {
      this.#flushControl(conn);
      rc = x.release(ci, gen, slot);
    }
    // The ACK goes out at once: a synchronous sender has one message in flight, so there is
    // nothing to batch it with, and its round trip waits for this write.
    if (rc === 1) this.#flushControl(conn);
    if (conn.paused) queueMicrotask(() => this.#resume(conn));
  }

  #resume(conn: Conn): void {
    if (conn.closed || !conn.paused) return;
    conn.paused = false;
    const p = conn.pending ?? EMPTY;
    conn.pending = null;
    this.#feed(conn, p);
    if (!conn.paused && !conn.closed) conn.sock?.resume();
    this.#armTimer();
  }

  /** Closes a connection and settles what depended on it (spec §4.5). `orderly`: not an error
   * (the peer closed, idle collection); SHUTDOWN closes are orderly too. */
  #closeConn(conn: Conn, code: ChirpErrorCode, why: string, orderly = false): void {
    if (conn.closed) return;
    conn.closed = true;
    conn.cancelDial?.();
    conn.cancelDial = null;
    conn.sock?.close();
    const x = this.#core.x;
    const flags = x.connClose(conn.idx, now());
    if (this.#conns[conn.idx] === conn) this.#conns[conn.idx] = undefined;
    const r = conn.remote;
    const where = r ? `${r.address}:${r.port}` : `${conn.address}`;
    const err = new ChirpError(code, `${why} (${where})`);
    for (const batch of conn.batches) {
      for (const op of batch) {
        if (!op.done && !(this.config.synchronous && op.written)) {
          settle(op, err);
        }
      }
    }
    conn.batches = [];
    const clean = orderly || code === "SHUTDOWN";
    if (!clean) (r ? r.tally : this.#tally).connectionError(code);
    if (this.#listenersOf.close.size > 0) {
      this.#emit("close", {
        type: "close", address: r?.address ?? conn.address, port: r?.port ?? conn.peerPort, outgoing: conn.outgoing,
        opened: conn.ready, code: clean ? null : code, reason: why,
      });
    }
    if (!r) return;
    r.conns.delete(conn);
    const wasDialing = r.dialing === conn;
    if (wasDialing) r.dialing = null;
    if ((flags & 1) && r.inflight) {
      settle(r.inflight, err);
      r.inflight = null;
    }
    // A failed dial fails every message queued for the remote. libchirp fails only the head
    // ("abort one", spec §4.5) and retries after a 50-549 ms debounce, so a long queue to a
    // dead peer drains one message per debounce and, being always in debounce, escapes GC.
    if (code !== "SHUTDOWN" && (wasDialing || !conn.ready) && conn.outgoing) this.#failQueue(r, err);
    if (r.queued > 0 && !r.freed) this.#markDirty(r);
  }

  #failQueue(r: Remote, err: Error): void {
    for (let i = r.qHead; i < r.queue.length; i++) settle(r.queue[i], err);
    r.queue = [];
    r.qHead = 0;
  }

  /** Forget a remote: fail its queue, close its connections (spec §5.5, §5.6). */
  #dropRemote(r: Remote, err: ChirpError): void {
    if (r.freed) return;
    r.freed = true;
    this.#failQueue(r, err);
    if (r.inflight) settle(r.inflight, err);
    r.inflight = null;
    for (const c of [...r.conns]) this.#closeConn(c, err.code, err.message);
    this.#core.x.remoteFree(r.idx);
    if (this.#remotes.get(r.key) === r) this.#remotes.delete(r.key);
    if (this.#remoteByIdx[r.idx] === r) this.#remoteByIdx[r.idx] = undefined;
  }

  // ---------------------------------------------------------------- timers

  #armTimer(): void {
    if (this.#closing) return;
    const d = this.#core.x.nextDeadline();
    if (!Number.isFinite(d) || d >= this.#timerAt) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timerAt = d;
    this.#timer = setTimeout(() => this.#onTimer(), Math.max(0, Math.ceil(d - now())));
  }

  #onTimer(): void {
    this.#timer = null;
    this.#timerAt = Infinity;
    if (this.#closing) return;
    this.#core.x.tick(now());
    this.#dispatch(this.#handleEvents());
    this.#armTimer();
  }

  // ---------------------------------------------------------------- receiving API

  /** Messages not taken by an `onMessage` handler, in arrival order. Each holds its slot
   * until released. The iteration ends when the node closes. */
  [Symbol.asyncIterator](): AsyncIterator<Message> {
    return {
      next: (): Promise<IteratorResult<Message>> => {
        const m = this.#inbox.shift();
        if (m) return Promise.resolve({ value: m, done: false });
        if (this.#closing) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => this.#waiters.push(resolve));
      },
      return: (): Promise<IteratorResult<Message>> => Promise.resolve({ value: undefined, done: true }),
    };
  }

  // ---------------------------------------------------------------- shutdown

  /** Closes the node (spec §5.6): stops listening, fails queued and unfinished sends with
   * SHUTDOWN, closes every connection; resolves when every socket is closed. Idempotent. */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closing = (async () => {
      const listening = Promise.all(this.#listeners.map((l) => l.close().catch(() => {})));
      const err = new ChirpError("SHUTDOWN", "the node is closing");
      for (const r of [...this.#remoteByIdx]) if (r) this.#dropRemote(r, err);
      for (const c of this.#conns) if (c) this.#closeConn(c, "SHUTDOWN", "the node is closing");
      if (this.#timer) clearTimeout(this.#timer);
      this.#timer = null;
      for (const w of this.#waiters.splice(0)) w({ value: undefined, done: true });
      if (this.#openSockets > 0) {
        await new Promise<void>((resolve) => {
          this.#socketsClosed = resolve;
        });
      }
      await listening;
    })();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
