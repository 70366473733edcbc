// Raw TCP ends for tests, with node:net (which all three runtimes provide): a peer that
// speaks the wire by hand (test/support/wire.ts builds and reads its bytes), a server that
// accepts and never speaks, and a port that refuses.
import * as net from "node:net";
import { concat, readFrames, type Frame } from "./wire.ts";
import { until } from "./wait.ts";

/** A raw TCP peer: collects everything it receives, to be read as handshake + frames. */
export class RawPeer {
  buf: Uint8Array = new Uint8Array(0);
  closed = false;
  constructor(readonly sock: net.Socket) {
    sock.on("data", (d: Uint8Array) => (this.buf = concat(this.buf, d)));
    sock.on("error", () => {});
    sock.on("close", () => (this.closed = true));
  }
  /** Connects to `host:port`, from `localAddress` if given (e.g. 127.0.0.2, not loopback to
   * libchirp's rule, docs/protocol.md §1.2). */
  static connect(port: number, host = "127.0.0.1", localAddress?: string): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host, ...(localAddress ? { localAddress } : {}) }, () => resolve(new RawPeer(s)));
      s.once("error", reject);
    });
  }
  write(b: Uint8Array): void {
    this.sock.write(b);
  }
  /** Waits until `pred` holds (about what arrived, or `closed`), or fails after `ms`. */
  until(pred: () => boolean, ms = 5000, what = "condition"): Promise<void> {
    return until(pred, ms, what);
  }
  /** The frames after the 18-byte handshake, as far as complete. */
  frames(): Frame[] {
    return readFrames(this.buf);
  }
  close(): void {
    this.sock.destroy();
  }
}

/** A TCP server that accepts and never speaks (a silent peer). */
export async function silentServer(): Promise<{ port: number; sockets: net.Socket[]; close(): Promise<void> }> {
  const sockets: net.Socket[] = [];
  const srv = net.createServer((s) => {
    s.on("error", () => {});
    sockets.push(s);
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  return {
    port: (srv.address() as net.AddressInfo).port,
    sockets,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => srv.close(() => r()));
    },
  };
}

/** A port nothing listens on (bound, then closed). */
export async function refusedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}
