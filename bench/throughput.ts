// Throughput benchmark (issue #5): Chirp next to baselines measured in the same run on the
// same machine. One connection, sender and receiver in two processes (sender pinned to CPU 0,
// receiver to CPU 1 when `taskset` exists), each figure the median of several runs, on each
// runtime. Not a test: nothing here asserts on speed.
//
//   16 B one-way    raw sockets: the transport Chirp uses (adapters/*-net.ts), without Chirp,
//                   carrying the same 43-byte frames (27-byte header + 16 B) batched into
//                   64 KiB writes; the receiver parses the frame lengths. Chirp async:
//                   messages/s received and released by the handler, from a plain
//                   `for (…) await node.send()` loop and from sends in windows (--window);
//                   the same windows in synchronous mode with window 16 (protocol.md §4.7:
//                   each message acknowledged on release; target ≥ 0.5× the async rate).
//                   zeromq PUSH/PULL (Node; its sender is an `await sock.send()` loop). Each
//                   Chirp async run also reports the longest gap of a 10 ms interval in the
//                   sender (the "gap ms" column, issue 14).
//   16 B round trip raw request/ACK (a frame out, a 27-byte ACK back, one at a time); Chirp
//                   sync (each send waits for the receiver's release); zeromq REQ/REP (Node).
//   1 KiB one-way   the same three with 1024-byte payloads (raw: 1051-byte frames batched).
//   soak            Chirp async over a long run (default 10 million messages): both
//                   processes report RSS (process.memoryUsage().rss) and node.coreMemoryBytes
//                   (wasm memory) at start, every 5 % of the messages, and at the end.
//
// Rates are taken by the receiver, from its first message to its last, warm-up (JIT) included;
// the soak's rate is the same measure over a long run. MB/s = payload bytes (10^6) per second;
// "spread" = (max - min) / median of the runs. The runs of a group go in rounds (raw,
// zeromq, chirp, raw, ...). A load average above 0.5 at the start is noted (other processes).
//
// zeromq (devDependency zeromq.js v6) is loaded dynamically: without it the zeromq rows are
// skipped with a note. It runs with its defaults on its documented fast path: `await send()`
// resolves synchronously while the queue has room (receive() likewise). Tried on this
// machine, within the noise of that: sendTimeout 0 with unawaited sends in batches of 512,
// high-water marks of 100000, `for await` receiving.
//
//   npm run bench        (builds, then runs this with the defaults)
//   node build/js/bench/throughput.js [options]
//     --runs 3                runs per row (the table shows medians)
//     --async-count 2000000   messages per 16 B one-way run (raw: 10x as many)
//     --sync-count 20000      round trips per sync run
//     --kib-count 500000      messages per 1 KiB run (raw: 4x as many)
//     --window 2000           Chirp async sender: sends issued before it awaits the last one
//                             (bounded in-flight sends, as an application would keep; with
//                             tens of thousands of unsettled promises V8's young generation
//                             overflows and the sender spends ~40 % in GC)
//     --soak 10000000         soak messages per runtime (0 = no soak)
//     --runtimes node,deno,bun
//     --out bench/results/throughput.json   (the SVG chart goes next to it, .svg)
//
// Prints a table per runtime and a soak table; writes the JSON (every run's figure, medians,
// ratios, targets, soak samples, machine, options, date) and the SVG chart.
import { mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import { dirname, resolve } from "node:path";
import process from "node:process";
import { Chirp, type Socket, type Transport } from "../adapters/index.ts";
import { nodeTransport } from "../adapters/node/transport.ts";
import { denoTransport } from "../adapters/deno/transport.ts";
import { bunTransport } from "../adapters/bun/transport.ts";
import type { RuntimeName } from "../adapters/runtime.ts";
import { runtime } from "../test/support/runtime.ts";
import { arg, countingReceiver, hasTaskset, machineInfo, median, report, runPair, runtimesArg, SEND_WINDOW, sendLoop, strArg, loadZeromq, zeromqOrThrow } from "./harness.ts";
import { chartSvg } from "./chart.ts";
import { BENCH_SYNC_WINDOW, TARGETS, type Group, type Kind, type MemSide, type Mode, type Results, type Row, type Soak } from "./throughput-results.ts";

const SCRIPT = "bench/throughput.ts";

const transport: Transport = runtime === "deno" ? denoTransport : runtime === "bun" ? bunTransport : nodeTransport;
const noop = (): void => {};
const ACK_BYTES = 27;
/** Chirp async sender: sends issued before awaiting the last one (--window). */
const WINDOW = Number(process.env.CHIRP_BENCH_WINDOW ?? SEND_WINDOW);
/** Raw one-way runs carry this many times the messages (raw sockets are that much faster), so
 * that their runs last about as long as the others. */
const RAW_FACTOR: Record<number, number> = { 16: 10, 1024: 4 };

// ------------------------------------------------------------------ zeromq (Node only, optional)

/** The part of zeromq.js v6 used here (declared locally so the build does not need it). */
interface ZmqSocket {
  bind(address: string): Promise<void>;
  connect(address: string): void;
  send(msg: Uint8Array): Promise<void>;
  receive(): Promise<Uint8Array[]>;
  close(): void;
  readonly lastEndpoint: string | null;
  linger: number;
}
interface Zmq {
  Push: new () => ZmqSocket;
  Pull: new () => ZmqSocket;
  Request: new () => ZmqSocket;
  Reply: new () => ZmqSocket;
  version: string;
}

const loadZmq = (): Promise<Zmq | string> => loadZeromq<Zmq>();
const zmqOrThrow = (): Promise<Zmq> => zeromqOrThrow<Zmq>();

// ------------------------------------------------------------------ memory samples

function memLine(n: number, node: Chirp): void {
  report(`mem ${n} ${process.memoryUsage().rss} ${node.coreMemoryBytes}`);
}

// ------------------------------------------------------------------ receivers (child process)

/** A Chirp role's mode: `syncWindow` > 1 is synchronous with that window, whatever `mode`
 * says (the "chirp-window" rows); else synchronous when `mode` is "sync". */
const modeConfig = (mode: string, syncWindow: number): { synchronous: boolean; window?: number } =>
  syncWindow > 1 ? { synchronous: true, window: syncWindow } : { synchronous: mode === "sync" };

/** Chirp receiver. memEvery > 0: memory lines at start, every memEvery messages, at the end. */
async function chirpReceiver(mode: string, count: number, memEvery: number, syncWindow = 1): Promise<void> {
  const node = await countingReceiver(modeConfig(mode, syncWindow), count, (n, nd) => {
    if (memEvery > 0 && (n % memEvery === 0 || n === count)) memLine(n, nd);
  });
  if (memEvery > 0) memLine(0, node);
}

/** Raw receiver: follows the frame lengths (27-byte header: data length at 20, header length
 * at 24) without copying bodies; in sync mode answers each frame with a 27-byte ACK. */
function rawReceiver(mode: string, count: number): void {
  const ack = new Uint8Array(ACK_BYTES);
  ack[26] = 2;
  const sync = mode === "sync";
  void transport.listen({ host: "127.0.0.1", port: 0, backlog: 100, ipv6Only: false }, (s: Socket) => {
    let n = 0;
    let t0 = 0;
    const head = new Uint8Array(27); // a header split across reads
    const headView = new DataView(head.buffer);
    let have = 0; // bytes of `head` filled
    let skip = 0; // body bytes of the current frame still to come
    const frame = (): void => {
      n++;
      if (sync) s.write([ack], noop);
    };
    s.onData = (d) => {
      if (t0 === 0) t0 = performance.now();
      const dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
      const len = d.length;
      let p = 0;
      while (p < len) {
        if (skip > 0) {
          const k = Math.min(skip, len - p);
          skip -= k;
          p += k;
          if (skip === 0) frame();
        } else if (have === 0 && p + 27 <= len) {
          skip = dv.getUint16(p + 24) + dv.getUint32(p + 20);
          p += 27;
          if (skip === 0) frame();
        } else {
          const k = Math.min(27 - have, len - p);
          head.set(d.subarray(p, p + k), have);
          have += k;
          p += k;
          if (have === 27) {
            have = 0;
            skip = headView.getUint16(24) + headView.getUint32(20);
            if (skip === 0) frame();
          }
        }
      }
      if (n >= count && t0 > 0) {
        report(`done ${n} ${performance.now() - t0}`);
        t0 = -1;
      }
    };
  }).then((l) => report(`ready ${l.port}`));
  process.stdin.resume();
  process.stdin.on("end", () => process.exit(0));
}

/** zeromq receiver: PULL (async) or REP answering each request with 27 bytes (sync). */
async function zmqReceiver(mode: string, count: number): Promise<void> {
  const zmq = await zmqOrThrow();
  const sync = mode === "sync";
  const sock = sync ? new zmq.Reply() : new zmq.Pull();
  await sock.bind("tcp://127.0.0.1:*");
  report(`ready ${sock.lastEndpoint!.split(":").pop()}`);
  const ack = new Uint8Array(ACK_BYTES);
  process.stdin.resume();
  process.stdin.on("end", () => {
    sock.close();
    process.exit(0);
  });
  let t0 = 0;
  for (let n = 1; n <= count; n++) {
    await sock.receive();
    if (n === 1) t0 = performance.now();
    if (sync) await sock.send(ack);
  }
  report(`done ${count} ${performance.now() - t0}`);
}

// ------------------------------------------------------------------ senders (child process)

/** The longest gap between ticks of a 10 ms interval while it runs (ms): how long the
 * sender's event loop was held (issue 14). */
function timerGaps(): { stop(): number } {
  let last = performance.now();
  let max = 0;
  const tick = setInterval(() => {
    const t = performance.now();
    if (t - last > max) max = t - last;
    last = t;
  }, 10);
  return {
    stop(): number {
      clearInterval(tick);
      return Math.max(max, performance.now() - last);
    },
  };
}

/** Chirp sender; `window` 1 is the plain `for (…) await node.send()` loop. Reports the
 * longest timer gap with its "sent" line. */
async function chirpSender(mode: string, count: number, payloadBytes: number, memEvery: number, port: number, window = WINDOW, syncWindow = 1): Promise<void> {
  const node = await Chirp.start({ port: 0, bindV6: null, ...modeConfig(mode, syncWindow) });
  const payload = new Uint8Array(payloadBytes).fill(0x61);
  const to = `127.0.0.1:${port}`;
  if (memEvery > 0) memLine(0, node);
  const gaps = timerGaps();
  const t0 = performance.now();
  if (window === 1 && mode !== "sync") {
    for (let i = 0; i < count; i++) await node.send(to, payload); // what users write first
  } else {
    await sendLoop(() => node.send(to, payload), mode === "sync", count, window, (n) => {
      if (memEvery > 0 && n % memEvery === 0 && n !== count) memLine(n, node);
    });
  }
  const ms = performance.now() - t0;
  const gap = gaps.stop();
  if (memEvery > 0) memLine(count, node);
  report(`sent ${count} ${ms} ${gap}`);
  await node.close();
}

function batchOf(payloadBytes: number): { batch: Uint8Array; perBatch: number; frameBytes: number } {
  const frameBytes = 27 + payloadBytes;
  const frame = new Uint8Array(frameBytes);
  new DataView(frame.buffer).setUint32(20, payloadBytes);
  const perBatch = Math.max(1, Math.floor(65536 / frameBytes));
  const batch = new Uint8Array(perBatch * frameBytes);
  for (let i = 0; i < perBatch; i++) batch.set(frame, i * frameBytes);
  return { batch, perBatch, frameBytes };
}

async function rawSender(mode: string, count: number, payloadBytes: number, port: number): Promise<void> {
  const s = await new Promise<Socket>((resolve, reject) => {
    transport.connect("127.0.0.1", port, (err, sock) => (err ? reject(err) : resolve(sock!)));
  });
  const { batch, perBatch, frameBytes } = batchOf(payloadBytes);
  const t0 = performance.now();
  if (mode === "sync") {
    const frame = batch.subarray(0, frameBytes);
    let pending: (() => void) | null = null;
    let got = 0;
    s.onData = (d) => {
      got += d.length;
      while (got >= ACK_BYTES) {
        got -= ACK_BYTES;
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
    let sent = 0;
    let drained: (() => void) | null = null;
    s.onDrain = () => drained?.();
    while (sent < count) {
      const k = Math.min(perBatch, count - sent);
      const ok = s.write([k === perBatch ? batch : batch.subarray(0, k * frameBytes)], noop);
      sent += k;
      if (!ok) await new Promise<void>((r) => (drained = r));
    }
    // Wait until the last batch left (done callback of an empty-queue write).
    await new Promise<void>((r) => s.write([new Uint8Array(0)], () => r()));
  }
  report(`sent ${count} ${performance.now() - t0}`);
  s.close();
}

/** zeromq sender: PUSH (async: `await send` per message, synchronous while the queue has
 * room) or REQ (sync: send, wait for the reply). */
async function zmqSender(mode: string, count: number, payloadBytes: number, port: number): Promise<void> {
  const zmq = await zmqOrThrow();
  const sync = mode === "sync";
  const sock = sync ? new zmq.Request() : new zmq.Push();
  sock.linger = -1; // close() delivers what is queued
  sock.connect(`tcp://127.0.0.1:${port}`);
  const payload = new Uint8Array(payloadBytes).fill(0x61);
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    await sock.send(payload);
    if (sync) await sock.receive();
  }
  report(`sent ${count} ${performance.now() - t0}`);
  sock.close();
}

// ------------------------------------------------------------------ orchestration

const LABEL: Record<Kind, Record<Mode, string>> = {
  raw: { async: "raw sockets, 64 KiB batched writes", sync: "raw request/ACK round trips" },
  zeromq: { async: "zeromq PUSH/PULL", sync: "zeromq REQ/REP round trips" },
  chirp: { async: "chirp async, sends in windows", sync: "chirp sync (send waits for ACK)" },
  "chirp-await": { async: "chirp async, await send() loop", sync: "" },
  "chirp-window": { async: `chirp sync, window ${BENCH_SYNC_WINDOW}, in windows`, sync: "" },
};

/** One run: msg/s measured by the receiver, and the sender's longest timer gap (Chirp). */
async function measure(rt: RuntimeName, kind: Kind, mode: Mode, count: number, payload: number): Promise<{ rate: number; gap: number | null }> {
  const recv = kind === "chirp-await" ? "chirp" : kind;
  const recvArgs = [`recv-${recv}`, mode, String(count), String(payload), "0"];
  const { done, send } = await runPair(SCRIPT, rt, recvArgs, (port) => [`send-${kind}`, mode, String(count), String(payload), "0", String(port)]);
  const sent = send.find((l) => l.startsWith("sent "))?.split(" ");
  const gap = kind.startsWith("chirp") && sent?.[3] !== undefined ? Number(sent[3]) : null;
  return { rate: Number(done[1]) / (Number(done[2]) / 1000), gap };
}

function memSide(lines: string[]): MemSide {
  const samples = lines.filter((l) => l.startsWith("mem ")).map((l) => {
    const [, n, rss, core] = l.split(" ").map(Number);
    return { n, rss, coreMemoryBytes: core };
  });
  const rss = samples.map((s) => s.rss);
  const first = samples[0], last = samples[samples.length - 1];
  return {
    samples,
    rssStart: first.rss,
    rssWarm: (samples[1] ?? first).rss,
    rssEnd: last.rss,
    rssMax: Math.max(...rss),
    coreStart: first.coreMemoryBytes,
    coreEnd: last.coreMemoryBytes,
    coreChanged: samples.some((s) => s.coreMemoryBytes !== first.coreMemoryBytes),
  };
}

async function soak(rt: RuntimeName, count: number): Promise<Soak> {
  const every = String(Math.max(1, Math.floor(count / 20)));
  const out = await runPair(SCRIPT, rt, ["recv-chirp", "async", String(count), "16", every],
    (port) => ["send-chirp", "async", String(count), "16", every, String(port)]);
  return {
    runtime: rt,
    count,
    msgPerSec: Math.round(Number(out.done[1]) / (Number(out.done[2]) / 1000)),
    receiver: memSide(out.recv),
    sender: memSide(out.send),
  };
}

const fmt = (x: number): string => Math.round(x).toLocaleString("en-US");
const ratio = (a: number | undefined, b: number | undefined): number | null => (a !== undefined && b ? a / b : null);
const mib = (b: number): string => (b / 1048576).toFixed(1);

function printRuntime(rt: RuntimeName, version: string, groups: Group[], runs: number): void {
  console.log(`\n${rt} ${version}: one connection, two processes${hasTaskset ? " (sender on CPU 0, receiver on CPU 1)" : " (not pinned: no taskset)"}, median of ${runs} run${runs === 1 ? "" : "s"}`);
  console.log(`${"".padEnd(38)} ${"msg/s".padStart(11)} ${"MB/s".padStart(8)} ${"spread".padStart(7)} ${"vs raw".padStart(7)} ${"vs zmq".padStart(7)} ${"gap ms".padStart(7)}   target`);
  for (const g of groups) {
    console.log(g.title);
    for (const r of g.rows) {
      const spread = r.runs.length > 1 ? `${Math.round(((Math.max(...r.runs) - Math.min(...r.runs)) / r.median) * 100)}%` : "";
      const vsRaw = r.kind === "chirp" ? g.chirpVsRaw : r.kind === "zeromq" ? g.zeromqVsRaw : r.kind === "chirp-await" && r.median && g.rows.find((x) => x.kind === "raw") ? r.median / g.rows.find((x) => x.kind === "raw")!.median : null;
      const vsZmq = r.kind === "chirp" ? g.chirpVsZeromq : r.kind === "chirp-await" ? g.awaitVsZeromq ?? null : null;
      // The longest timer gap of the runs (the sender's event loop held that long at most).
      const gap = r.timerGapMs?.length ? Math.max(...r.timerGapMs) : null;
      const asyncMedian = g.rows.find((x) => x.kind === "chirp")?.median;
      const target = r.kind === "chirp" ? `${g.target}: ${g.pass === null ? "n/a" : g.pass ? "yes" : "NO"}` : r.kind === "chirp-await" ? awaitTarget(rt, r.median, vsZmq)
        : r.kind === "chirp-window" && asyncMedian ? `>= ${TARGETS.windowVsAsync.toFixed(2)} x async: ${(r.median / asyncMedian).toFixed(2)} ${r.median / asyncMedian >= TARGETS.windowVsAsync ? "yes" : "NO"}` : "";
      const gapCell = gap === null ? "" : `${gap.toFixed(0)}${gap < TARGETS.timerGapMs ? "" : "!"}`;
      console.log(`  ${r.label.padEnd(36)} ${fmt(r.median).padStart(11)} ${(r.mbPerSec === null ? "" : r.mbPerSec.toFixed(1)).padStart(8)} ${spread.padStart(7)} ${(vsRaw === null ? "" : vsRaw.toFixed(2)).padStart(7)} ${(vsZmq === null ? "" : vsZmq.toFixed(2)).padStart(7)} ${gapCell.padStart(7)}   ${target}`);
    }
  }
  console.log(`  (gap ms: the longest gap between ticks of a 10 ms interval in the sender, over the runs; target < ${TARGETS.timerGapMs}, "!" above)`);
}

/** The await loop's target (issue 14): ≥ 1.5× zeromq.js's await loop on Node, ≥ 300 k elsewhere. */
function awaitTarget(rt: RuntimeName, median: number, vsZmq: number | null): string {
  if (rt === "node" && vsZmq !== null) return `>= ${TARGETS.awaitVsZeromq} x zeromq: ${vsZmq >= TARGETS.awaitVsZeromq ? "yes" : "NO"}`;
  return `>= ${fmt(TARGETS.awaitMsgPerSec)} msg/s: ${median >= TARGETS.awaitMsgPerSec ? "yes" : "NO"}`;
}

function printSoak(soaks: Soak[]): void {
  if (!soaks.length) return;
  console.log(`\nsoak: chirp async, 16 B, one connection; RSS in MiB (start = after Chirp.start, warm = after 5 % of the messages)`);
  console.log(`${"".padEnd(14)} ${"messages".padStart(11)} ${"msg/s".padStart(10)}  ${"RSS start".padStart(9)} ${"warm".padStart(6)} ${"end".padStart(6)} ${"max".padStart(6)}   wasm memory`);
  for (const s of soaks) {
    for (const [who, m] of [["receiver", s.receiver], ["sender", s.sender]] as const) {
      const core = m.coreChanged ? `CHANGED ${m.coreStart} -> ${m.coreEnd} bytes` : `unchanged (${m.coreStart} bytes)`;
      console.log(`${`${s.runtime} ${who}`.padEnd(14)} ${fmt(s.count).padStart(11)} ${fmt(s.msgPerSec).padStart(10)}  ${mib(m.rssStart).padStart(9)} ${mib(m.rssWarm).padStart(6)} ${mib(m.rssEnd).padStart(6)} ${mib(m.rssMax).padStart(6)}   ${core}`);
    }
  }
}

async function main(): Promise<void> {
  const runs = arg("runs", 3);
  const asyncCount = arg("async-count", 2_000_000);
  const syncCount = arg("sync-count", 20_000);
  const kibCount = arg("kib-count", 500_000);
  const soakCount = arg("soak", 10_000_000);
  const window = arg("window", WINDOW);
  process.env.CHIRP_BENCH_WINDOW = String(window); // the sender roles read it
  const rts = runtimesArg();
  const out = resolve(strArg("out", "bench/results/throughput.json"));
  const zmq = rts.includes("node") ? await loadZmq() : "not on Node";
  const notes: string[] = [];
  if (typeof zmq === "string" && rts.includes("node")) {
    notes.push(`zeromq rows skipped: ${zmq}`);
    console.log(`note: zeromq rows skipped: ${zmq}`);
  }
  const machine = machineInfo(rts);
  const loadStart = os.loadavg();
  if (loadStart[0] > 0.5) {
    const busy = `load average ${loadStart.map((x) => x.toFixed(2)).join(" ")} at the start: other processes are running, figures will be noisy`;
    notes.push(busy);
    console.log(`note: ${busy}`);
  }
  const zeromq = typeof zmq === "string" ? null : `zeromq.js ${createRequire(import.meta.url)("zeromq/package.json").version}, libzmq ${zmq.version}`;
  console.log(`${machine.cpuModel}, ${machine.cpuCount} CPUs, ${machine.os}; ${Object.entries(machine.runtimes).map(([k, v]) => `${k} ${v}`).join(", ")}${zeromq ? `; ${zeromq}` : ""}`);
  const results: Results["results"] = [];
  const soaks: Soak[] = [];
  for (const rt of rts) {
    const withZmq = rt === "node" && typeof zmq !== "string";
    const groups: Group[] = [];
    for (const [title, mode, payload, count] of [
      ["16 B one-way", "async", 16, asyncCount],
      ["16 B round trips", "sync", 16, syncCount],
      ["1 KiB one-way (raw: 1051-byte frames)", "async", 1024, kibCount],
    ] as const) {
      const awaitRow = mode === "async" && payload === 16;
      const kinds = [...(withZmq ? ["raw", "zeromq"] : ["raw"]), ...(awaitRow ? ["chirp-await", "chirp-window"] : []), "chirp"] as Kind[];
      const countOf = (kind: Kind): number => (kind === "raw" && mode === "async" ? count * RAW_FACTOR[payload] : count);
      // Rounds of one run per kind, so that a noisy moment hits Chirp and its baselines alike.
      const xs = new Map<Kind, number[]>(kinds.map((k) => [k, []]));
      const gaps = new Map<Kind, number[]>(kinds.map((k) => [k, []]));
      for (let r = 0; r < runs; r++) {
        for (const kind of kinds) {
          const { rate, gap } = await measure(rt, kind, mode, countOf(kind), payload);
          xs.get(kind)!.push(rate);
          if (gap !== null) gaps.get(kind)!.push(Math.round(gap * 10) / 10);
        }
      }
      const rows: Row[] = kinds.map((kind) => {
        const m = median(xs.get(kind)!);
        const g = mode === "async" && gaps.get(kind)!.length ? { timerGapMs: gaps.get(kind)! } : {};
        return { kind, mode, payload, label: LABEL[kind][mode], count: countOf(kind), runs: xs.get(kind)!.map(Math.round), median: Math.round(m), mbPerSec: mode === "async" ? (m * payload) / 1e6 : null, ...g };
      });
      const med = (k: Kind): number | undefined => rows.find((r) => r.kind === k)?.median;
      const chirpVsRaw = ratio(med("chirp"), med("raw"));
      const [target, pass] = mode === "sync"
        ? [`>= ${TARGETS.syncVsRaw.toFixed(2)} x raw`, chirpVsRaw !== null && chirpVsRaw >= TARGETS.syncVsRaw]
        : payload === 16
          ? [`>= ${fmt(TARGETS.asyncMsgPerSec)} msg/s`, med("chirp")! >= TARGETS.asyncMsgPerSec]
          : [`>= ${TARGETS.kibVsRaw.toFixed(2)} x raw MB/s`, chirpVsRaw !== null && chirpVsRaw >= TARGETS.kibVsRaw];
      const awaitVsZeromq = awaitRow ? ratio(med("chirp-await"), med("zeromq")) : null;
      groups.push({ title, mode, payload, target, pass, rows, chirpVsRaw, chirpVsZeromq: ratio(med("chirp"), med("zeromq")), ...(awaitRow ? { awaitVsZeromq } : {}), zeromqVsRaw: ratio(med("zeromq"), med("raw")) });
    }
    const version = machine.runtimes[rt] ?? "";
    results.push({ runtime: rt, version, groups });
    printRuntime(rt, version, groups, runs);
    if (soakCount > 0) soaks.push(await soak(rt, soakCount));
  }
  printSoak(soaks);
  const res: Results = {
    date: new Date().toISOString(),
    command: ["node", ...process.argv.slice(1)].join(" "),
    options: { runs, asyncCount, syncCount, kibCount, soak: soakCount, window, runtimes: rts.join(",") },
    machine,
    pinning: hasTaskset ? "taskset: sender CPU 0, receiver CPU 1" : "none (taskset not found)",
    loadAverage: { start: loadStart, end: os.loadavg() },
    zeromq,
    targets: TARGETS,
    notes,
    results,
    soak: soaks,
  };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(res, null, 1) + "\n");
  const svg = out.replace(/\.json$/, "") + ".svg";
  writeFileSync(svg, chartSvg(res));
  console.log(`\nwrote ${out}\nwrote ${svg}`);
}

const [role, mode, count, payload, memEvery, port] = process.argv.slice(2);
const n = Number(count), bytes = Number(payload), every = Number(memEvery), p = Number(port);
if (role === "recv-chirp") await chirpReceiver(mode, n, every);
else if (role === "recv-chirp-window") await chirpReceiver(mode, n, every, BENCH_SYNC_WINDOW);
else if (role === "recv-raw") rawReceiver(mode, n);
else if (role === "recv-zeromq") await zmqReceiver(mode, n);
else if (role === "send-chirp") await chirpSender(mode, n, bytes, every, p);
else if (role === "send-chirp-await") await chirpSender(mode, n, bytes, every, p, 1);
else if (role === "send-chirp-window") await chirpSender(mode, n, bytes, every, p, WINDOW, BENCH_SYNC_WINDOW);
else if (role === "send-raw") await rawSender(mode, n, bytes, p);
else if (role === "send-zeromq") await zmqSender(mode, n, bytes, p);
else await main();
