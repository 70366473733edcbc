// Patterns at scale next to zeromq.js (issue 19): pub/sub to 8 and to 64 subscribers and
// push/pull over 4 workers, Chirp's patterns (patterns/) against zeromq.js 6.8.0 PUB/SUB and
// PUSH/PULL with the same peers in the same processes, measured in the same run, round by
// round. 16-byte payloads. Not a test: nothing here asserts on speed.
//
//   pub/sub     deliveries/s: messages received, summed over the subscribers (publishes/s x
//               subscribers). Subscribers run N per process: 8 subscribers = 8 processes x 1,
//               64 subscribers = 8 processes x 8 (--sub-procs). zeromq: one PUB (send and
//               receive high-water marks 0, so nothing is dropped: every subscriber must get
//               every message), one SUB socket per subscriber; before the clock the PUB sends
//               1-byte warm-up messages until every SUB got one (the slow-joiner problem).
//               3.2 million deliveries per run by default: with 320,000 (0.7 s) the JIT's
//               warm-up was half of Chirp's run (8 subscribers: 0.86x zeromq.js, 1.9x with
//               1.6 million).
//   push/pull   items/s completed: an item goes to a worker and its 16-byte result comes
//               back (two messages per item), 4 worker processes. Chirp: pusher() with at
//               most 4096 items outstanding, puller() workers; at most `slots` items in
//               flight per worker: the default (the node's maxSlots, 16 in async mode), and
//               in an extra row `--push-slots` (256; 0: no extra row). zeromq: the classic pipeline:
//               PUSH to the workers' PULLs, each worker PUSHes its result to the pusher
//               process's PULL (the sink); `await send` per item (it blocks at the
//               high-water mark), the sink counts results. Both first run --warmup-items
//               untimed (50,000; sync 2,000): the figure is the steady state, not the JIT's
//               warm-up.
//
// Placement (with taskset): the publisher / pusher on CPU 0, every subscriber / worker process
// on CPU 1, for Chirp and zeromq alike (--pin none: unpinned). The clock runs in this
// process: from "go" (everything started, connected, subscribed) until every consumer
// process reported that it has everything.
//
// zeromq.js: on Node; on Deno for pub/sub only (its PUSH/PULL pipeline hangs there: a
// receive() waiting on a bound socket is not woken); Bun crashes loading it (its NAPI lacks
// uv_poll_init_socket). Chirp rows are compared with zeromq.js on the same runtime where it
// ran, else with Node's.
//
//   node build/js/bench/patterns-scale.js [--runs 3] [--deliveries 3200000] [--items 100000]
//       [--sync-deliveries 32000] [--sync-items 10000] [--modes async,sync] [--sub-procs 8]
//       [--runtimes node,deno,bun] [--pin split|none] [--cases pubsub-8,pubsub-64,pushpull-4]
//       [--push-slots 256] [--warmup-items 50000] [--sync-warmup-items 2000]
//       [--out bench/results/patterns.json]
//
// Prints a table per case; writes the JSON and an SVG chart next to it (.svg).
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import process from "node:process";
import { Chirp, type ChirpConfig } from "../adapters/index.ts";
import type { RuntimeName } from "../adapters/runtime.ts";
import { Router, attach, publisher, pusher, puller, subscriber } from "../patterns/mod.ts";
import { arg, collect, hasTaskset, machineInfo, median, report, runRole, runtimesArg, SEND_WINDOW, strArg, type Role, loadZeromq, zeromqOrThrow } from "./harness.ts";
import { short } from "./chart.ts";
import { chart, TARGET, type Case, type Impl, type Row } from "./patterns-chart.ts";

const SCRIPT = "bench/patterns-scale.ts";
const PAYLOAD = new Uint8Array(16).fill(0x61);
const WARM = new Uint8Array(1);
const WORKERS = 4;
const PUSH_WINDOW = 4096;

// ------------------------------------------------------------------ zeromq (Node, Deno)

/** The part of zeromq.js v6 used here (declared locally so the build does not need it). */
interface ZmqSocket {
  bind(address: string): Promise<void>;
  connect(address: string): void;
  send(msg: Uint8Array): Promise<void>;
  receive(): Promise<Uint8Array[]>;
  subscribe(...prefixes: string[]): void;
  close(): void;
  readonly lastEndpoint: string | null;
  linger: number;
  sendHighWaterMark: number;
  receiveHighWaterMark: number;
}
type Ctor = new () => ZmqSocket;
interface Zmq { Push: Ctor; Pull: Ctor; Publisher: Ctor; Subscriber: Ctor; version: string }

const loadZmq = (): Promise<Zmq | string> => loadZeromq<Zmq>();
const zmq = (): Promise<Zmq> => zeromqOrThrow<Zmq>();

const portOfEndpoint = (s: ZmqSocket): string => s.lastEndpoint!.split(":").pop()!;

// ------------------------------------------------------------------ child roles

/** Runs `close` and exits when stdin ends (the orchestrator ends every child that way). */
function exitOnStdinEnd(close: () => unknown): void {
  process.stdin.resume();
  process.stdin.on("end", () => void Promise.resolve(close()).then(() => process.exit(0)));
}

/** Resolves when stdin says `word` (the orchestrator's "go" starts the clock). */
function go(word = "go"): Promise<void> {
  return new Promise((resolve) => process.stdin.on("data", (d: Uint8Array) => {
    if (new TextDecoder().decode(d).includes(word)) resolve();
  }));
}

/** A Chirp node whose messages go straight to a pattern router (the fast path). */
async function chirpNode(mode: string, onMessage?: ChirpConfig["onMessage"]): Promise<Chirp> {
  const router = new Router();
  const node = await Chirp.start({ port: 0, bindV6: null, synchronous: mode === "sync", timeout: 30, onMessage: onMessage ?? router.dispatch });
  if (!onMessage) attach(node, router);
  return node;
}

/** Publisher: "ready PORT"; at "go" publishes `count` messages under "t"; "published N"
 * (N: the subscribers it had). Keeps about SEND_WINDOW sends in flight. */
async function chirpPub(mode: string, count: number): Promise<void> {
  const node = await chirpNode(mode);
  const pub = publisher(node);
  report(`ready ${node.port}`);
  exitOnStdinEnd(() => node.close());
  await go();
  const n = pub.subscribers.length;
  const window = mode === "sync" ? 1 : Math.max(1, Math.ceil(SEND_WINDOW / n));
  let last: Promise<unknown> = Promise.resolve();
  for (let i = 0; i < count; i++) {
    last = pub.publish("t", PAYLOAD);
    if (i % window === window - 1) await last;
  }
  await last;
  report(`published ${n}`);
}

/** `nodes` subscribers in this process: "subscribed" once the publisher recorded all of
 * them, "done" once each got `count` messages. */
async function chirpSubs(mode: string, pubPort: number, nodes: number, count: number): Promise<void> {
  const all: Chirp[] = [];
  let left = nodes;
  for (let k = 0; k < nodes; k++) {
    const node = await chirpNode(mode);
    all.push(node);
    let n = 0;
    const sub = subscriber(node, () => {
      if (++n === count && --left === 0) report("done");
    });
    await sub.subscribe(`127.0.0.1:${pubPort}`, "");
  }
  report("subscribed");
  exitOnStdinEnd(() => Promise.all(all.map((n) => n.close())));
}

async function zmqPub(count: number): Promise<void> {
  const z = await zmq();
  const pub = new z.Publisher();
  pub.sendHighWaterMark = 0;
  await pub.bind("tcp://127.0.0.1:*");
  report(`ready ${portOfEndpoint(pub)}`);
  exitOnStdinEnd(() => pub.close());
  let started = false;
  const going = go().then(() => void (started = true));
  while (!started) { // warm-up until the orchestrator saw every SUB get one
    await pub.send(WARM);
    await Promise.race([going, new Promise((r) => setTimeout(r, 5))]);
  }
  for (let i = 0; i < count; i++) await pub.send(PAYLOAD);
  report("published");
}

async function zmqSubs(pubPort: number, nodes: number, count: number): Promise<void> {
  const z = await zmq();
  const socks: ZmqSocket[] = [];
  let cold = nodes, left = nodes;
  for (let k = 0; k < nodes; k++) {
    const sub = new z.Subscriber();
    sub.receiveHighWaterMark = 0;
    sub.connect(`tcp://127.0.0.1:${pubPort}`);
    sub.subscribe();
    socks.push(sub);
    void (async () => {
      let warm = false, n = 0;
      for (;;) {
        const [m] = await sub.receive();
        if (m.length === WARM.length) {
          if (!warm && (warm = true) && --cold === 0) report("subscribed");
        } else if (++n === count && --left === 0) report("done");
      }
    })();
  }
  exitOnStdinEnd(() => socks.forEach((s) => s.close()));
}

async function chirpWorker(mode: string): Promise<void> {
  const node = await chirpNode(mode, puller(() => PAYLOAD));
  report(`ready ${node.port}`);
  exitOnStdinEnd(() => node.close());
}

/** Pushes `warm` items untimed, then at "go" `count` items over the workers (at most
 * PUSH_WINDOW outstanding); "done FAILED". `mode` "async/N": asynchronous, N slots per
 * worker (else the pusher's default). */
async function chirpPush(mode: string, count: number, warm: number, ports: number[]): Promise<void> {
  const node = await chirpNode(mode);
  const slots = mode.includes("/") ? Number(mode.split("/")[1]) : undefined;
  const p = pusher(node, { workers: ports.map((port) => `127.0.0.1:${port}`), timeout: 30, slots });
  await Promise.all(ports.map(() => p.push(PAYLOAD))); // connect to every worker first
  const warmFailed = await pushAll(p, warm);
  if (warmFailed > 0) throw new Error(`${warmFailed} warm-up items failed`);
  report("ready");
  exitOnStdinEnd(() => node.close());
  await go();
  report(`done ${await pushAll(p, count)}`);
}

/** Pushes `count` items, at most PUSH_WINDOW outstanding; resolves with the failures. */
async function pushAll(p: ReturnType<typeof pusher>, count: number): Promise<number> {
  let outstanding = 0, failed = 0;
  let wake: (() => void) | null = null;
  const settled = (): void => {
    outstanding--;
    const w = wake;
    wake = null;
    w?.();
  };
  for (let i = 0; i < count; i++) {
    if (outstanding >= PUSH_WINDOW) await new Promise<void>((r) => (wake = r));
    outstanding++;
    p.push(PAYLOAD).then(settled, () => {
      failed++;
      settled();
    });
  }
  await p.idle();
  return failed;
}

/** A zeromq worker: binds a PULL for items and a PUSH for results ("ready ITEMS RESULTS");
 * at "go" (the pusher connected) answers each item with 16 bytes whose first byte is its
 * index. (On Deno, a receive() that waits on a bound socket before any peer connected is
 * never woken: hence the "go".) */
async function zmqWorker(index: number): Promise<void> {
  const z = await zmq();
  const pull = new z.Pull(), push = new z.Push();
  await pull.bind("tcp://127.0.0.1:*");
  await push.bind("tcp://127.0.0.1:*");
  report(`ready ${portOfEndpoint(pull)} ${portOfEndpoint(push)}`);
  exitOnStdinEnd(() => (pull.close(), push.close()));
  const result = PAYLOAD.slice();
  result[0] = index;
  await go();
  for (;;) {
    await pull.receive();
    await push.send(result);
  }
}

/** The ventilator and the sink: connects ("connected"); at "warm" (the workers listen) warms
 * up until every worker answered and `warm` items came back, "ready"; at "go" pushes `count`
 * items, "done 0" when `count` results came back. */
async function zmqPush(count: number, warm: number, ports: number[][]): Promise<void> {
  const z = await zmq();
  const push = new z.Push(), sink = new z.Pull();
  for (const [items, results] of ports) {
    push.connect(`tcp://127.0.0.1:${items}`);
    sink.connect(`tcp://127.0.0.1:${results}`);
  }
  report("connected");
  await go("warm");
  const seen = new Set<number>();
  while (seen.size < ports.length) {
    await push.send(WARM);
    seen.add((await sink.receive())[0][0]);
  }
  const ventilate = async (n: number): Promise<void> => {
    const received = (async () => {
      for (let k = 0; k < n; k++) await sink.receive();
    })();
    for (let i = 0; i < n; i++) await push.send(PAYLOAD);
    await received;
  };
  await ventilate(warm);
  report("ready");
  exitOnStdinEnd(() => (push.close(), sink.close()));
  await go();
  await ventilate(count);
  report("done 0");
}

// ------------------------------------------------------------------ orchestration


async function line(role: Role, prefix: string, what: string): Promise<string> {
  const got = await collect(role, prefix);
  const l = got[got.length - 1];
  if (!l?.startsWith(prefix)) throw new Error(`${what}: ended without "${prefix}" (${got.join(" | ")})`);
  return l;
}

async function stop(roles: Role[]): Promise<void> {
  for (const r of roles) r.stdinEnd();
  await Promise.all(roles.map((r) => r.exited));
}

/** One run: the rate in the case's unit. */
async function measure(c: Case, rt: RuntimeName, impl: Impl, mode: string, count: number, procs: number, pin: boolean, warm: number): Promise<number> {
  const role = (producer: boolean, args: (string | number)[]): Role => runRole(SCRIPT, rt, pin ? (producer ? 0 : 1) : null, args.map(String));
  const what = `${c.id} ${impl} on ${rt}`;
  if (c.subscribers) {
    const per = c.subscribers / procs;
    const pub = role(true, impl === "chirp" ? ["chirp-pub", mode, count] : ["zmq-pub", count]);
    const port = (await line(pub, "ready ", what)).split(" ")[1];
    const subs = Array.from({ length: procs }, () => role(false, impl === "chirp" ? ["chirp-subs", mode, port, per, count] : ["zmq-subs", port, per, count]));
    await Promise.all(subs.map((s) => line(s, "subscribed", what)));
    const t0 = performance.now();
    pub.stdinWrite("go\n");
    await Promise.all(subs.map((s) => line(s, "done", what)));
    const ms = performance.now() - t0;
    const published = await line(pub, "published", what);
    await stop([pub, ...subs]);
    if (impl === "chirp" && published !== `published ${c.subscribers}`) throw new Error(`${what}: the publisher had ${published.split(" ")[1]} subscribers`);
    return (count * c.subscribers) / (ms / 1000);
  }
  const workers = Array.from({ length: WORKERS }, (_, i) => role(false, impl === "chirp" ? ["chirp-worker", mode] : ["zmq-worker", i]));
  const ports = await Promise.all(workers.map(async (w) => (await line(w, "ready ", what)).split(" ").slice(1).join(",")));
  const p = role(true, impl === "chirp" ? ["chirp-push", mode, count, warm, ...ports] : ["zmq-push", count, warm, ...ports]);
  if (impl === "zeromq") {
    await line(p, "connected", what);
    for (const w of workers) w.stdinWrite("go\n");
    p.stdinWrite("warm\n");
  }
  await line(p, "ready", what);
  const t0 = performance.now();
  p.stdinWrite("go\n");
  const done = await line(p, "done ", what);
  const ms = performance.now() - t0;
  await stop([p, ...workers]);
  if (done !== "done 0") throw new Error(`${what}: ${done.split(" ")[1]} items failed`);
  return count / (ms / 1000);
}

async function main(): Promise<void> {
  const runs = arg("runs", 3);
  const procs = arg("sub-procs", 8);
  const modes = strArg("modes", "async,sync").split(",");
  const pin = strArg("pin", "split") !== "none" && hasTaskset;
  const rts = runtimesArg();
  const out = resolve(strArg("out", "bench/results/patterns.json"));
  const deliveries: Record<string, number> = { async: arg("deliveries", 3200000), sync: arg("sync-deliveries", 32000) };
  const items: Record<string, number> = { async: arg("items", 100000), sync: arg("sync-items", 10000) };
  const pushSlots = arg("push-slots", 256);
  // Untimed push/pull items first (zeromq and Chirp alike): the figure is the steady state.
  const warmItems: Record<string, number> = { async: arg("warmup-items", 50000), sync: arg("sync-warmup-items", 2000) };
  const z = await loadZmq();
  const zmqVersion = typeof z === "string" ? null : `zeromq.js 6.8.0 (libzmq ${z.version})`;
  const machine = machineInfo(rts);
  const zmqRts = rts.filter((rt) => rt !== "bun" && typeof z !== "string"); // zeromq.js crashes Bun
  console.log(`${machine.cpuModel}, ${machine.cpuCount} CPUs; ${Object.entries(machine.runtimes).map(([k, v]) => `${k} ${v}`).join(", ")}; ${zmqVersion ?? z}`);
  const placement = pin ? "publisher/pusher on CPU 0, subscriber/worker processes on CPU 1" : "not pinned";
  console.log(`placement: ${placement}; median of ${runs} runs`);
  const only = strArg("cases", "").split(",").filter(Boolean);
  const cases: Case[] = [
    { id: "pubsub-8", title: "pub/sub, 8 subscribers", unit: "deliveries/s", subscribers: 8 },
    { id: "pubsub-64", title: "pub/sub, 64 subscribers", unit: "deliveries/s", subscribers: 64 },
    { id: "pushpull-4", title: `push/pull, ${WORKERS} workers`, unit: "items/s" },
  ].filter((c) => only.length === 0 || only.includes(c.id));
  const rows: Row[] = [];
  for (const c of cases) {
    const subProcs = c.subscribers ? Math.min(procs, c.subscribers) : 0;
    const peers = c.subscribers ? `${c.subscribers} subscribers in ${subProcs} processes x ${c.subscribers / subProcs}` : `${WORKERS} worker processes`;
    const count = (mode: string): number => (c.subscribers ? Math.ceil(deliveries[mode] / c.subscribers) : items[mode.split("/")[0]]);
    const kinds: [RuntimeName, Impl, string][] = rts.flatMap((rt) => [
      ...(zmqRts.includes(rt) && (rt !== "deno" || c.subscribers) ? [[rt, "zeromq", "-"] as [RuntimeName, Impl, string]] : []),
      ...modes.map((m) => [rt, "chirp", m] as [RuntimeName, Impl, string]),
      ...(!c.subscribers && pushSlots > 0 && modes.includes("async") ? [[rt, "chirp", `async/${pushSlots}`] as [RuntimeName, Impl, string]] : []),
    ]);
    const xs = kinds.map(() => [] as number[]);
    // Rounds of one run per row, so that a noisy moment hits Chirp and zeromq alike.
    for (let r = 0; r < runs; r++) {
      for (const [i, [rt, impl, mode]] of kinds.entries()) xs[i].push(await measure(c, rt, impl, mode, count(impl === "zeromq" ? "async" : mode), subProcs, pin, warmItems[impl === "zeromq" ? "async" : mode.split("/")[0]]));
    }
    const mine: Row[] = kinds.map(([rt, impl, mode], i) => ({
      case: c.id, runtime: rt, impl, mode, count: count(impl === "zeromq" ? "async" : mode), runs: xs[i].map(Math.round), median: Math.round(median(xs[i])), baseline: null, vsZeromq: null, met: null,
    }));
    for (const r of mine.filter((r) => r.impl === "chirp")) {
      const base = mine.find((b) => b.impl === "zeromq" && b.runtime === r.runtime) ?? mine.find((b) => b.impl === "zeromq" && b.runtime === "node");
      if (!base) continue;
      r.baseline = base.runtime;
      r.vsZeromq = r.median / base.median;
      r.met = r.vsZeromq >= TARGET;
    }
    rows.push(...mine);
    console.log(`\n${c.title} (${peers}), ${c.unit}`);
    console.log(`  ${"".padEnd(30)} ${"count".padStart(7)} ${"rate".padStart(11)}  ${"runs".padEnd(28)} ${"vs zmq".padStart(7)}  target >= ${TARGET}x`);
    for (const r of mine) {
      const label = r.impl === "zeromq" ? `zeromq.js ${c.subscribers ? "PUB/SUB" : "PUSH/PULL"}, ${r.runtime}` : `chirp ${r.mode.replace("/", " slots ")}, ${r.runtime}`;
      const vs = r.vsZeromq === null ? "" : `${r.vsZeromq.toFixed(2)}${r.baseline !== r.runtime ? ` (${r.baseline})` : ""}`;
      console.log(`  ${label.padEnd(30)} ${String(r.count).padStart(7)} ${r.median.toLocaleString("en-US").padStart(11)}  ${r.runs.map((x) => short(x)).join(" ").padEnd(28)} ${vs.padStart(7)}  ${r.met === null ? "" : r.met ? "met" : "missed"}`);
    }
  }
  const res = { date: new Date().toISOString(), command: ["node", ...process.argv.slice(1)].join(" "), options: { runs, procs, modes, deliveries, items, pin, pushSlots, warmItems }, placement, payload: PAYLOAD.length, target: `chirp >= ${TARGET}x zeromq.js`, machine, zeromq: zmqVersion ?? z, zeromqRuntimes: zmqRts, rows };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(res, null, 1) + "\n");
  const svg = out.replace(/\.json$/, "") + ".svg";
  writeFileSync(svg, chart(cases, rows, `${machine.cpuModel}, ${machine.cpuCount} CPUs; ${placement}; median of ${runs} runs; ${res.date.slice(0, 10)}; ${Object.entries(machine.runtimes).map(([k, v]) => `${k} ${v}`).join(", ")}`));
  console.log(`\nwrote ${out}\nwrote ${svg}`);
}

const [role, ...a] = process.argv.slice(2);
const num = (i: number): number => Number(a[i]);
if (role === "chirp-pub") await chirpPub(a[0], num(1));
else if (role === "chirp-subs") await chirpSubs(a[0], num(1), num(2), num(3));
else if (role === "zmq-pub") await zmqPub(num(0));
else if (role === "zmq-subs") await zmqSubs(num(0), num(1), num(2));
else if (role === "chirp-worker") await chirpWorker(a[0]);
else if (role === "chirp-push") await chirpPush(a[0], num(1), num(2), a.slice(3).map(Number));
else if (role === "zmq-worker") await zmqWorker(num(0));
else if (role === "zmq-push") await zmqPush(num(0), num(1), a.slice(2).map((p) => p.split(",").map(Number)));
else await main();
