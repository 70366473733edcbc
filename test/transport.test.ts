// The Transport contract (adapters/transport.ts), checked on the runtime that runs this file:
//   Node: npx tsc -p tsconfig.json && node build/js/test/transport.test.js
//   Deno: npx deno run -A test/transport.test.ts
//   Bun:  npx bun test/transport.test.ts
// It loads only the transports (node/transport.ts, deno/transport.ts, bun/transport.ts), not the engine or the
// wasm core. All traffic stays on 127.0.0.1 and ::1.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { detectRuntime } from "../adapters/runtime.ts";
import { nodeTransport } from "../adapters/node/transport.ts";
import { denoTransport } from "../adapters/deno/transport.ts";
import { bunTransport } from "../adapters/bun/transport.ts";
import type { Listener, Socket, Transport } from "../adapters/transport.ts";
import { sleep, until } from "./support/wait.ts";
import { concat, text } from "./support/wire.ts";

const runtime = detectRuntime();
const T: Transport = { node: nodeTransport, deno: denoTransport, bun: bunTransport }[runtime];


/** The byte at stream offset i of the test pattern. */
const patternAt = (i: number): number => (i * 131 + (i >>> 9) + 7) & 255;

function pattern(offset: number, len: number): Uint8Array {
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = patternAt(offset + i);
  return b;
}

/** One end of a connection, with everything the transport reported. */
interface Peer {
  sock: Socket;
  bytes: number;
  /** Received bytes that differ from the pattern at their stream offset. */
  bad: number;
  /** Keeps the received bytes (small tests). */
  chunks: Uint8Array[] | null;
  closes: (Error | undefined)[];
  drains: number;
  /** Called after each delivery. */
  tap: (p: Peer) => void;
}

function attach(sock: Socket, keep = true): Peer {
  const p: Peer = { sock, bytes: 0, bad: 0, chunks: keep ? [] : null, closes: [], drains: 0, tap: () => {} };
  sock.onData = (b) => {
    // The bytes are ours only until we return: check or copy them now.
    for (let i = 0; i < b.byteLength; i++) if (b[i] !== patternAt(p.bytes + i)) p.bad++;
    p.chunks?.push(b.slice());
    p.bytes += b.byteLength;
    p.tap(p);
  };
  sock.onClose = (e) => p.closes.push(e);
  sock.onDrain = () => p.drains++;
  return p;
}

function received(p: Peer): string {
  return new TextDecoder().decode(concat(...(p.chunks ?? [])));
}

function connectP(host: string, port: number, keep = true): Promise<Peer> {
  return new Promise((resolve, reject) => {
    let calls = 0;
    T.connect(host, port, (err, s) => {
      if (++calls > 1) throw new Error("connect cb called twice");
      if (err || !s) reject(err ?? new Error("no socket"));
      else resolve(attach(s, keep)); // attach inside the callback, before any data can come
    });
  });
}

interface Server {
  l: Listener;
  accepted: Peer[];
}

async function serve(host: string, port = 0, keep = true, ipv6Only = host.includes(":")): Promise<Server> {
  const accepted: Peer[] = [];
  const l = await T.listen({ host, port, backlog: 64, ipv6Only }, (s) => accepted.push(attach(s, keep)));
  return { l, accepted };
}

/** A connected pair: a dialled (client), b accepted (server). */
async function pair(host = "127.0.0.1", keep = true): Promise<{ srv: Server; a: Peer; b: Peer }> {
  const srv = await serve(host, 0, keep);
  const a = await connectP(host, srv.l.port, keep);
  await until(() => srv.accepted.length === 1, 10_000, "accept");
  return { srv, a, b: srv.accepted[0] };
}

async function teardown(srv: Server, ...peers: Peer[]): Promise<void> {
  for (const p of [...peers, ...srv.accepted]) p.sock.close();
  await srv.l.close();
  await until(() => [...peers, ...srv.accepted].every((p) => p.closes.length >= 1), 10_000, "sockets closed");
}

/** Writes and records each call's done: [call index, error]. */
function writer(p: Peer): { write: (chunks: Uint8Array[]) => boolean; dones: [number, Error | undefined][]; calls: number } {
  const w = {
    calls: 0,
    dones: [] as [number, Error | undefined][],
    write(chunks: Uint8Array[]): boolean {
      const i = w.calls++;
      return p.sock.write(chunks, (err) => w.dones.push([i, err]));
    },
  };
  return w;
}

let v6: boolean | undefined;
async function haveIPv6(): Promise<boolean> {
  if (v6 === undefined) {
    try {
      const l = await T.listen({ host: "::1", port: 0, backlog: 4, ipv6Only: true }, (s) => s.close());
      await l.close();
      v6 = true;
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code !== "EADDRNOTAVAIL" && code !== "EAFNOSUPPORT") throw e;
      v6 = false;
    }
  }
  return v6;
}

async function exchange(host: string): Promise<void> {
  const { srv, a, b } = await pair(host);
  assert.ok(srv.l.port > 0, "listener reports its port");
  assert.is(b.sock.remoteAddress, host, "accepted socket: the peer's IP");
  assert.is(a.sock.remoteAddress, host, "dialled socket: the dialled address");
  const wa = writer(a);
  const wb = writer(b);
  wa.write([text("ping "), text("from "), text("a")]);
  wb.write([text("pong from b")]);
  await until(() => a.bytes === 11 && b.bytes === 11, 10_000, "both directions");
  assert.is(received(b), "ping from a");
  assert.is(received(a), "pong from b");
  await until(() => wa.dones.length === 1 && wb.dones.length === 1, 10_000, "done callbacks");
  assert.equal(wa.dones, [[0, undefined]]);
  assert.equal(wb.dones, [[0, undefined]]);
  await teardown(srv, a);
}

test(`[${runtime}] 127.0.0.1: listen on port 0, connect, bytes both ways`, async () => {
  await exchange("127.0.0.1");
});

test(`[${runtime}] ::1: listen on port 0, connect, bytes both ways (skipped without IPv6)`, async () => {
  if (!(await haveIPv6())) {
    console.log("  (IPv6 unavailable: skipped)");
    return;
  }
  await exchange("::1");
});

test(`[${runtime}] many writes of many chunks: order kept, one done per call, in order`, async () => {
  const { srv, a, b } = await pair("127.0.0.1", false);
  const w = writer(a);
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed % n;
  };
  const total = 8 << 20;
  const stream = pattern(0, total);
  let off = 0;
  let sawFalse = false;
  while (off < total) {
    const chunks: Uint8Array[] = [];
    const n = 1 + rnd(5);
    for (let k = 0; k < n && off < total; k++) {
      const kind = rnd(10);
      const size = kind < 6 ? 1 + rnd(100) : kind < 9 ? 1000 + rnd(20_000) : 20_000 + rnd(200_000);
      const len = Math.min(size, total - off);
      chunks.push(stream.subarray(off, off + len));
      off += len;
    }
    if (rnd(20) === 0) chunks.push(new Uint8Array(0)); // empty chunks are fine too
    if (!w.write(chunks)) sawFalse = true;
  }
  await until(() => b.bytes === total, 30_000, "all bytes");
  await until(() => w.dones.length === w.calls, 10_000, "all done callbacks");
  assert.is(b.bad, 0, "bytes arrive in order, unchanged");
  assert.ok(
    w.dones.every(([i, e], k) => i === k && e === undefined),
    "done is called once per call, in call order, without error",
  );
  assert.ok(sawFalse, "write() returns false with 8 MiB queued");
  await until(() => a.drains > 0, 10_000, "onDrain after write() returned false");
  await sleep(50);
  assert.is(w.dones.length, w.calls, "no done is called twice");
  await teardown(srv, a);
});

test(`[${runtime}] pause() stops delivery and pushes back on the sender; resume() delivers all`, async () => {
  const { srv, a, b } = await pair("127.0.0.1", false);
  b.sock.pause();
  const w = writer(a);
  const total = 48 << 20; // far more than the kernel buffers of both ends hold
  const chunk = 256 << 10;
  for (let off = 0; off < total; off += chunk) w.write([pattern(off, chunk)]);
  await sleep(600);
  assert.is(b.bytes, 0, "nothing is delivered while paused");
  assert.ok(w.dones.length < w.calls, "the sender's writes stall (TCP pushes back)");
  // Resume, then pause again from inside onData once 4 MiB have arrived.
  let pausedAt = -1;
  b.tap = (p) => {
    if (pausedAt < 0 && p.bytes >= 4 << 20) {
      pausedAt = p.bytes;
      p.sock.pause();
    }
  };
  b.sock.resume();
  await until(() => pausedAt >= 0, 10_000, "data after resume()");
  await sleep(400);
  assert.is(b.bytes, pausedAt, "pause() from inside onData stops delivery at once");
  b.sock.resume();
  await until(() => b.bytes === total, 30_000, "all bytes after the second resume()");
  await until(() => w.dones.length === w.calls, 10_000, "all writes done");
  assert.is(b.bad, 0, "no byte lost or changed");
  assert.ok(w.dones.every(([, e]) => e === undefined));
  await teardown(srv, a);
});

test(`[${runtime}] close(): onClose exactly once on both sides; writes afterwards fail`, async () => {
  for (const closer of ["client", "server"] as const) {
    const { srv, a, b } = await pair();
    const [x, y] = closer === "client" ? [a, b] : [b, a];
    x.sock.close();
    await until(() => x.closes.length >= 1 && y.closes.length >= 1, 10_000, `${closer} close seen on both sides`);
    x.sock.close(); // a second close is harmless
    await sleep(100);
    assert.equal(x.closes, [undefined], `${closer}: onClose once, no error`);
    assert.equal(y.closes, [undefined], `${closer}'s peer: onClose once, no error (orderly close)`);
    let err: Error | undefined;
    let calls = 0;
    const ok = x.sock.write([text("late")], (e) => {
      calls++;
      err = e;
    });
    assert.is(ok, false, "write after close returns false");
    await until(() => calls > 0, 10_000, "done of a write after close");
    assert.instance(err, Error, "write after close: done gets an error");
    await srv.l.close();
  }
});

test(`[${runtime}] close() with writes pending: each done is called once`, async () => {
  const { srv, a, b } = await pair("127.0.0.1", false);
  b.sock.pause();
  const w = writer(a);
  const chunk = 256 << 10;
  for (let off = 0; off < 32 << 20; off += chunk) w.write([pattern(off, chunk)]);
  await sleep(200);
  assert.ok(w.dones.length < w.calls, "writes are pending");
  a.sock.close();
  await until(() => w.dones.length === w.calls, 10_000, "every done after close()");
  await until(() => a.closes.length === 1, 10_000, "onClose");
  // A paused socket does not read, so it sees the peer's close only after resume().
  b.sock.resume();
  await until(() => b.closes.length === 1, 10_000, "onClose on the peer after resume()");
  await sleep(100);
  assert.is(w.dones.length, w.calls, "no done twice");
  const seen = new Set(w.dones.map(([i]) => i));
  assert.is(seen.size, w.calls, "every call got its own done");
  assert.ok(w.dones.some(([, e]) => e instanceof Error), "the unsent ones got an error");
  assert.is(a.closes.length, 1);
  await srv.l.close();
});

test(`[${runtime}] connect to a refused port: cb(err) once with ECONNREFUSED`, async () => {
  const { l } = await serve("127.0.0.1");
  const port = l.port;
  await l.close();
  const results: (Error | null)[] = [];
  T.connect("127.0.0.1", port, (err, s) => {
    results.push(err);
    s?.close();
  });
  await until(() => results.length > 0, 10_000, "connect callback");
  await sleep(100);
  assert.is(results.length, 1, "cb called once");
  assert.instance(results[0], Error);
  assert.is((results[0] as Error & { code?: string }).code, "ECONNREFUSED");
});

test(`[${runtime}] listening twice on one port rejects with code EADDRINUSE`, async () => {
  for (const host of ["127.0.0.1", "0.0.0.0"]) {
    const first = await serve(host);
    let err: unknown;
    try {
      const second = await serve(host, first.l.port);
      await second.l.close();
    } catch (e) {
      err = e;
    }
    assert.instance(err, Error, `${host}: second listen fails`);
    assert.is((err as { code?: string }).code, "EADDRINUSE", `${host}: code`);
    await first.l.close();
    // the port is free again after close()
    const again = await serve(host, first.l.port);
    assert.is(again.l.port, first.l.port);
    await again.l.close();
  }
});

test(`[${runtime}] aborting a pending connect: cb never called, no socket left open`, async () => {
  const srv = await serve("127.0.0.1");
  let calls = 0;
  const abort = T.connect("127.0.0.1", srv.l.port, () => calls++);
  abort();
  abort(); // twice is harmless
  await sleep(300);
  assert.is(calls, 0, "cb not called after abort");
  await until(() => srv.accepted.every((p) => p.closes.length === 1), 10_000, "server side of an aborted dial closes");
  await srv.l.close();
});

test(`[${runtime}] 0.0.0.0 and :: (ipv6Only) on one port, as the engine listens (skipped without IPv6)`, async () => {
  if (!(await haveIPv6())) {
    console.log("  (IPv6 unavailable: skipped)");
    return;
  }
  const s4 = await serve("0.0.0.0", 0, true, false);
  const s6 = await serve("::", s4.l.port, true, true);
  assert.is(s6.l.port, s4.l.port);
  const c4 = await connectP("127.0.0.1", s4.l.port);
  const c6 = await connectP("::1", s4.l.port);
  await until(() => s4.accepted.length === 1 && s6.accepted.length === 1, 10_000, "one accept on each listener");
  assert.is(s4.accepted[0].sock.remoteAddress, "127.0.0.1", "IPv4 client on the IPv4 listener, plain IPv4 text");
  assert.is(s6.accepted[0].sock.remoteAddress, "::1", "IPv6 client on the IPv6 listener");
  writer(c4).write([text("four")]);
  writer(c6).write([text("six")]);
  await until(() => s4.accepted[0].bytes === 4 && s6.accepted[0].bytes === 3, 10_000, "data on both");
  assert.is(received(s4.accepted[0]), "four");
  assert.is(received(s6.accepted[0]), "six");
  await teardown(s4, c4);
  await teardown(s6, c6);
  // both closed: the port is free for both families again
  const again = await serve("0.0.0.0", s4.l.port, true, false);
  await again.l.close();
});

test.run();
