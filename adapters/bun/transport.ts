// The Transport (transport.ts) on Bun's native TCP API (Bun.listen / Bun.connect with socket
// handlers). Kept apart from the entry point (bun/entry.ts) so that tests can use it without loading
// the engine or the wasm core. Only this file touches the Bun global.
//
// Writing: Bun's socket.write(bytes) sends at once and returns how many bytes the kernel took;
// it keeps no rest. This adapter queues every write() and sends the queue once per microtask
// (like cork/uncork per tick): chunks up to 16 KiB are copied into a 64 KiB staging buffer, so
// many small frames go out in one send; larger chunks are sent from their own memory. When the
// kernel takes less than offered, the rest waits for the `drain` handler. `done` is called once
// the call's last byte was taken by the kernel (never synchronously inside write()).
// Reading: socket.pause()/resume() exist in Bun 1.4 and stop polling the socket for reads
// (checked: a paused peer receives nothing, the sender's send goes partial and its drain waits
// for resume()). A dialled socket is held paused until connect's cb has run, so no byte arrives
// before the engine has set onData.
// close() uses socket.end(): the peer sees an orderly close (as with Node's destroy());
// terminate() would reset the connection. Bun.listen has an ipv6Only option (IPV6_V6ONLY) but no
// backlog option: ListenOptions.backlog is not applied (Bun uses its own default).
import type { ListenOptions, Listener, Socket, TlsClientConfig, Transport } from "../transport.ts";
import { tlsConnect, withTls } from "../tls/node-tls.ts";

const noop = (): void => {};

/** write() returns false once this many bytes wait in the queue. */
const HIGH_WATER = 1 << 20;
/** Chunks up to this size are copied into a staging buffer (one send for many small frames);
 * larger ones are sent from their own memory. */
const SMALL = 16 * 1024;
const STAGE_SIZE = 64 * 1024;

interface Pending {
  done: (err?: Error) => void;
  /** The value of #queuedTotal once this call's last byte is sent. */
  end: number;
}

export class BunSocket implements Socket {
  onData: (bytes: Uint8Array) => void = noop;
  onClose: (err?: Error) => void = noop;
  onDrain: () => void = noop;
  #s: Bun.Socket<BunSocket | undefined>;
  #closed = false;
  #err: Error | undefined;
  /** Bytes not yet taken by the kernel, in order, from #head on; then the staging buffer's. */
  #segs: Uint8Array[] = [];
  #head = 0;
  #stage = new Uint8Array(STAGE_SIZE);
  #staged = 0;
  #pendingBytes = 0;
  /** Calls whose bytes are not all sent yet. */
  #dones: Pending[] = [];
  /** Bytes ever queued, and bytes of those sent. */
  #queuedTotal = 0;
  #sentTotal = 0;
  /** A flush is queued as a microtask. */
  #scheduled = false;
  /** The kernel took less than offered: wait for the drain handler. */
  #blocked = false;
  #needDrain = false;
  #paused = false;

  constructor(s: Bun.Socket<BunSocket | undefined>, readonly remoteAddress: string) {
    this.#s = s;
    s.data = this;
    try {
      s.setNoDelay(true);
      s.setKeepAlive(true, 60_000); // libchirp's CH_TCP_KEEPALIVE (protocol.md §1.1)
    } catch {
      // the socket may already be closing; the close handler reports it
    }
  }

  write(chunks: Uint8Array[], done: (err?: Error) => void): boolean {
    if (this.#closed) {
      queueMicrotask(() => done(new Error("socket closed")));
      return false;
    }
    for (const c of chunks) {
      const len = c.byteLength;
      if (len === 0) continue;
      if (len <= SMALL) {
        if (this.#staged + len > STAGE_SIZE) this.#seal(false);
        this.#stage.set(c, this.#staged);
        this.#staged += len;
      } else {
        this.#seal(false);
        this.#segs.push(c);
      }
      this.#pendingBytes += len;
      this.#queuedTotal += len;
    }
    this.#dones.push({ done, end: this.#queuedTotal });
    if (!this.#blocked && !this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#flushTask);
    }
    if (this.#pendingBytes >= HIGH_WATER) {
      this.#needDrain = true;
      return false;
    }
    return true;
  }

  /** Moves the staged bytes into the queue: `inPlace` (the flush that follows at once) queues
   * a view of the staging buffer, which is replaced only if the kernel leaves some of it;
   * otherwise a copy is queued and the staging buffer stays in use. */
  #seal(inPlace: boolean): void {
    if (this.#staged === 0) return;
    this.#segs.push(inPlace ? this.#stage.subarray(0, this.#staged) : this.#stage.slice(0, this.#staged));
    this.#staged = 0;
  }

  #flushTask = (): void => {
    this.#scheduled = false;
    this._flush();
  };

  /** Sends what is queued, as far as the kernel takes it (also the drain handler). */
  _flush(): void {
    if (this.#closed) return;
    this.#blocked = false;
    this.#seal(true);
    const s = this.#s;
    const segs = this.#segs;
    while (this.#head < segs.length) {
      const b = segs[this.#head];
      const n = s.write(b);
      if (n > 0) {
        this.#sentTotal += n;
        this.#pendingBytes -= n;
      }
      if (n < b.byteLength) {
        if (n > 0) segs[this.#head] = b.subarray(n);
        this.#blocked = true;
        break;
      }
      segs[this.#head++] = EMPTY;
    }
    if (this.#head === segs.length) {
      this.#segs = [];
      this.#head = 0;
    } else {
      // The staging buffer is still queued: stage into a new one from now on.
      if (segs[segs.length - 1].buffer === this.#stage.buffer) this.#stage = new Uint8Array(STAGE_SIZE);
      if (this.#head > 1024) {
        this.#segs = segs.slice(this.#head);
        this.#head = 0;
      }
    }
    const dones = this.#dones;
    let k = 0;
    while (k < dones.length && dones[k].end <= this.#sentTotal) k++;
    if (k > 0) {
      const ready = dones.splice(0, k);
      for (const d of ready) d.done();
    }
    if (this.#needDrain && this.#pendingBytes < HIGH_WATER && !this.#closed) {
      this.#needDrain = false;
      this.onDrain();
    }
  }

  pause(): void {
    this.#paused = true;
    this.#s.pause();
  }

  resume(): void {
    this.#paused = false;
    if (!this.#closed) this.#s.resume();
  }

  /** After connect's cb: start reading unless the engine paused meanwhile. */
  _release(): void {
    if (!this.#paused && !this.#closed) this.#s.resume();
  }

  close(): void {
    if (this.#closed) return;
    this.#s.end(); // calls the close handler (_closed) synchronously
    this._closed(undefined);
  }

  _error(e: Error): void {
    this.#err ??= e;
  }

  /** The close handler (or close()). */
  _closed(err: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    const why = err ?? this.#err;
    const failed = this.#dones;
    this.#dones = [];
    this.#segs = [];
    this.#head = 0;
    this.#staged = 0;
    this.#pendingBytes = 0;
    queueMicrotask(() => {
      if (failed.length > 0) {
        const e = why ?? new Error("socket closed");
        for (const d of failed) d.done(e);
      }
      this.onClose(why);
    });
  }
}

const EMPTY = new Uint8Array(0);

const unmap = (a: string): string => (a.startsWith("::ffff:") && a.includes(".") ? a.slice(7) : a);
const isV4 = (h: string): boolean => /^\d{1,3}(\.\d{1,3}){3}$/.test(h);

type BunSock = Bun.Socket<BunSocket | undefined>;

const handlers = {
  data(s: BunSock, bytes: Uint8Array): void {
    s.data?.onData(bytes);
  },
  drain(s: BunSock): void {
    s.data?._flush();
  },
  close(s: BunSock, err?: Error): void {
    s.data?._closed(err);
  },
  error(s: BunSock, err: Error): void {
    s.data?._error(err);
  },
};

export const bunTransport: Transport = {
  async listen(opts: ListenOptions, onPlainSocket: (s: Socket) => void): Promise<Listener> {
    // TLS per connection on node:tls over the accepted native socket (tls/node-tls.ts says why).
    const onSocket = withTls(opts, onPlainSocket);
    const v4 = isV4(opts.host);
    const server = Bun.listen<BunSocket | undefined>({
      hostname: opts.host,
      port: opts.port,
      ipv6Only: opts.ipv6Only,
      socket: {
        ...handlers,
        open(s: BunSock): void {
          const addr = s.remoteAddress;
          if (!addr) {
            s.end();
            return;
          }
          onSocket(new BunSocket(s, v4 ? unmap(addr) : addr));
        },
      },
    });
    let closed = false;
    return {
      port: server.port,
      close: async () => {
        if (closed) return;
        closed = true;
        server.stop(false); // stop accepting; open connections stay
      },
    };
  },

  connect(host: string, port: number, cb: (err: Error | null, s?: Socket) => void, tls?: TlsClientConfig): () => void {
    if (tls) return tlsConnect(host, port, tls, cb); // node:tls (Bun's own TLS): tls/node-tls.ts says why
    let aborted = false;
    let sock: BunSocket | undefined;
    Bun.connect<BunSocket | undefined>({
      hostname: host,
      port,
      data: undefined,
      socket: {
        ...handlers,
        connectError: noop,
        open(s: BunSock): void {
          // Hold reads until the engine has the socket (and its onData) from cb.
          s.pause();
          sock = new BunSocket(s, host);
        },
      },
    }).then(
      (s) => {
        if (aborted) {
          s.end();
          return;
        }
        sock ??= new BunSocket(s, host);
        cb(null, sock);
        sock._release();
      },
      (e: Error) => {
        if (!aborted) cb(e);
      },
    );
    return () => {
      if (aborted) return;
      aborted = true;
      sock?.close();
    };
  },
};
