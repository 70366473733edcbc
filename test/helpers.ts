// Shared test helpers: start nodes on free ports, raw TCP peers (node:net, which all three
// runtimes provide) that speak the wire protocol by hand, and frame builders (protocol.md §1.4, §2.1).
import * as net from "node:net";
import process from "node:process";
import { spawn, type ChildProcess } from "node:child_process";
import { test } from "uvu";
import { Chirp, type ChirpConfig } from "../adapters/index.ts";
import type { RuntimeName } from "../adapters/runtime.ts";
import { runtime, scriptCommand } from "./runtime.ts";

export const ZERO_ID = new Uint8Array(16);

/** Nodes started by node(): a failed test skips its own close(), and an open node keeps the
 * test process alive until the runner's timeout; the suite closes what is left at its end. */
const started = new Set<Chirp>();
test.after(async () => {
  await Promise.all([...started].map((n) => n.close()));
});

export async function node(cfg: ChirpConfig = {}): Promise<Chirp> {
  const n = await Chirp.start({ port: 0, ...cfg });
  started.add(n);
  return n;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Waits until `pred()` holds, polling; fails after `ms`. */
export async function until(pred: () => boolean, ms = 5000, what = "condition"): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** Resolves with the promise's outcome, or "pending" if it has not settled after `ms`. */
export async function stateAfter<T>(p: Promise<T>, ms: number): Promise<"pending" | "resolved" | "rejected"> {
  let s: "pending" | "resolved" | "rejected" = "pending";
  p.then(() => (s = "resolved"), () => (s = "rejected"));
  await sleep(ms);
  return s;
}

/** The error code a promise rejects with (fails the test if it resolves). */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
  throw new Error("expected a rejection, but the promise resolved");
}

export function handshake(port: number, identity: Uint8Array = new Uint8Array(16).fill(7)): Uint8Array {
  const b = new Uint8Array(18);
  new DataView(b.buffer).setUint16(0, port);
  b.set(identity, 2);
  return b;
}

export function frame(o: {
  identity?: Uint8Array; serial?: number; type?: number; header?: Uint8Array; data?: Uint8Array;
  headerLen?: number; dataLen?: number;
}): Uint8Array {
  const header = o.header ?? new Uint8Array(0);
  const data = o.data ?? new Uint8Array(0);
  const b = new Uint8Array(27 + header.length + data.length);
  const dv = new DataView(b.buffer);
  b.set(o.identity ?? new Uint8Array(16).fill(0xaa), 0);
  dv.setUint32(16, o.serial ?? 1);
  dv.setUint32(20, o.dataLen ?? data.length);
  dv.setUint16(24, o.headerLen ?? header.length);
  b[26] = o.type ?? 0;
  b.set(header, 27);
  b.set(data, 27 + header.length);
  return b;
}

export interface Frame { identity: Uint8Array; serial: number; type: number; header: Uint8Array; data: Uint8Array }

/** A raw TCP peer: collects everything it receives and parses it as handshake + frames. */
export class RawPeer {
  buf = new Uint8Array(0);
  closed = false;
  #waiters: (() => void)[] = [];
  constructor(readonly sock: net.Socket) {
    sock.on("data", (d: Buffer) => {
      const n = new Uint8Array(this.buf.length + d.length);
      n.set(this.buf);
      n.set(d, this.buf.length);
      this.buf = n;
      this.#wake();
    });
    sock.on("error", () => {});
    sock.on("close", () => {
      this.closed = true;
      this.#wake();
    });
  }
  static connect(port: number, host = "127.0.0.1"): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host }, () => resolve(new RawPeer(s)));
      s.once("error", reject);
    });
  }
  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }
  write(b: Uint8Array): void {
    this.sock.write(b);
  }
  /** Waits until `pred` holds (checked on every arrival and on close), or fails after `ms`. */
  async until(pred: () => boolean, ms = 5000, what = "condition"): Promise<void> {
    const end = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((r) => {
        this.#waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }
  /** The frames after the 18-byte handshake, as far as complete. */
  frames(): Frame[] {
    const out: Frame[] = [];
    let p = 18;
    const dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    while (p + 27 <= this.buf.length) {
      const dl = dv.getUint32(p + 20);
      const hl = dv.getUint16(p + 24);
      if (p + 27 + hl + dl > this.buf.length) break;
      out.push({
        identity: this.buf.slice(p, p + 16), serial: dv.getUint32(p + 16), type: this.buf[p + 26],
        header: this.buf.slice(p + 27, p + 27 + hl), data: this.buf.slice(p + 27 + hl, p + 27 + hl + dl),
      });
      p += 27 + hl + dl;
    }
    return out;
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

export const text = (s: string): Uint8Array => new TextEncoder().encode(s);

export interface Peer { child: ChildProcess; port: number; lines: string[]; runtime: RuntimeName }

/** Runs the repo script `rel` (a .ts path) in its own process on runtime `rt`; resolves when
 * it prints "ready <port>", with every stdout line collected in `lines`. */
export function spawnReady(
  rel: string, args: string[], rt: RuntimeName = runtime, env: Record<string, string> = {},
): Promise<{ child: ChildProcess; port: number; lines: string[] }> {
  const [cmd, argv] = scriptCommand(rel, args, rt);
  const child = spawn(cmd, argv, { stdio: ["pipe", "pipe", "inherit"], env: { ...process.env, ...env } });
  const lines: string[] = [];
  return new Promise((resolve, reject) => {
    let buf = "";
    child.stdout!.on("data", (d: Uint8Array) => {
      buf += new TextDecoder().decode(d);
      const parts = buf.split("\n");
      buf = parts.pop()!;
      for (const l of parts) {
        lines.push(l);
        const m = /^ready (\d+)$/.exec(l);
        if (m) resolve({ child, port: Number(m[1]), lines });
      }
    });
    child.once("exit", (c) => reject(new Error(`${rt} ${rel} exited early with ${c}`)));
  });
}

/** Starts test/fixtures/peer.ts in its own process on runtime `rt` (default: this one).
 * mode: "sync" | "async"; behaviour: "echo" | "hold". */
export async function startPeer(mode: string, behaviour: string, rt: RuntimeName = runtime, env: Record<string, string> = {}): Promise<Peer> {
  const p = await spawnReady("test/fixtures/peer.ts", ["0", mode, behaviour], rt, env);
  return { ...p, runtime: rt };
}

/** Ends a peer through its stdin (it closes its node and exits); resolves with the exit code. */
export function stopPeer(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    child.once("exit", (code) => resolve(code));
    child.stdin!.end();
  });
}
