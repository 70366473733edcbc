// Throughput benchmark: one connection, sender and receiver in two processes (pinned to
// separate CPUs when `taskset` exists), 16-byte payloads. Measures Chirp in asynchronous mode
// (messages/s received and released by the handler) and synchronous mode (each send waits for
// the receiver's release: one unacknowledged message, as libchirp), next to baselines
// measured in the same run on the same machine: raw node:net with the same 43-byte frames
// batched into 64 KiB writes, and raw node:net request/reply round trips.
//
//   node build/js/bench/throughput.js [--runs 3] [--async-count 1000000] [--sync-count 20000]
//
// Prints a table and one JSON line (prefix "RESULT ").
import { spawn, spawnSync } from "node:child_process";
import * as net from "node:net";
import { fileURLToPath } from "node:url";
import { Chirp } from "../adapters/index.ts";

const self = fileURLToPath(import.meta.url);
const PAYLOAD = 16;
const FRAME = 27 + PAYLOAD;

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

function report(line: string): void {
  process.stdout.write(line + "\n");
}

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
  const srv = net.createServer((s) => {
    s.setNoDelay(true);
    let n = 0;
    let t0 = 0;
    let rest = new Uint8Array(0);
    const ack = new Uint8Array(27);
    ack[26] = 2;
    s.on("data", (d: Buffer) => {
      if (n === 0) t0 = performance.now();
      let buf: Uint8Array = d;
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
        if (mode === "sync") s.write(ack);
      }
      rest = buf.slice(p);
      if (n >= count && t0 > 0) {
        report(`done ${n} ${performance.now() - t0}`);
        t0 = -1;
      }
    });
    s.on("error", () => {});
  });
  srv.listen(0, "127.0.0.1", () => report(`ready ${(srv.address() as net.AddressInfo).port}`));
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
  const s = net.connect({ port, host: "127.0.0.1" });
  s.setNoDelay(true);
  await new Promise((r) => s.once("connect", r));
  const frame = new Uint8Array(FRAME);
  new DataView(frame.buffer).setUint32(20, PAYLOAD);
  const t0 = performance.now();
  if (mode === "sync") {
    let pending: (() => void) | null = null;
    let got = 0;
    s.on("data", (d: Buffer) => {
      got += d.length;
      while (got >= 27) {
        got -= 27;
        const p = pending;
        pending = null;
        p?.();
      }
    });
    for (let i = 0; i < count; i++) {
      await new Promise<void>((r) => {
        pending = r;
        s.write(frame);
      });
    }
  } else {
    const perBatch = Math.floor(65536 / FRAME);
    const batch = new Uint8Array(perBatch * FRAME);
    for (let i = 0; i < perBatch; i++) batch.set(frame, i * FRAME);
    let sent = 0;
    while (sent < count) {
      const k = Math.min(perBatch, count - sent);
      const ok = s.write(k === perBatch ? batch : batch.subarray(0, k * FRAME));
      sent += k;
      if (!ok) await new Promise((r) => s.once("drain", r));
    }
  }
  report(`sent ${count} ${performance.now() - t0}`);
  s.end();
}

// ------------------------------------------------------------------ orchestration

function pinned(cpu: number, args: string[]): [string, string[]] {
  const hasTaskset = spawnSync("taskset", ["-c", "0", "true"]).status === 0;
  return hasTaskset ? ["taskset", ["-c", String(cpu), process.execPath, ...args]] : [process.execPath, args];
}

function run(cpu: number, args: string[]): { lines: AsyncIterable<string>; stdinEnd(): void; exited: Promise<number | null> } {
  const [cmd, argv] = pinned(cpu, [self, ...args]);
  const child = spawn(cmd, argv, { stdio: ["pipe", "pipe", "inherit"] });
  const exited = new Promise<number | null>((r) => child.once("exit", r));
  async function* lines(): AsyncIterable<string> {
    let buf = "";
    for await (const d of child.stdout!) {
      buf += d.toString();
      let i: number;
      while ((i = buf.indexOf("\n")) >= 0) {
        yield buf.slice(0, i);
        buf = buf.slice(i + 1);
      }
    }
  }
  return { lines: lines(), stdinEnd: () => child.stdin!.end(), exited };
}

async function measure(kind: "chirp" | "raw", mode: "async" | "sync", count: number): Promise<number> {
  const recv = run(1, [`recv-${kind}`, mode, String(count)]);
  const it = recv.lines[Symbol.asyncIterator]();
  const ready = (await it.next()).value as string;
  const port = Number(ready.split(" ")[1]);
  const send = run(0, [`send-${kind}`, mode, String(port), String(count)]);
  const done = (await it.next()).value as string;
  const [, n, ms] = done.split(" ");
  for await (const _ of send.lines) { /* drain */ }
  await send.exited;
  recv.stdinEnd();
  await recv.exited;
  return Number(n) / (Number(ms) / 1000);
}

const median = (xs: number[]): number => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const runs = arg("runs", 3);
  const asyncCount = arg("async-count", 1_000_000);
  const syncCount = arg("sync-count", 20_000);
  const rows: { name: string; mode: string; count: number; runs: number[]; median: number }[] = [];
  for (const [kind, mode, count] of [
    ["raw", "async", asyncCount], ["chirp", "async", asyncCount],
    ["raw", "sync", syncCount], ["chirp", "sync", syncCount],
  ] as const) {
    const xs: number[] = [];
    for (let r = 0; r < runs; r++) xs.push(await measure(kind, mode, count));
    rows.push({ name: kind, mode, count, runs: xs.map(Math.round), median: Math.round(median(xs)) });
  }
  const base = (mode: string): number => rows.find((r) => r.name === "raw" && r.mode === mode)!.median;
  console.log(`node ${process.version}, ${PAYLOAD}-byte payloads, one connection, two processes, median of ${runs}`);
  console.log("what                                   msg/s      vs raw");
  for (const r of rows) {
    const label = r.name === "raw"
      ? (r.mode === "async" ? "raw node:net, 64 KiB batched writes" : "raw node:net, request/reply")
      : (r.mode === "async" ? "chirp async (released by handler)" : "chirp sync (send waits for ACK)");
    console.log(`${label.padEnd(38)} ${String(r.median).padStart(9)}  ${(r.median / base(r.mode)).toFixed(2)}`);
  }
  console.log("RESULT " + JSON.stringify({ runtime: "node", version: process.version, payload: PAYLOAD, rows }));
}

const [role, mode, a, b] = process.argv.slice(2);
if (role === "recv-chirp") await chirpReceiver(mode, Number(a));
else if (role === "recv-raw") rawReceiver(mode, Number(a));
else if (role === "send-chirp") await chirpSender(mode, Number(a), Number(b));
else if (role === "send-raw") await rawSender(mode, Number(a), Number(b));
else await main();
