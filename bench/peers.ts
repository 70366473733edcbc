// 10,000 peers (issue 19): one Chirp node (the runtime under test) accepts 10,000 concurrent
// connections from raw peers in 4 Node processes (each announces its own port in its chirp
// handshake, so each is a remote of its own, protocol.md §5.1), and then:
//   - handshakes/s while they connect (the node counts its "open" events),
//   - memory per connection: the node's wasm memory (fixed, from its limits) and JS heap / RSS
//     growth from before the peers to after, divided by the connections,
//   - CPU used by the node in 5 s while all of them are idle (process.cpuUsage),
//   - synchronous round trips/s from one real Chirp client while they are connected, next to
//     the same against the node before any peer connected (target: within 10 %).
// The fd limit is raised to the hard limit for the children (ulimit -n in bash; 10,000 peers need
// about 10,100 fds in the node). Not a test: nothing here
// asserts on speed.
//
//   node build/js/bench/peers.js [--peers 10000] [--procs 4] [--round-trips 20000]
//                                [--runtimes node,deno,bun] [--out bench/results/peers.json]
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { dirname, resolve } from "node:path";
import process from "node:process";
import { Chirp } from "../adapters/index.ts";
import type { RuntimeName } from "../adapters/runtime.ts";
import { scriptCommand } from "../test/support/runtime.ts";
import { arg, linesOf, machineInfo, report, runtimesArg, strArg } from "./harness.ts";
import { barPanel, PANEL_H, PANEL_W, short, text } from "./chart.ts";

const SCRIPT = "bench/peers.ts";

// ------------------------------------------------------------------ roles (child processes)

/** The node under test: reports "ready PORT", then answers commands on stdin: "mem" (heap,
 * rss, wasm bytes), "opened N" (waits until N peers connected; reports the handshakes/s),
 * "cpu MS" (CPU used while idle for MS). */
async function server(peers: number): Promise<void> {
  let opened = 0;
  let firstAt = 0;
  let lastAt = 0;
  const node = await Chirp.start({
    port: 0, bindV6: null, synchronous: true, maxConnections: peers + 64, maxRemotes: peers + 64, reuseTime: 3600,
    backlog: 127, onMessage: (m) => m.release(),
  });
  node.on("open", () => {
    const t = performance.now();
    if (opened++ === 0) firstAt = t;
    lastAt = t;
  });
  report(`ready ${node.port} ${node.coreMemoryBytes}`);
  let buf = "";
  for await (const d of process.stdin) {
    buf += new TextDecoder().decode(d as Uint8Array);
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      const [cmd, a] = buf.slice(0, i).split(" ");
      buf = buf.slice(i + 1);
      if (cmd === "mem") {
        (globalThis as { gc?: () => void }).gc?.();
        const m = process.memoryUsage();
        report(`mem ${m.heapUsed} ${m.rss} ${node.coreMemoryBytes}`);
      } else if (cmd === "opened") {
        const n = Number(a);
        while (opened < n) await new Promise((r) => setTimeout(r, 20));
        report(`opened ${opened} ${(opened - 1) / ((lastAt - firstAt) / 1000)}`);
      } else if (cmd === "cpu") {
        const c0 = process.cpuUsage();
        await new Promise((r) => setTimeout(r, Number(a)));
        const c = process.cpuUsage(c0);
        report(`cpu ${(c.user + c.system) / 1000}`);
      } else if (cmd === "quit") {
        await node.close({ drain: false });
        process.exit(0);
      }
    }
  }
}

/** Raw peers: `count` connections to `port`, each announcing port `base + i`; reports
 * "connected N" once every one got the node's handshake; stays until stdin ends. */
async function peers(port: number, count: number, base: number): Promise<void> {
  const socks: net.Socket[] = [];
  let done = 0;
  const hs = (p: number): Uint8Array => {
    const b = new Uint8Array(18);
    new DataView(b.buffer).setUint16(0, p);
    b.fill(7, 2);
    new DataView(b.buffer).setUint16(2, p); // a distinct node identity per peer
    return b;
  };
  await new Promise<void>((resolveAll) => {
    let i = 0;
    // At most 256 connects in flight, so the node's backlog is not overrun.
    const next = (): void => {
      if (i >= count) return;
      const me = i++;
      const s = net.connect({ port, host: "127.0.0.1" }, () => s.write(hs(base + me)));
      let got = 0;
      s.on("data", (d: Uint8Array) => {
        if (got < 18 && (got += d.length) >= 18) {
          if (++done === count) resolveAll();
          next();
        }
      });
      s.on("error", (e) => {
        report(`error ${e.message}`);
        process.exit(1);
      });
      socks.push(s);
    };
    for (let k = 0; k < 256; k++) next();
  });
  report(`connected ${done}`);
  process.stdin.resume();
  process.stdin.on("end", () => {
    for (const s of socks) s.destroy();
    process.exit(0);
  });
}

/** A real client: `n` synchronous sends (each waits for the node's ACK); reports round trips/s. */
async function client(port: number, n: number): Promise<void> {
  const node = await Chirp.start({ port: 0, bindV6: null, synchronous: true });
  const to = `127.0.0.1:${port}`;
  await node.send(to, "warm up");
  const data = new Uint8Array(16);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await node.send(to, data);
  report(`rtps ${n / ((performance.now() - t0) / 1000)}`);
  await node.close();
}

// ------------------------------------------------------------------ orchestration

interface Child { lines: AsyncIterator<string>; send(line: string): void; end(): void; exited: Promise<unknown> }

function child(rt: RuntimeName, args: string[], cpu: number): Child {
  const [bin, argv] = scriptCommand(SCRIPT, args, rt);
  const quoted = [bin, ...argv].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
  const p = spawn("bash", ["-c", `ulimit -n $(ulimit -Hn) && exec taskset -c ${cpu} ${quoted}`], { stdio: ["pipe", "pipe", "inherit"] });
  return {
    lines: linesOf(p.stdout!),
    send: (l) => p.stdin!.write(l + "\n"),
    end: () => p.stdin!.end(),
    exited: new Promise((r) => p.once("exit", r)),
  };
}

async function line(c: Child, prefix: string): Promise<string[]> {
  for (;;) {
    const r = await c.lines.next();
    if (r.done) throw new Error(`child ended before "${prefix}"`);
    if (r.value.startsWith(prefix)) return r.value.split(" ");
    if (r.value.startsWith("error")) throw new Error(r.value);
  }
}

async function roundTrips(port: number, n: number): Promise<number> {
  const c = child("node", ["client", String(port), String(n)], 0);
  const v = Number((await line(c, "rtps"))[1]);
  await c.exited;
  return v;
}

interface Result {
  runtime: RuntimeName; peers: number; handshakesPerSec: number; wasmBytes: number; wasmPerConn: number;
  heapPerConn: number; rssPerConn: number; idleCpuMsPer5s: number; rtUnloaded: number; rtLoaded: number; rtRatio: number;
}

async function measure(rt: RuntimeName, n: number, procs: number, rts: number): Promise<Result> {
  const srv = child(rt, ["server", String(n)], 1);
  const [, portS, wasmS] = await line(srv, "ready");
  const port = Number(portS);
  const rtUnloaded = await roundTrips(port, rts);
  srv.send("mem");
  const m0 = (await line(srv, "mem")).map(Number);
  const per = Math.ceil(n / procs);
  const ps: Child[] = [];
  for (let k = 0; k < procs; k++) ps.push(child("node", ["peers", String(port), String(Math.min(per, n - k * per)), String(20000 + k * per)], 0));
  for (const p of ps) await line(p, "connected");
  srv.send(`opened ${n}`);
  const [, , hsRate] = await line(srv, "opened");
  srv.send("mem");
  const m1 = (await line(srv, "mem")).map(Number);
  srv.send("cpu 5000");
  const cpuMs = Number((await line(srv, "cpu"))[1]);
  const rtLoaded = await roundTrips(port, rts);
  for (const p of ps) p.end();
  await Promise.all(ps.map((p) => p.exited));
  srv.send("quit");
  await srv.exited;
  const wasm = Number(wasmS);
  return {
    runtime: rt, peers: n, handshakesPerSec: Number(hsRate), wasmBytes: wasm, wasmPerConn: wasm / (n + 64),
    heapPerConn: (m1[1] - m0[1]) / n, rssPerConn: (m1[2] - m0[2]) / n, idleCpuMsPer5s: cpuMs,
    rtUnloaded, rtLoaded, rtRatio: rtLoaded / rtUnloaded,
  };
}

async function main(): Promise<void> {
  const n = arg("peers", 10000);
  const procs = arg("procs", 4);
  const rts = arg("round-trips", 20000);
  const out = resolve(strArg("out", "bench/results/peers.json"));
  const machine = machineInfo(runtimesArg());
  const results: Result[] = [];
  for (const rt of runtimesArg()) results.push(await measure(rt, n, procs, rts));
  console.log(`${machine.cpuModel}, ${machine.cpuCount} CPUs; ${n} peers from ${procs} processes; node under test on CPU 1, peers and client on CPU 0`);
  console.log(`${"".padEnd(6)} ${"handshakes/s".padStart(12)} ${"wasm B/conn".padStart(11)} ${"heap B/conn".padStart(11)} ${"RSS B/conn".padStart(10)} ${"idle CPU".padStart(9)} ${"sync rt/s".padStart(10)} ${"loaded".padStart(8)} ${"ratio".padStart(6)}`);
  for (const r of results) {
    console.log(`${r.runtime.padEnd(6)} ${Math.round(r.handshakesPerSec).toLocaleString("en-US").padStart(12)} ${Math.round(r.wasmPerConn).toLocaleString("en-US").padStart(11)} ${Math.round(r.heapPerConn).toLocaleString("en-US").padStart(11)} ${Math.round(r.rssPerConn).toLocaleString("en-US").padStart(10)} ${`${(r.idleCpuMsPer5s / 50).toFixed(2)} %`.padStart(9)} ${Math.round(r.rtUnloaded).toLocaleString("en-US").padStart(10)} ${Math.round(r.rtLoaded).toLocaleString("en-US").padStart(8)} ${r.rtRatio.toFixed(2).padStart(6)}`);
  }
  console.log("(idle CPU: the node's CPU time over 5 s with every peer idle, in % of one CPU; ratio: sync round trips with the peers connected / without; target >= 0.90)");
  const res = { date: new Date().toISOString(), command: ["node", ...process.argv.slice(1)].join(" "), machine, options: { peers: n, procs, roundTrips: rts }, results };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(res, null, 1) + "\n");
  const svg = out.replace(/\.json$/, "") + ".svg";
  const W = 1040, H = PANEL_H + 90;
  const rtBars = results.map((r) => ({ runtime: r.runtime, bars: [
    { kind: "raw", value: r.rtUnloaded, labels: [short(r.rtUnloaded), "no peers"] },
    { kind: "chirp", value: r.rtLoaded, labels: [short(r.rtLoaded), `${n} peers`, `${r.rtRatio.toFixed(2)}×`] },
  ] }));
  const hsBars = results.map((r) => ({ runtime: r.runtime, bars: [{ kind: "chirp", value: r.handshakesPerSec, labels: [short(r.handshakesPerSec), `idle CPU ${(r.idleCpuMsPer5s / 50).toFixed(2)} %`] }] }));
  writeFileSync(svg, [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    text(W / 2, 24, `One Chirp node with ${n.toLocaleString("en-US")} connected peers`, `text-anchor="middle" font-size="16" font-weight="bold"`),
    text(W / 2, 42, `${machine.cpuModel}, ${machine.cpuCount} CPUs; ${res.date.slice(0, 10)}`, `text-anchor="middle" font-size="11" fill="#555"`),
    barPanel(10, 50, "sync round trips/s to one client", "round trips/s", rtBars, "grey: no peers; blue: with them"),
    barPanel(10 + PANEL_W + 20, 50, "handshakes/s while they connect", "handshakes/s", hsBars, ""),
    `</svg>`,
  ].join("\n") + "\n");
  console.log(`wrote ${out}\nwrote ${svg}`);
}

const [role, a1, a2, a3] = process.argv.slice(2);
if (role === "server") await server(Number(a1));
else if (role === "peers") await peers(Number(a1), Number(a2), Number(a3));
else if (role === "client") await client(Number(a1), Number(a2));
else await main();
