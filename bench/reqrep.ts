// Request/reply benchmark (issue 19): the patterns' `request` against a `responder`, in both
// modes, next to baselines measured in the same run: raw ping-pong on the same runtime's
// sockets (a 43-byte frame out, 43 bytes back, one at a time) and zeromq.js REQ/REP (Node; it
// fails on Bun and Deno); and Chirp's plain synchronous send (a message out, its ACK back on
// release: the "sync send" target). Two processes, a client and a server, in two placements:
// on two CPUs (client CPU 0, server CPU 1) and both on CPU 0. 16-byte payloads. Figures: round
// trips/s (from the client's first timed request to its last reply) and the p50 / p99 of the
// round trips.
// Not a test: nothing here asserts on speed.
//
// Every client first makes `--warmup` untimed round trips (raw, zeromq and Chirp alike): the
// figures are the steady state, not the JIT's warm-up (which on one CPU competes with both
// processes: 1 warm-up round trip gave Chirp 18.7 k/s, 20,000 gave 32.4 k/s on Node).
//
//   node build/js/bench/reqrep.js [--runs 3] [--count 20000] [--warmup 20000] [--runtimes node,deno,bun]
//                                 [--out bench/results/reqrep.json]
//
// Prints a table per runtime and placement; writes the JSON and an SVG chart next to it.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import process from "node:process";
import { Chirp, type Socket, type Transport } from "../adapters/index.ts";
import { nodeTransport } from "../adapters/node/transport.ts";
import { denoTransport } from "../adapters/deno/transport.ts";
import { bunTransport } from "../adapters/bun/transport.ts";
import type { RuntimeName } from "../adapters/runtime.ts";
import { request, responder } from "../patterns/mod.ts";
import { runtime } from "../test/support/runtime.ts";
import { arg, collect, hasTaskset, machineInfo, median, report, runRole, runtimesArg, strArg } from "./harness.ts";
import { barPanel, PANEL_H, PANEL_W, short, text } from "./chart.ts";

const SCRIPT = "bench/reqrep.ts";
const FRAME = 43; // 27-byte header + 16 bytes
const transport: Transport = runtime === "deno" ? denoTransport : runtime === "bun" ? bunTransport : nodeTransport;
const noop = (): void => {};

type Kind = "raw" | "zeromq" | "chirp-sync" | "chirp-async" | "chirp-send";
const LABEL: Record<Kind, string> = {
  raw: "raw ping-pong (43 B each way)",
  zeromq: "zeromq.js REQ/REP",
  "chirp-sync": "chirp request/responder, sync",
  "chirp-async": "chirp request/responder, async",
  "chirp-send": "chirp sync send (message + ACK)",
};

// ------------------------------------------------------------------ servers (child process)

function stayUntilStdinEnds(close: () => void): void {
  process.stdin.resume();
  process.stdin.on("end", () => {
    close();
    process.exit(0);
  });
}

async function serveRaw(): Promise<void> {
  const answer = new Uint8Array(FRAME);
  const l = await transport.listen({ host: "127.0.0.1", port: 0, backlog: 100, ipv6Only: false }, (s: Socket) => {
    let got = 0;
    s.onData = (d) => {
      got += d.length;
      while (got >= FRAME) {
        got -= FRAME;
        s.write([answer], noop);
      }
    };
  });
  report(`ready ${l.port}`);
  stayUntilStdinEnds(() => void l.close());
}

async function serveZmq(): Promise<void> {
  const name = "zeromq"; // not a literal import: the build and the other runtimes do without it
  const zmq = (await import(name)) as { Reply: new () => ZmqSock };
  const sock = new zmq.Reply();
  await sock.bind("tcp://127.0.0.1:*");
  report(`ready ${sock.lastEndpoint!.split(":").pop()}`);
  stayUntilStdinEnds(() => sock.close());
  for (;;) {
    const [m] = await sock.receive();
    await sock.send(m);
  }
}

/** The receiver of plain synchronous sends: releases each message (its ACK is the answer). */
async function serveChirpSend(): Promise<void> {
  const node = await Chirp.start({ port: 0, bindV6: null, synchronous: true, onMessage: (m) => m.release() });
  report(`ready ${node.port}`);
  stayUntilStdinEnds(() => void node.close());
}

async function serveChirp(sync: boolean): Promise<void> {
  const node = await Chirp.start({ port: 0, bindV6: null, synchronous: sync, onMessage: responder((req) => req.data) });
  report(`ready ${node.port}`);
  stayUntilStdinEnds(() => void node.close());
}

// ------------------------------------------------------------------ clients (child process)

interface ZmqSock {
  bind(a: string): Promise<void>;
  connect(a: string): void;
  send(m: Uint8Array): Promise<void>;
  receive(): Promise<Uint8Array[]>;
  close(): void;
  lastEndpoint: string | null;
}

/** Untimed round trips before the timed ones (the client role's 3rd argument). */
let warmup = 0;

/** Runs `once` `warmup` times untimed, then `count` times, timing each; reports
 * "done COUNT MS P50_US P99_US". */
async function timed(count: number, once: () => Promise<unknown>): Promise<void> {
  for (let i = 0; i < warmup; i++) await once();
  const rts = new Float64Array(count);
  const t0 = performance.now();
  let prev = t0;
  for (let i = 0; i < count; i++) {
    await once();
    const t = performance.now();
    rts[i] = t - prev;
    prev = t;
  }
  const ms = performance.now() - t0;
  rts.sort();
  report(`done ${count} ${ms} ${rts[Math.floor(count * 0.5)] * 1000} ${rts[Math.floor(count * 0.99)] * 1000}`);
}

async function clientRaw(count: number, port: number): Promise<void> {
  const s = await new Promise<Socket>((res, rej) => transport.connect("127.0.0.1", port, (e, sock) => (e ? rej(e) : res(sock!))));
  const frame = new Uint8Array(FRAME);
  new DataView(frame.buffer).setUint32(20, 16);
  let got = 0;
  let pending: (() => void) | null = null;
  s.onData = (d) => {
    got += d.length;
    while (got >= FRAME) {
      got -= FRAME;
      const p = pending;
      pending = null;
      p?.();
    }
  };
  await timed(count, () => new Promise<void>((r) => {
    pending = r;
    s.write([frame], noop);
  }));
  s.close();
}

async function clientZmq(count: number, port: number): Promise<void> {
  const name = "zeromq";
  const zmq = (await import(name)) as { Request: new () => ZmqSock };
  const sock = new zmq.Request();
  sock.connect(`tcp://127.0.0.1:${port}`);
  const payload = new Uint8Array(16).fill(0x61);
  await timed(count, async () => {
    await sock.send(payload);
    await sock.receive();
  });
  sock.close();
}

/** Synchronous sends, one at a time: each settles on the receiver's ACK (protocol.md §4.1). */
async function clientChirpSend(count: number, port: number): Promise<void> {
  const node = await Chirp.start({ port: 0, bindV6: null, synchronous: true });
  const payload = new Uint8Array(16).fill(0x61);
  const to = `127.0.0.1:${port}`;
  await node.send(to, payload);
  await timed(count, () => node.send(to, payload));
  await node.close();
}

async function clientChirp(sync: boolean, count: number, port: number): Promise<void> {
  const node = await Chirp.start({ port: 0, bindV6: null, synchronous: sync });
  const payload = new Uint8Array(16).fill(0x61);
  const to = `127.0.0.1:${port}`;
  await request(node, to, payload); // connect first: the figure is the steady state
  await timed(count, () => request(node, to, payload));
  await node.close();
}

// ------------------------------------------------------------------ orchestration

interface Run { rate: number; p50: number; p99: number }
interface Row { kind: Kind; label: string; runs: Run[]; rate: number; p50: number; p99: number; vsZeromq: number | null; vsRaw: number | null }
interface Placement { runtime: RuntimeName; cpus: 1 | 2; rows: Row[] }

async function measure(rt: RuntimeName, kind: Kind, cpus: 1 | 2, count: number, warm: number): Promise<Run> {
  const serverCpu = cpus === 2 ? 1 : 0;
  const server = runRole(SCRIPT, rt, serverCpu, [`serve-${kind}`]);
  const ready = (await server.lines.next()).value as string | undefined;
  if (!ready?.startsWith("ready ")) throw new Error(`${kind} server on ${rt}: no "ready" line (${ready})`);
  const client = runRole(SCRIPT, rt, 0, [`client-${kind}`, String(count), ready.split(" ")[1], String(warm)]);
  const lines = await collect(client);
  await client.exited;
  server.stdinEnd();
  await server.exited;
  const done = lines.find((l) => l.startsWith("done "))?.split(" ").map(Number);
  if (!done) throw new Error(`${kind} client on ${rt}: no "done" line (${lines.join(" | ")})`);
  return { rate: done[1] / (done[2] / 1000), p50: done[3], p99: done[4] };
}

async function zmqLoadable(): Promise<string | null> {
  try {
    const name = "zeromq";
    await import(name);
    return null;
  } catch (e) {
    return `zeromq not loadable (${(e as Error).message.split("\n")[0]})`;
  }
}

function chart(placements: Placement[], title: string): string {
  const W = 1040;
  const H = PANEL_H + 100;
  const panel = (cpus: 1 | 2, x: number): string => barPanel(x, 50, `${cpus === 2 ? "two CPUs" : "one CPU"}: round trips/s`, "round trips/s",
    placements.filter((p) => p.cpus === cpus).map((p) => ({
      runtime: p.runtime,
      bars: p.rows.map((r) => ({
        kind: r.kind === "raw" ? "raw" : r.kind === "zeromq" ? "zeromq" : r.kind === "chirp-sync" ? "chirp" : "chirp-await",
        color: r.kind === "chirp-send" ? "#76a5af" : undefined,
        value: r.rate,
        labels: [short(r.rate), `p99 ${short(r.p99)} µs`, ...(r.vsZeromq !== null ? [`${r.vsZeromq.toFixed(2)}× zmq`] : [])],
      })),
    })), "dark blue: request/reply sync, light blue: async; grey-green: plain sync send + ACK");
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    text(W / 2, 24, "Chirp request/reply: medians per runtime, two processes, 16 B", `text-anchor="middle" font-size="16" font-weight="bold"`),
    text(W / 2, 42, title, `text-anchor="middle" font-size="11" fill="#555"`),
    panel(2, 10),
    panel(1, 10 + PANEL_W + 20),
    `</svg>`,
  ].join("\n") + "\n";
}

async function main(): Promise<void> {
  const runs = arg("runs", 3);
  const count = arg("count", 20000);
  const warm = arg("warmup", 20000);
  const rts = runtimesArg();
  const out = resolve(strArg("out", "bench/results/reqrep.json"));
  const zmqMissing = rts.includes("node") ? await zmqLoadable() : "not on Node";
  const machine = machineInfo(rts);
  console.log(`${machine.cpuModel}, ${machine.cpuCount} CPUs; ${Object.entries(machine.runtimes).map(([k, v]) => `${k} ${v}`).join(", ")}${hasTaskset ? "" : "; not pinned (no taskset)"}`);
  if (zmqMissing && rts.includes("node")) console.log(`note: zeromq rows skipped: ${zmqMissing}`);
  const placements: Placement[] = [];
  for (const rt of rts) {
    for (const cpus of [2, 1] as const) {
      const kinds: Kind[] = ["raw", ...(rt === "node" && !zmqMissing ? ["zeromq" as const] : []), "chirp-sync", "chirp-async", "chirp-send"];
      const xs = new Map<Kind, Run[]>(kinds.map((k) => [k, []]));
      // Rounds of one run per kind, so that a noisy moment hits Chirp and its baselines alike.
      for (let r = 0; r < runs; r++) for (const k of kinds) xs.get(k)!.push(await measure(rt, k, cpus, count, warm));
      const med = (k: Kind, f: keyof Run): number => median(xs.get(k)!.map((x) => x[f]));
      const rows: Row[] = kinds.map((k) => ({
        kind: k, label: LABEL[k], runs: xs.get(k)!, rate: med(k, "rate"), p50: med(k, "p50"), p99: med(k, "p99"),
        vsZeromq: (k === "chirp-sync" || k === "chirp-async") && xs.has("zeromq") ? med(k, "rate") / med("zeromq", "rate") : null,
        vsRaw: k !== "raw" ? med(k, "rate") / med("raw", "rate") : null,
      }));
      placements.push({ runtime: rt, cpus, rows });
      console.log(`\n${rt} ${machine.runtimes[rt] ?? ""}, ${cpus === 2 ? "two CPUs (client 0, server 1)" : "one CPU (both on 0)"}, median of ${runs}`);
      console.log(`${"".padEnd(34)} ${"rt/s".padStart(9)} ${"p50 µs".padStart(8)} ${"p99 µs".padStart(8)} ${"p99/p50".padStart(8)} ${"vs raw".padStart(7)} ${"vs zmq".padStart(7)}`);
      for (const r of rows) {
        console.log(`  ${r.label.padEnd(32)} ${Math.round(r.rate).toLocaleString("en-US").padStart(9)} ${r.p50.toFixed(0).padStart(8)} ${r.p99.toFixed(0).padStart(8)} ${(r.p99 / r.p50).toFixed(1).padStart(8)} ${(r.vsRaw === null ? "" : r.vsRaw.toFixed(2)).padStart(7)} ${(r.vsZeromq === null ? "" : r.vsZeromq.toFixed(2)).padStart(7)}`);
      }
    }
  }
  console.log("\ntargets (issue 19): request/reply >= 1.3x zeromq on Node in both placements; >= 0.9x raw on Deno and Bun; p99 <= 3x p50;");
  console.log("sync send >= 0.9x raw with two CPUs, >= 0.7x with one");
  const res = { date: new Date().toISOString(), command: ["node", ...process.argv.slice(1)].join(" "), options: { runs, count, warmup: warm }, machine, zeromq: zmqMissing ?? "loaded", placements };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(res, null, 1) + "\n");
  const svg = out.replace(/\.json$/, "") + ".svg";
  writeFileSync(svg, chart(placements, `${machine.cpuModel}, ${machine.cpuCount} CPUs; median of ${runs} runs of ${count} round trips after ${warm} untimed; ${res.date.slice(0, 10)}`));
  console.log(`wrote ${out}\nwrote ${svg}`);
}

const [role, n, p, w] = process.argv.slice(2);
warmup = Number(w ?? 0);
if (role === "serve-raw") await serveRaw();
else if (role === "serve-zeromq") await serveZmq();
else if (role === "serve-chirp-sync") await serveChirp(true);
else if (role === "serve-chirp-send") await serveChirpSend();
else if (role === "serve-chirp-async") await serveChirp(false);
else if (role === "client-raw") await clientRaw(Number(n), Number(p));
else if (role === "client-zeromq") await clientZmq(Number(n), Number(p));
else if (role === "client-chirp-sync") await clientChirp(true, Number(n), Number(p));
else if (role === "client-chirp-async") await clientChirp(false, Number(n), Number(p));
else if (role === "client-chirp-send") await clientChirpSend(Number(n), Number(p));
else await main();
