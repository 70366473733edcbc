// Throughput benchmark: one connection, sender and receiver in two processes (pinned to
// separate CPUs when `taskset` exists), 16-byte payloads, on each runtime. Measures Chirp in
// asynchronous mode (messages/s received and released by the handler) and synchronous mode
// (each send waits for the receiver's release: one unacknowledged message, as libchirp), next
// to baselines measured in the same run on the same runtime: the runtime's raw sockets (the
// same transport Chirp uses, without Chirp) carrying the same 43-byte frames batched into
// 64 KiB writes, and raw request/reply round trips (a frame out, a 27-byte ACK back).
//
//   node build/js/bench/throughput.js [--runs 3] [--async-count 1000000] [--sync-count 20000]
//                                     [--runtimes node,deno,bun]
//
// Prints a table per runtime and one JSON line (prefix "RESULT ").
import process from "node:process";
import { Chirp, type Socket, type Transport } from "../adapters/index.ts";
import { nodeTransport } from "../adapters/node-net.ts";
import { denoTransport } from "../adapters/deno-net.ts";
import { bunTransport } from "../adapters/bun-net.ts";
import type { RuntimeName } from "../adapters/runtime.ts";
import { runtime } from "../test/runtime.ts";
import { arg, drain, hasTaskset, median, report, runRole } from "./harness.ts";

const SCRIPT = "bench/throughput.ts";

const transport: Transport = runtime === "deno" ? denoTransport : runtime === "bun" ? bunTransport : nodeTransport;
const noop = (): void => {};
const PAYLOAD = 16;
const FRAME = 27 + PAYLOAD;


// ------------------------------------------------------------------ receivers (child process)

async function chirpReceiver(mode: string, count: number): Promise<void> {
  let n = 0;
  let t0 = 0;
  const node = await Chirp.start({
    port: 0,
    bindV6: null,
    synchronous: mode === "sync",
    onMessage(msg) {
      if (n === 0) t0 = performance.now();
      msg.release();
      if (++n === count) report(`done ${n} ${performance.now() - t0}`);
    },
  });
  report(`ready ${node.port}`);
  process.stdin.resume();
  process.stdin.on("end", () => void node.close().then(() => process.exit(0)));
}

function rawReceiver(mode: string, count: number): void {
  const ack = new Uint8Array(27);
  ack[26] = 2;
  void transport.listen({ host: "127.0.0.1", port: 0, backlog: 100, ipv6Only: false }, (s: Socket) => {
    let n = 0;
    let t0 = 0;
    let rest = new Uint8Array(0);
    s.onData = (d) => {
      if (n === 0) t0 = performance.now();
      let buf = d;
      if (rest.length) {
        buf = new Uint8Array(rest.length + d.length);
        buf.set(rest);
        buf.set(d, rest.length);
      }
      const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
      let p = 0;
      while (p + 27 <= buf.length) {
        const len = 27 + dv.getUint16(p + 24) + dv.getUint32(p + 20);
        if (p + len > buf.length) break;
        p += len;
        n++;
        if (mode === "sync") s.write([ack], noop);
      }
      rest = buf.slice(p);
      if (n >= count && t0 > 0) {
        report(`done ${n} ${performance.now() - t0}`);
        t0 = -1;
      }
    };
  }).then((l) => report(`ready ${l.port}`));
  process.stdin.resume();
  process.stdin.on("end", () => process.exit(0));
}

// ------------------------------------------------------------------ senders (child process)

async function chirpSender(mode: string, port: number, count: number): Promise<void> {
  const node = await Chirp.start({ port: 0, bindV6: null, synchronous: mode === "sync" });
  const payload = new Uint8Array(PAYLOAD).fill(0x61);
  const to = `127.0.0.1:${port}`;
  const t0 = performance.now();
  if (mode === "sync") {
    for (let i = 0; i < count; i++) await node.send(to, payload);
  } else {
    let last: Promise<unknown> = Promise.resolve();
    for (let i = 0; i < count; i++) {
      last = node.send(to, payload);
      if (i % 20000 === 19999) await last;
    }
    await last;
  }
  report(`sent ${count} ${performance.now() - t0}`);
  await node.close();
}

async function rawSender(mode: string, port: number, count: number): Promise<void> {
  const s = await new Promise<Socket>((resolve, reject) => {
    transport.connect("127.0.0.1", port, (err, sock) => (err ? reject(err) : resolve(sock!)));
  });
  const frame = new Uint8Array(FRAME);
  new DataView(frame.buffer).setUint32(20, PAYLOAD);
  const t0 = performance.now();
  if (mode === "sync") {
    let pending: (() => void) | null = null;
    let got = 0;
    s.onData = (d) => {
      got += d.length;
      while (got >= 27) {
        got -= 27;
        const p = pending;
        pending = null;
        p?.();
      }
    };
    for (let i = 0; i < count; i++) {
      await new Promise<void>((r) => {
        pending = r;
        s.write([frame], noop);
      });
    }
  } else {
    const perBatch = Math.floor(65536 / FRAME);
    const batch = new Uint8Array(perBatch * FRAME);
    for (let i = 0; i < perBatch; i++) batch.set(frame, i * FRAME);
    let sent = 0;
    let drained: (() => void) | null = null;
    s.onDrain = () => drained?.();
    while (sent < count) {
      const k = Math.min(perBatch, count - sent);
      const ok = s.write([k === perBatch ? batch : batch.subarray(0, k * FRAME)], noop);
      sent += k;
      if (!ok) await new Promise<void>((r) => (drained = r));
    }
    // Wait until the last batch left (done callback of an empty-queue write).
    await new Promise<void>((r) => s.write([new Uint8Array(0)], () => r()));
  }
  report(`sent ${count} ${performance.now() - t0}`);
  s.close();
}

// ------------------------------------------------------------------ orchestration

async function measure(rt: RuntimeName, kind: "chirp" | "raw", mode: "async" | "sync", count: number): Promise<number> {
  const recv = runRole(SCRIPT, rt, 1, [`recv-${kind}`, mode, String(count)]);
  const ready = (await recv.lines.next()).value as string;
  const port = Number(ready.split(" ")[1]);
  const send = runRole(SCRIPT, rt, 0, [`send-${kind}`, mode, String(port), String(count)]);
  const done = (await recv.lines.next()).value as string;
  const [, n, ms] = done.split(" ");
  await drain(send);
  await send.exited;
  recv.stdinEnd();
  await recv.exited;
  return Number(n) / (Number(ms) / 1000);
}

async function main(): Promise<void> {
  const runs = arg("runs", 3);
  const asyncCount = arg("async-count", 1_000_000);
  const syncCount = arg("sync-count", 20_000);
  const ri = process.argv.indexOf("--runtimes");
  const rts = (ri > 0 ? process.argv[ri + 1] : "node,deno,bun").split(",") as RuntimeName[];
  const all: { runtime: RuntimeName; rows: Row[] }[] = [];
  for (const rt of rts) {
    const rows: Row[] = [];
    for (const [kind, mode, count] of [
      ["raw", "async", asyncCount], ["chirp", "async", asyncCount],
      ["raw", "sync", syncCount], ["chirp", "sync", syncCount],
    ] as const) {
      const xs: number[] = [];
      for (let r = 0; r < runs; r++) xs.push(await measure(rt, kind, mode, count));
      rows.push({ name: kind, mode, count, runs: xs.map(Math.round), median: Math.round(median(xs)) });
    }
    all.push({ runtime: rt, rows });
    const base = (mode: string): number => rows.find((r) => r.name === "raw" && r.mode === mode)!.median;
    console.log(`\n${rt}: ${PAYLOAD}-byte payloads, one connection, two processes${hasTaskset ? " pinned to CPUs 0 and 1" : ""}, median of ${runs}`);
    console.log("what                                      msg/s   vs raw");
    for (const r of rows) {
      const label = r.name === "raw"
        ? (r.mode === "async" ? "raw sockets, 64 KiB batched writes" : "raw sockets, request/ACK round trips")
        : (r.mode === "async" ? "chirp async (released by handler)" : "chirp sync (send waits for ACK)");
      console.log(`${label.padEnd(38)} ${String(r.median).padStart(10)}   ${(r.median / base(r.mode)).toFixed(2)}`);
    }
  }
  console.log("RESULT " + JSON.stringify({ payload: PAYLOAD, runs, results: all }));
}

interface Row { name: string; mode: string; count: number; runs: number[]; median: number }

const [role, mode, a, b] = process.argv.slice(2);
if (role === "recv-chirp") await chirpReceiver(mode, Number(a));
else if (role === "recv-raw") rawReceiver(mode, Number(a));
else if (role === "send-chirp") await chirpSender(mode, Number(a), Number(b));
else if (role === "send-raw") await rawSender(mode, Number(a), Number(b));
else await main();
