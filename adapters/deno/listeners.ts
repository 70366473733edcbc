// Listening on Deno: Deno.listen accept loops, and the dual-stack sharing below.
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
import type { ListenOptions, Listener, Socket } from "../transport.ts";
import { DenoSocket, withCode } from "./socket.ts";

const isAddrInUse = (e: unknown): boolean =>
  e instanceof Deno.errors.AddrInUse || (e as { code?: string } | null)?.code === "EADDRINUSE";

/** "::ffff:1.2.3.4" -> "1.2.3.4"; anything else unchanged. */
function unmap(a: string): string {
  return a.startsWith("::ffff:") && a.includes(".") ? a.slice(7) : a;
}

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

/** Listens as the Transport contract says (transport.ts), sharing ports between families as
 * described at the top of this file. */
export function listenDeno(opts: ListenOptions, onSocket: OnSocket): Promise<Listener> | Listener {
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
}
