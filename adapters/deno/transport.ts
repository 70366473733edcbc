// The Transport (transport.ts) on Deno's native TCP API (Deno.listen / Deno.connect and the
// conn.read / conn.write ops). Kept apart from the entry point (deno/entry.ts) so that tests can use it
// without loading the engine or the wasm core. Only this file touches the Deno global.
//
// Reading: one loop per socket, `await conn.read(buf)` into one reused 64 KiB buffer; each read
// is handed to onData (the contract lets the engine keep the bytes only until it returns).
// pause() makes the loop stop issuing reads, so the kernel buffer fills and TCP pushes back on
// the sender (at most the one read already in flight completes; its bytes are held back until
// resume()). Writing: one loop per socket; queued chunks up to 16 KiB are copied together
// into a 64 KiB staging buffer (one write op for many small frames), larger ones are written
// from their own memory; partial writes are continued. The op-based loops were measured faster
// than Deno's node:net and than conn.readable/conn.writable streams (numbers in deno/entry.ts).
//
// IPv6-only listeners: Deno.listen has no ipv6Only option (nor has Deno's node:net, which ignores
// it); on Linux a "::" listener is dual-stack (net.ipv6.bindv6only = 0), so after the engine has
// bound 0.0.0.0:P, binding [::]:P fails with EADDRINUSE. This transport then merges the two:
// when a "::" listen with ipv6Only fails with EADDRINUSE and this process holds IPv4 listeners
// on that port, it closes their sockets, binds one dual-stack [::]:P socket and shares it out:
// IPv4 clients (seen as ::ffff:a.b.c.d) go to the IPv4 listener whose host matches (0.0.0.0 or
// the local address), with the plain IPv4 text as remoteAddress; IPv6 clients go to the IPv6
// listener. The reverse order (a "::" ipv6Only listener first, then an IPv4 one on its port)
// attaches the IPv4 listener to the shared socket the same way. A "::" ipv6Only listener that
// has no IPv4 partner closes IPv4 clients at once (where IPV6_V6ONLY would refuse them). If the
// rebind fails (another process took the port in the short gap), the IPv4 sockets are bound
// again and the listen rejects with EADDRINUSE. The shared socket is closed when the last of
// its listeners closes.
import type { ListenOptions, Listener, Socket, TlsClientConfig, Transport } from "../transport.ts";
import { tlsConnect, withTls } from "../tls/node-tls.ts";

const noop = (): void => {};

/** write() returns false once this many bytes wait in the queue. */
const HIGH_WATER = 1 << 20;
const READ_SIZE = 64 * 1024;
/** Chunks up to this size are copied into the staging buffer; larger ones are written as they are. */
const SMALL = 16 * 1024;
const STAGE_SIZE = 64 * 1024;

/** Gives a Deno error the errno-style `.code` the engine reads (Deno sets most of them). */
function withCode(e: unknown): Error {
  const err = e instanceof Error ? e : new Error(String(e));
  const x = err as Error & { code?: string };
  if (typeof x.code !== "string" || x.code === "") {
    if (err instanceof Deno.errors.AddrInUse || /os error 98\b/.test(err.message)) x.code = "EADDRINUSE";
    else if (err instanceof Deno.errors.AddrNotAvailable || /os error 99\b/.test(err.message)) x.code = "EADDRNOTAVAIL";
    else if (/os error 97\b/.test(err.message)) x.code = "EAFNOSUPPORT";
    else if (err instanceof Deno.errors.ConnectionRefused) x.code = "ECONNREFUSED";
    else if (err instanceof Deno.errors.ConnectionReset) x.code = "ECONNRESET";
  }
  return err;
}

const isAddrInUse = (e: unknown): boolean =>
  e instanceof Deno.errors.AddrInUse || (e as { code?: string } | null)?.code === "EADDRINUSE";

/** "::ffff:1.2.3.4" -> "1.2.3.4"; anything else unchanged. */
function unmap(a: string): string {
  return a.startsWith("::ffff:") && a.includes(".") ? a.slice(7) : a;
}

interface WriteEntry {
  chunks: Uint8Array[];
  done: (err?: Error) => void;
  bytes: number;
}

export class DenoSocket implements Socket {
  onData: (bytes: Uint8Array) => void = noop;
  onClose: (err?: Error) => void = noop;
  onDrain: () => void = noop;
  #conn: Deno.TcpConn;
  #closed = false;
  #paused = false;
  #wake: (() => void) | null = null;
  /** Entries not yet fully staged/written, from #head on. */
  #queue: WriteEntry[] = [];
  #head = 0;
  /** Entries whose bytes are all written or staged, waiting for the stage to be flushed. */
  #staged: WriteEntry[] = [];
  #pending = 0;
  #writing = false;
  #needDrain = false;
  /** The write loop's staging buffer (made on first use, then reused). */
  #stage: Uint8Array | null = null;

  constructor(conn: Deno.TcpConn, readonly remoteAddress: string) {
    this.#conn = conn;
    try {
      conn.setNoDelay(true);
      conn.setKeepAlive(true); // Deno takes no idle time: the kernel's default applies
    } catch {
      // the connection may already be gone; the read loop reports it
    }
    void this.#readLoop();
  }

  async #readLoop(): Promise<void> {
    const conn = this.#conn;
    const buf = new Uint8Array(READ_SIZE);
    let err: Error | undefined;
    try {
      for (;;) {
        if (this.#paused) await new Promise<void>((r) => (this.#wake = r));
        if (this.#closed) return;
        const n = await conn.read(buf);
        if (n === null || this.#closed) break;
        if (this.#paused) await new Promise<void>((r) => (this.#wake = r));
        if (this.#closed) return;
        if (n > 0) this.onData(buf.subarray(0, n));
      }
    } catch (e) {
      err = withCode(e);
    }
    this.#finish(err);
  }

  write(chunks: Uint8Array[], done: (err?: Error) => void): boolean {
    if (this.#closed) {
      queueMicrotask(() => done(new Error("socket closed")));
      return false;
    }
    let bytes = 0;
    for (const c of chunks) bytes += c.byteLength;
    this.#queue.push({ chunks, done, bytes });
    this.#pending += bytes;
    if (!this.#writing) void this.#writeLoop();
    if (this.#pending >= HIGH_WATER) {
      this.#needDrain = true;
      return false;
    }
    return true;
  }

  async #writeAll(b: Uint8Array): Promise<void> {
    const conn = this.#conn;
    while (b.byteLength > 0) {
      const n = await conn.write(b);
      if (this.#closed) throw new Error("socket closed");
      b = b.subarray(n);
    }
  }

  /** Calls `done` for the entries whose bytes were all written. */
  #settleStaged(): void {
    const staged = this.#staged;
    if (staged.length === 0) return;
    this.#staged = [];
    for (const e of staged) {
      this.#pending -= e.bytes;
      e.done();
    }
  }

  async #writeLoop(): Promise<void> {
    this.#writing = true;
    const stage = (this.#stage ??= new Uint8Array(STAGE_SIZE));
    let used = 0;
    const flush = async (): Promise<void> => {
      if (used === 0) return;
      const n = used;
      used = 0;
      await this.#writeAll(stage.subarray(0, n));
    };
    try {
      while (!this.#closed) {
        const q = this.#queue;
        if (this.#head >= q.length) {
          await flush();
          this.#settleStaged();
          if (this.#head >= q.length) break; // nothing was queued by the done callbacks
          continue;
        }
        const entry = q[this.#head];
        for (const c of entry.chunks) {
          const len = c.byteLength;
          if (len <= SMALL) {
            if (used + len > STAGE_SIZE) {
              await flush();
              this.#settleStaged();
              if (this.#closed) return;
            }
            stage.set(c, used);
            used += len;
          } else {
            await flush();
            this.#settleStaged();
            if (this.#closed) return;
            await this.#writeAll(c);
          }
        }
        this.#head++;
        if (this.#head === q.length) {
          this.#queue = [];
          this.#head = 0;
        } else if (this.#head > 1024) {
          this.#queue = q.slice(this.#head);
          this.#head = 0;
        }
        this.#staged.push(entry);
      }
    } catch (e) {
      this.#finish(withCode(e));
      return;
    } finally {
      this.#writing = false;
    }
    if (!this.#closed && this.#needDrain && this.#pending < HIGH_WATER) {
      this.#needDrain = false;
      this.onDrain();
    }
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }

  close(): void {
    this.#finish();
  }

  #finish(err?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
    const w = this.#wake;
    this.#wake = null;
    w?.();
    const failed = [...this.#staged, ...this.#queue.slice(this.#head)];
    this.#staged = [];
    this.#queue = [];
    this.#head = 0;
    this.#pending = 0;
    queueMicrotask(() => {
      if (failed.length > 0) {
        const e = err ?? new Error("socket closed");
        for (const f of failed) f.done(e);
      }
      this.onClose(err);
    });
  }
}

// ---- listeners ----

const isV6Any = (h: string): boolean => h === "::" || h === "[::]" || /^(0{1,4}:){7}0{1,4}$/.test(h);
const isV4 = (h: string): boolean => /^\d{1,3}(\.\d{1,3}){3}$/.test(h);

type OnSocket = (s: Socket) => void;

/** Accepts on one Deno listener until it is closed; resolves when the loop has ended (then the
 * port is free again). */
async function acceptLoop(l: Deno.TcpListener, isClosed: () => boolean, onConn: (c: Deno.TcpConn) => void): Promise<void> {
  for (;;) {
    let conn: Deno.TcpConn;
    try {
      conn = await l.accept();
    } catch (e) {
      if (isClosed() || e instanceof Deno.errors.BadResource || e instanceof Deno.errors.Interrupted) return;
      await new Promise((r) => setTimeout(r, 10)); // e.g. EMFILE: try again shortly
      continue;
    }
    if (isClosed()) {
      conn.close();
      return;
    }
    onConn(conn);
  }
}

/** A listener on one IPv4 address; on its own socket ("plain") or a half of a shared one. */
class V4Listener implements Listener {
  closed = false;
  #plain: Deno.TcpListener | null = null;
  #loop: Promise<void> = Promise.resolve();
  hub: Hub | null = null;
  constructor(readonly host: string, public port: number, readonly onSocket: OnSocket, readonly backlog: number) {}

  bind(): void {
    const l = Deno.listen({ hostname: this.host, port: this.port, tcpBacklog: this.backlog });
    this.port = (l.addr as Deno.NetAddr).port;
    this.#plain = l;
    this.#loop = acceptLoop(l, () => this.#plain !== l, (c) => this.deliver(c, c.remoteAddr.hostname));
  }

  deliver(conn: Deno.TcpConn, addr: string): void {
    this.onSocket(new DenoSocket(conn, unmap(addr)));
  }

  /** Closes the own socket (to hand the port to a shared one); resolves when it is free. */
  async unbind(): Promise<void> {
    const l = this.#plain;
    this.#plain = null;
    if (l) {
      try {
        l.close();
      } catch {
        // already closed
      }
    }
    await this.#loop;
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    removeFrom(v4ByPort, this.port, this);
    return this.hub ? this.hub.release() : this.unbind();
  }
}

/** A dual-stack [::]:port socket shared by an IPv6-only listener and IPv4 listeners. */
class Hub {
  v6: V6Listener | null = null;
  v4: V4Listener[] = [];
  #l: Deno.TcpListener | null;
  #loop: Promise<void>;
  constructor(readonly port: number, backlog: number) {
    const l = Deno.listen({ hostname: "::", port, tcpBacklog: backlog });
    this.#l = l;
    this.port = (l.addr as Deno.NetAddr).port;
    hubByPort.set(this.port, this);
    this.#loop = acceptLoop(l, () => this.#l !== l, (c) => this.#route(c));
  }

  #route(conn: Deno.TcpConn): void {
    const remote = conn.remoteAddr.hostname;
    const plain = unmap(remote);
    if (plain !== remote) {
      const local = unmap(conn.localAddr.hostname);
      const half = this.v4.find((h) => !h.closed && (h.host === "0.0.0.0" || h.host === local));
      if (half) return half.deliver(conn, plain);
    } else if (this.v6 && !this.v6.closed) {
      return this.v6.onSocket(new DenoSocket(conn, remote));
    }
    conn.close();
  }

  /** Closes the shared socket once all its listeners are closed; resolves when the port is free. */
  release(): Promise<void> {
    if ((this.v6 && !this.v6.closed) || this.v4.some((h) => !h.closed)) return Promise.resolve();
    const l = this.#l;
    this.#l = null;
    if (hubByPort.get(this.port) === this) hubByPort.delete(this.port);
    try {
      l?.close();
    } catch {
      // already closed
    }
    return this.#loop;
  }
}

class V6Listener implements Listener {
  closed = false;
  constructor(readonly hub: Hub, readonly onSocket: OnSocket) {}
  get port(): number {
    return this.hub.port;
  }
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return this.hub.release();
  }
}

/** This process's open IPv4 listeners and shared dual-stack sockets, by port. */
const v4ByPort = new Map<number, V4Listener[]>();
const hubByPort = new Map<number, Hub>();

function removeFrom(m: Map<number, V4Listener[]>, port: number, l: V4Listener): void {
  const a = m.get(port);
  if (!a) return;
  const i = a.indexOf(l);
  if (i >= 0) a.splice(i, 1);
  if (a.length === 0) m.delete(port);
}

async function listenV6Only(opts: ListenOptions, onSocket: OnSocket): Promise<Listener> {
  let hub: Hub;
  try {
    hub = new Hub(opts.port, opts.backlog);
  } catch (e) {
    const mine = (v4ByPort.get(opts.port) ?? []).filter((l) => !l.closed && !l.hub);
    if (opts.port === 0 || !isAddrInUse(e) || mine.length === 0 || hubByPort.has(opts.port)) throw withCode(e);
    // Our own IPv4 listeners hold the port: move them onto one dual-stack socket.
    await Promise.all(mine.map((l) => l.unbind()));
    try {
      hub = new Hub(opts.port, opts.backlog);
    } catch (e2) {
      for (const l of mine) {
        try {
          l.bind();
        } catch {
          // lost the port to another process; this listener stays silent until closed
        }
      }
      throw withCode(e2);
    }
    for (const l of mine) {
      l.hub = hub;
      hub.v4.push(l);
    }
  }
  const l = new V6Listener(hub, onSocket);
  hub.v6 = l;
  return l;
}

function listenPlain(opts: ListenOptions, onSocket: OnSocket): Listener {
  const l = Deno.listen({ hostname: opts.host, port: opts.port, tcpBacklog: opts.backlog });
  const port = (l.addr as Deno.NetAddr).port;
  let closed = false;
  const v4 = isV4(opts.host);
  const loop = acceptLoop(l, () => closed, (c) => {
    const a = c.remoteAddr.hostname;
    onSocket(new DenoSocket(c, v4 ? unmap(a) : a));
  });
  return {
    port,
    close: async () => {
      if (closed) return;
      closed = true;
      try {
        l.close();
      } catch {
        // already closed
      }
      await loop;
    },
  };
}

export const denoTransport: Transport = {
  async listen(opts: ListenOptions, onPlainSocket: OnSocket): Promise<Listener> {
    // TLS per connection on node:tls over the accepted native socket (tls/node-tls.ts says why).
    const onSocket = withTls(opts, onPlainSocket);
    if (isV6Any(opts.host) && opts.ipv6Only) return listenV6Only(opts, onSocket);
    if (!isV4(opts.host)) {
      try {
        return listenPlain(opts, onSocket);
      } catch (e) {
        throw withCode(e);
      }
    }
    const l = new V4Listener(opts.host, opts.port, onSocket, opts.backlog);
    try {
      l.bind();
    } catch (e) {
      const hub = hubByPort.get(opts.port);
      if (opts.port === 0 || !isAddrInUse(e) || !hub) throw withCode(e);
      // Our own IPv6-only listener's dual-stack socket holds the port: share it.
      if (hub.v4.some((h) => !h.closed && (h.host === "0.0.0.0" || opts.host === "0.0.0.0" || h.host === opts.host))) {
        throw withCode(e);
      }
      l.hub = hub;
      hub.v4.push(l);
    }
    const list = v4ByPort.get(l.port) ?? [];
    list.push(l);
    v4ByPort.set(l.port, list);
    return l;
  },

  connect(host: string, port: number, cb: (err: Error | null, s?: Socket) => void, tls?: TlsClientConfig): () => void {
    if (tls) return tlsConnect(host, port, tls, cb); // node:tls: tls/node-tls.ts says why
    const ac = new AbortController();
    let aborted = false;
    let sock: DenoSocket | undefined;
    Deno.connect({ hostname: host, port, signal: ac.signal }).then(
      (conn) => {
        if (aborted) {
          conn.close();
          return;
        }
        sock = new DenoSocket(conn, host);
        cb(null, sock);
      },
      (e) => {
        if (!aborted) cb(withCode(e));
      },
    );
    return () => {
      if (aborted) return;
      aborted = true;
      if (sock) sock.close();
      else ac.abort();
    };
  },
};
