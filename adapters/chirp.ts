// The Chirp node: the user's face of one node. It validates the config, listens, sets up the
// wasm core (core/core.ts) and the engine (engine/engine.ts) on the runtime's transport
// (transport.ts), and offers send, receive (onMessage or async iteration), stats, events and
// close. The core makes every protocol decision (assembly/ABI.md); the engine keeps what
// JavaScript must own: promises, queues, sockets and payload bytes.
// `await using` needs Symbol.asyncDispose in the user's types too: the .d.ts brings that lib.
/// <reference lib="esnext.disposable" preserve="true" />
import { CoreSetup, type Core } from "./core/core.ts";
import { ChirpError } from "./errors.ts";
import { resolveConfig, type ChirpConfig, type ResolvedConfig } from "./config.ts";
import type { Message } from "./message.ts";
import type { Socket, Transport, TransportError } from "./transport.ts";
import type { ChirpEvents, ChirpStats } from "./monitor/stats.ts";
import { formatTarget, parseTarget, type Target } from "./target.ts";
import { Engine } from "./engine/engine.ts";
import type { EventListenOptions } from "./engine/events.ts";
import { listen } from "./engine/listen.ts";
import { toBytes } from "./engine/send-args.ts";
import type { SendOptions } from "./engine/records.ts";
import { snapshot } from "./engine/stats.ts";
import { NameCache, type Resolve } from "./resolve.ts";

export type { Target } from "./target.ts";
export type { SendOptions } from "./engine/records.ts";

let registeredTransport: Transport | undefined;

/** Runtime entry points (node/entry.ts, ...) register their transport here. */
export function setDefaultTransport(t: Transport): void {
  registeredTransport = t;
}

/** A Chirp node. Start one with `Chirp.start(config)`. */
export class Chirp implements AsyncIterable<Message> {
  /** The resolved configuration. */
  readonly config: Readonly<ResolvedConfig>;
  /** The port this node listens on and announces. */
  readonly port: number;
  /** This node's 16-byte identity. */
  readonly identity: Uint8Array;
  readonly #engine: Engine;
  readonly #listeners: { close(): Promise<void> }[];
  readonly #started = performance.now();
  #closing: Promise<void> | null = null;
  /** Removes the abort listener of config.signal (at close). */
  #unlisten: (() => void) | null = null;

  private constructor(engine: Engine, listeners: { close(): Promise<void> }[]) {
    this.#engine = engine;
    this.#listeners = listeners;
    this.config = engine.config;
    this.port = engine.port;
    this.identity = engine.identity;
  }

  /** Validates the config, listens (IPv4 and IPv6) and returns the running node. */
  static async start(config: ChirpConfig = {}, transport?: Transport): Promise<Chirp> {
    const cfg = resolveConfig(config);
    const signal = config.signal;
    const aborted = (): ChirpError => new ChirpError("ABORTED", "Chirp.start was aborted by its signal", { cause: signal?.reason });
    if (signal?.aborted) throw aborted();
    const t = transport ?? registeredTransport;
    if (!t) throw new ChirpError("FATAL", "no socket transport registered: import Chirp from the package entry for your runtime");
    const onError = config.onError ?? (() => {});
    // Sockets accepted before the engine exists wait here.
    const early: Socket[] = [];
    let engine: Engine | undefined;
    const onSocket = (s: Socket): void => {
      if (engine) engine.links.accept(s);
      else early.push(s);
    };
    // The core's config record is written first: it already answers the connect timeout (the
    // TLS handshake of incoming connections uses it); configure() waits for the bound port.
    const setup = new CoreSetup().writeConfig({
      maxConns: cfg.maxConnections,
      maxRemotes: cfg.maxRemotes,
      maxSlots: cfg.maxSlots,
      window: cfg.window,
      synchronous: cfg.synchronous,
      maxMsgSize: cfg.maxMsgSize,
      timeoutMs: cfg.timeout * 1000,
      reuseMs: cfg.reuseTime * 1000,
      bufSize: cfg.bufferSize,
      port: cfg.port,
      identity: cfg.identity,
    });
    // A failed incoming TLS handshake is a refused connection: reported with its reason (and
    // counted, and a close event) once the engine exists.
    const onTlsError = (e: Error): void => {
      const raw = e.cause as TransportError | undefined;
      if (engine && raw?.peerAddress !== undefined) engine.links.refused(raw.peerAddress, (e as ChirpError).code, raw.message, raw);
      else onError(e);
    };
    // Incoming TLS handshakes in progress hold sockets: they count against maxConnections.
    let tlsPending = 0;
    const admit = (): (() => void) | null => {
      if ((engine ? engine.connectionCount : early.length) + tlsPending >= cfg.maxConnections) return null;
      tlsPending++;
      return () => void tlsPending--;
    };
    const { listeners, port } = await listen(cfg, t, onSocket, onTlsError, setup.x.connectTimeout(), admit);
    let core: Core;
    try {
      if (signal?.aborted) throw aborted(); // while it bound its ports
      core = setup.setPort(port).configure();
    } catch (e) {
      for (const s of early) s.close();
      await Promise.all(listeners.map((l) => l.close()));
      if (e instanceof ChirpError && e.code === "ABORTED") throw e;
      throw new ChirpError("ENOMEM", `cannot set up the protocol core: ${(e as Error).message}`, { cause: e });
    }
    engine = new Engine(core, Object.freeze({ ...cfg, port }), t, port, cfg.identity.slice(), config.onMessage, onError);
    const node = new Chirp(engine, listeners);
    for (const s of early) engine.links.accept(s);
    if (signal) {
      const onAbort = (): void => void node.close();
      signal.addEventListener("abort", onAbort, { once: true });
      node.#unlisten = () => signal.removeEventListener("abort", onAbort);
    }
    return node;
  }

  /** The addresses a target stands for, in the order a send tries them: an IP address as it
   * is, a host name through `resolve` (default: the runtime's resolver), uncached. Rejects
   * with VALUE_ERROR for a malformed target, CANNOT_CONNECT naming the host for a name that
   * does not resolve (chirpcat checks its targets with it before it listens). */
  static async lookup(to: Target, resolve?: Resolve): Promise<{ address: string; port: number }[]> {
    const { address, host, port } = parseTarget(to);
    if (address !== null) return [{ address, port }];
    const t = registeredTransport;
    const r = resolve ?? t?.resolve?.bind(t);
    if (!r) throw new ChirpError("CANNOT_CONNECT", `cannot resolve host "${host}": no resolver (the runtime has none; pass one)`);
    try {
      const found = await new NameCache(r, 0, 60_000).lookup(host);
      return found.addresses.map((a) => ({ address: a, port }));
    } catch (e) {
      throw new ChirpError("CANNOT_CONNECT", `cannot resolve host "${host}": ${(e as Error)?.message ?? String(e)}`, { cause: e });
    }
  }

  /** The target text for a peer (a message's sender): "name:port" when sends reached its
   * remote by a host name (the last name used), else "address:port" ([IPv6] in brackets).
   * Patterns key peers by it, so that a peer given by name matches its messages. */
  targetOf(peer: { address: string; port: number }): string {
    const name = this.#engine.remotes.find(peer.address, peer.port)?.name;
    return name ? `${name}:${peer.port}` : formatTarget(peer.address, peer.port);
  }

  /** Open connections (incoming and outgoing, including ones still dialling). */
  get connectionCount(): number {
    return this.#engine.connectionCount;
  }

  /** Bytes of wasm memory the core uses; fixed after start (it never grows). */
  get coreMemoryBytes(): number {
    return this.#engine.core.memoryBytes;
  }

  /** A snapshot of the node's counters, in total and per remote (monitor/stats.ts). */
  stats(): ChirpStats {
    return snapshot(this.#engine, this.#started, this.connectionCount);
  }

  /** Listens for connection events: "open" (handshake done), "close" (with the error code,
   * null when orderly) and "identity" (a peer restarted). Returns a function that stops
   * listening. A listener that throws is reported to onError. `{ once: true }` removes it after
   * one event, `{ signal }` when the signal aborts. */
  on<K extends keyof ChirpEvents>(type: K, listener: (e: ChirpEvents[K]) => void, options?: EventListenOptions): () => void {
    return this.#engine.events.on(type, listener, options);
  }

  /** The next event of this type: resolves with it; rejects with the signal's reason if
   * `signal` aborts first. */
  once<K extends keyof ChirpEvents>(type: K, options: { signal?: AbortSignal } = {}): Promise<ChirpEvents[K]> {
    const { signal } = options;
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = (): void => {
        remove();
        reject(signal!.reason);
      };
      const remove = this.#engine.events.on(type, (e) => {
        signal?.removeEventListener("abort", onAbort);
        resolve(e);
      }, { once: true });
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /**
   * Sends `data` to `to`. Connects on first use and reuses the connection both ways. A host
   * name is resolved first (config.resolve, else the runtime's resolver; cached for
   * config.resolveCacheTime) and its addresses are tried in order until one connects.
   * Resolves with the message identity: in synchronous mode once the receiver released it; in
   * asynchronous mode, up to 256 bytes to a connected peer, once accepted (copied) into its bounded
   * queue (under 256 KiB of unwritten frames; written in the same event-loop turn; a later failure goes to onError
   * and the stats' sendErrors), else once the socket took the frame (handed to the kernel: not
   * a delivery receipt). protocol.md §4.2. Rejects with a ChirpError: TIMEOUT, CANNOT_CONNECT (also:
   * a name that does not resolve, within the connect timeout), PROTOCOL_ERROR, SHUTDOWN (the
   * node is closing), ENOMEM (queue at maxQueued), VALUE_ERROR (bad argument; header+data over
   * maxSendSize), ABORTED (`options.signal`).
   */
  send(to: Target, data?: Uint8Array | string, options?: SendOptions): Promise<Uint8Array> {
    const engine = this.#engine;
    try {
      if (engine.draining) throw new ChirpError("SHUTDOWN", "this node is closing");
      const byTarget = engine.remotes.byTarget;
      // Hot path: the same target string maps to the same live remote.
      if (typeof to === "string") {
        const r = byTarget.get(to);
        if (r !== undefined && !r.freed) return engine.sender.enqueue(r, toBytes(data, "data"), options);
      }
      const { address, host, port } = parseTarget(to);
      // A host name: resolved first (engine/names.ts), its remote is known only then.
      if (address === null) return engine.names.send(host, port, toBytes(data, "data"), options);
      const r = engine.remotes.get(address, port, performance.now());
      if (typeof to === "string") {
        if (byTarget.size >= 1024) byTarget.clear();
        byTarget.set(to, r);
      }
      return engine.sender.enqueue(r, toBytes(data, "data"), options);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Replies to `msg`: the same identity, to its sender, over the connection it came in on
   * while that lives (the same as `msg.reply(data, options)`). */
  reply(msg: Message, data?: Uint8Array | string, options?: { header?: Uint8Array | string }): Promise<Uint8Array> {
    return this.#engine.reply(msg, data, options);
  }

  /** Messages not taken by an `onMessage` handler, in arrival order. Each holds its slot
   * until released. The iteration ends when the node closes. */
  [Symbol.asyncIterator](): AsyncIterator<Message> {
    const engine = this.#engine;
    const { inbox, waiters } = engine.receiver;
    return {
      next: (): Promise<IteratorResult<Message>> => {
        const m = inbox.shift();
        if (m) return Promise.resolve({ value: m, done: false });
        if (engine.closing) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => waiters.push(resolve));
      },
      return: (): Promise<IteratorResult<Message>> => Promise.resolve({ value: undefined, done: true }),
    };
  }

  /** Closes the node (protocol.md §5.6). By default it first drains: new sends and replies are
   * refused with SHUTDOWN at once, while queued sends, synchronous sends waiting for their ACK,
   * replies and ACKs already accepted keep going (incoming connections are still served), for
   * up to the send timeout (`timeout`); then it stops listening, fails what is left with
   * SHUTDOWN and closes every connection. `{ drain: false }` skips the wait: everything not yet
   * settled fails with SHUTDOWN at once. Resolves when every socket is closed. Idempotent (a
   * later call returns the first call's promise). */
  close(options: { drain?: boolean } = {}): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#unlisten?.();
    const engine = this.#engine;
    engine.draining = true;
    this.#closing = (async () => {
      if (options.drain !== false) await drain(engine, engine.config.timeout * 1000);
      engine.closing = true;
      const listening = Promise.all(this.#listeners.map((l) => l.close().catch(() => {})));
      const err = new ChirpError("SHUTDOWN", "the node is closing");
      engine.names.close(err);
      for (const r of [...engine.remotes.values()]) engine.links.dropRemote(r, err);
      for (const c of engine.conns) if (c) engine.links.closeConn(c, "SHUTDOWN", "the node is closing");
      engine.timer.stop();
      for (const w of engine.receiver.waiters.splice(0)) w({ value: undefined, done: true });
      if (engine.openSockets > 0) {
        await new Promise<void>((resolve) => {
          engine.onAllSocketsClosed = resolve;
        });
      }
      await listening;
    })();
    return this.#closing;
  }

  /** `await using node = await Chirp.start(...)`: closes the node at the end of the block. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** Whether the node still has work it accepted: queued sends, an ACK awaited, an ACK about to
 * be written (send-queue.ts flushControlSoon), writes the socket has not taken (replies and
 * ACKs included). Sends still waiting for a host name's
 * lookup are not waited for: close fails them with SHUTDOWN at once (names.test.ts). */
function busy(engine: Engine): boolean {
  if (engine.sender.pendingOut) return true;
  for (const r of engine.remotes.values()) if (r.queued > 0 || r.unacked.length > 0) return true;
  for (const c of engine.conns) if (c && !c.closed && (c.writesPending > 0 || c.batches.length > 0 || c.ackSoon)) return true;
  return false;
}

/** Waits until the node is not busy, at most `ms` (close's drain). */
async function drain(engine: Engine, ms: number): Promise<void> {
  const end = performance.now() + ms;
  while (busy(engine) && performance.now() < end) await new Promise((r) => setTimeout(r, 2));
}
