// Pattern throughput: push/pull over 4 workers and pub/sub to 8 subscribers, every node in
// its own process, next to the one-connection figure measured in the same run on the same
// runtime (a plain send loop from one process to another, no pattern). 16-byte payloads.
//
//   one connection   messages/s received by the other process
//   push/pull        items/s completed: WORK to a worker and its RESULT back (two messages
//                    per item), 4 worker processes, slots per worker = the mode's maxSlots
//   pub/sub          deliveries/s summed over 8 subscriber processes (publishes/s x 8)
//
// The clock runs in the orchestrating process: from "go" (all processes started, connected
// where the pattern needs it) until the last process reports that it has everything.
//
//   node build/js/bench/patterns.js [--runs 3] [--count 100000] [--sync-count 10000]
//                                   [--modes async,sync] [--runtimes node,deno,bun]
//
// Prints a table per runtime and mode, and one JSON line (prefix "RESULT ").
import { spawn, type ChildProcess } from "node:child_process";
import { availableParallelism } from "node:os";
import process from "node:process";
import { Chirp } from "../adapters/index.ts";
import type { RuntimeName } from "../adapters/runtime.ts";
import { Router, attach, publisher, pusher, puller, subscriber, type PushResult } from "../patterns/mod.ts";
import { scriptCommand } from "../test/support/runtime.ts";

const PAYLOAD = new Uint8Array(16).fill(0x61);
const WORKERS = 4;
const SUBSCRIBERS = 8;

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
}

const say = (line: string): void => void process.stdout.write(line + "\n");
/** A node whose messages go straight to a pattern router (onMessage: router.dispatch, the
 * fast path; routerOf() on a node without onMessage reads async iteration instead). */
async function start(mode: string): Promise<Chirp> {
  const router = new Router();
  const node = await Chirp.start({ port: 0, bindV6: null, synchronous: mode === "sync", timeout: 30, onMessage: router.dispatch });
  attach(node, router);
  return node;
}

/** Resolves when stdin says "go" (the orchestrator starts the clock then). */
function go(): Promise<void> {
  return new Promise((resolve) => {
    process.stdin.on("data", (d: Uint8Array) => {
      if (new TextDecoder().decode(d).includes("go")) resolve();
    });
  });
}

function exitOnStdinEnd(node?: Chirp): void {
  process.stdin.resume();
  process.stdin.on("end", () => void (node ? node.close() : Promise.resolve()).then(() => process.exit(0)));
}

// ------------------------------------------------------------------ roles (child processes)

/** Counts messages; says "done" at `count`. */
async function receiver(mode: string, count: number): Promise<void> {
  let n = 0;
  const node = await Chirp.start({
    port: 0, bindV6: null, synchronous: mode === "sync", timeout: 30,
    onMessage(msg) {
      msg.release();
      if (++n === count) say("done");
    },
  });
  say(`ready ${node.port}`);
  exitOnStdinEnd(node);
}

/** A plain send loop (the one-connection baseline). */
async function sender(mode: string, port: number, count: number): Promise<void> {
  const node = await start(mode);
  const to = `127.0.0.1:${port}`;
  await node.send(to, PAYLOAD); // connect before the clock starts
  exitOnStdinEnd(node);
  say("ready");
  await go();
  let last: Promise<unknown> = Promise.resolve();
  for (let i = 1; i < count; i++) {
    last = node.send(to, PAYLOAD);
    if (i % 20000 === 0) await last;
  }
  await last;
  say("sent"); // the orchestrator closes this process only after this (last ACKs included)
}

async function worker(mode: string): Promise<void> {
  const node = await Chirp.start({ port: 0, bindV6: null, synchronous: mode === "sync", timeout: 30, onMessage: puller(() => PAYLOAD) });
  say(`ready ${node.port}`);
  exitOnStdinEnd(node);
}

/** Pushes `count` items over the workers, at most `window` outstanding; "done" at the end. */
async function pushing(mode: string, count: number, ports: number[]): Promise<void> {
  const node = await start(mode);
  const p = pusher(node, { workers: ports.map((port) => `127.0.0.1:${port}`), timeout: 30 });
  // Warm up: connect to every worker before the clock starts.
  await Promise.all(ports.map(() => p.push(PAYLOAD)));
  exitOnStdinEnd(node);
  say("ready");
  await go();
  const window = 4096;
  let outstanding = 0;
  let wake: (() => void) | null = null;
  let failed = 0;
  const settled = (): void => {
    outstanding--;
    const w = wake;
    wake = null;
    w?.();
  };
  for (let i = 1; i < count; i++) {
    if (outstanding >= window) await new Promise<void>((r) => (wake = r));
    outstanding++;
    p.push(PAYLOAD).then((_r: PushResult) => settled(), () => {
      failed++;
      settled();
    });
  }
  await p.idle();
  say(`done ${failed}`);
}

/** A publisher that says "ready <port>", then "go" publishes `count` messages under "t". */
async function publishing(mode: string, count: number): Promise<void> {
  const node = await start(mode);
  const pub = publisher(node);
  say(`ready ${node.port}`);
  exitOnStdinEnd(node);
  await go();
  say(`subscribers ${pub.subscribers.length}`);
  let last: Promise<unknown> = Promise.resolve();
  for (let i = 0; i < count; i++) {
    last = pub.publish("t", PAYLOAD);
    if (i % 2000 === 1999) await last;
  }
  await last;
  say("published");
}

/** Subscribes to everything at the publisher; "subscribed", then "done" at `count`. */
async function subscribing(mode: string, pubPort: number, count: number): Promise<void> {
  const node = await start(mode);
  let n = 0;
  const sub = subscriber(node, () => {
    if (++n === count) say("done");
  });
  await sub.subscribe(`127.0.0.1:${pubPort}`, "");
  say("subscribed");
  exitOnStdinEnd(node);
}

// ------------------------------------------------------------------ orchestration

interface Child { child: ChildProcess; lines: string[]; waitFor(re: RegExp): Promise<string> }

function run(rt: RuntimeName, args: (string | number)[]): Child {
  const [bin, argv] = scriptCommand("bench/patterns.ts", args.map(String), rt);
  const child = spawn(bin, argv, { stdio: ["pipe", "pipe", "inherit"] });
  const lines: string[] = [];
  const waiters: (() => void)[] = [];
  let buf = "";
  child.stdout!.on("data", (d: Uint8Array) => {
    buf += new TextDecoder().decode(d);
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      lines.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
    for (const w of waiters.splice(0)) w();
  });
  let exited = false;
  child.once("exit", () => {
    exited = true;
    for (const w of waiters.splice(0)) w();
  });
  return {
    child,
    lines,
    async waitFor(re) {
      for (;;) {
        const l = lines.find((x) => re.test(x));
        if (l !== undefined) return l;
        if (exited) throw new Error(`bench child ${args.join(" ")} exited before printing ${re}`);
        await new Promise<void>((r) => waiters.push(r));
      }
    },
  };
}

async function stopAll(children: Child[]): Promise<void> {
  await Promise.all(children.map((c) => new Promise<void>((resolve) => {
    if (c.child.exitCode !== null) return resolve();
    c.child.once("exit", () => resolve());
    c.child.stdin!.end();
  })));
}

const portOf = (line: string): number => Number(line.split(" ")[1]);

/** Messages/s over one connection between two processes. */
async function oneConnection(rt: RuntimeName, mode: string, count: number): Promise<number> {
  const recv = run(rt, ["recv", mode, count]);
  const port = portOf(await recv.waitFor(/^ready /));
  const send = run(rt, ["send", mode, port, count]);
  await send.waitFor(/^ready$/);
  const t0 = performance.now();
  send.child.stdin!.write("go\n");
  await recv.waitFor(/^done$/);
  const ms = performance.now() - t0;
  await send.waitFor(/^sent$/);
  await stopAll([send, recv]);
  return (count - 1) / (ms / 1000); // the first message was sent before the clock
}

/** Items/s through a pusher and 4 worker processes. */
async function pushPull(rt: RuntimeName, mode: string, count: number): Promise<number> {
  const workers = Array.from({ length: WORKERS }, () => run(rt, ["worker", mode]));
  const ports = await Promise.all(workers.map(async (w) => portOf(await w.waitFor(/^ready /))));
  const p = run(rt, ["push", mode, count, ...ports]);
  await p.waitFor(/^ready$/);
  const t0 = performance.now();
  p.child.stdin!.write("go\n");
  const done = await p.waitFor(/^done /);
  const ms = performance.now() - t0;
  await stopAll([p, ...workers]);
  if (done !== "done 0") throw new Error(`push/pull: ${done.split(" ")[1]} items failed`);
  return (count - 1) / (ms / 1000);
}

/** Deliveries/s from a publisher to 8 subscriber processes. */
async function pubSub(rt: RuntimeName, mode: string, count: number): Promise<number> {
  const pub = run(rt, ["pub", mode, count]);
  const port = portOf(await pub.waitFor(/^ready /));
  const subs = Array.from({ length: SUBSCRIBERS }, () => run(rt, ["sub", mode, port, count]));
  await Promise.all(subs.map((s) => s.waitFor(/^subscribed$/)));
  const t0 = performance.now();
  pub.child.stdin!.write("go\n");
  await Promise.all(subs.map((s) => s.waitFor(/^done$/)));
  const ms = performance.now() - t0;
  const n = await pub.waitFor(/^subscribers /);
  await pub.waitFor(/^published$/);
  await stopAll([pub, ...subs]);
  if (n !== `subscribers ${SUBSCRIBERS}`) throw new Error(`pub/sub: publisher saw ${n}`);
  return (count * SUBSCRIBERS) / (ms / 1000);
}

const median = (xs: number[]): number => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];

interface Row { name: string; unit: string; count: number; runs: number[]; median: number }

async function main(): Promise<void> {
  const runs = Number(arg("runs", "3"));
  const counts: Record<string, number> = { async: Number(arg("count", "100000")), sync: Number(arg("sync-count", "10000")) };
  const modes = arg("modes", "async,sync").split(",");
  const rts = arg("runtimes", "node,deno,bun").split(",") as RuntimeName[];
  const cpus = availableParallelism();
  const all: { runtime: RuntimeName; mode: string; rows: Row[] }[] = [];
  for (const rt of rts) {
    for (const mode of modes) {
      const count = counts[mode];
      const rows: Row[] = [];
      const cases: [string, string, number, (rt: RuntimeName, mode: string, count: number) => Promise<number>][] = [
        ["one connection", "messages/s", count, oneConnection],
        [`push/pull, ${WORKERS} workers`, "items/s", count, pushPull],
        [`pub/sub, ${SUBSCRIBERS} subscribers`, "deliveries/s", Math.ceil(count / SUBSCRIBERS), pubSub],
      ];
      for (const [name, unit, n, fn] of cases) {
        const xs: number[] = [];
        for (let r = 0; r < runs; r++) xs.push(await fn(rt, mode, n));
        rows.push({ name, unit, count: n, runs: xs.map(Math.round), median: Math.round(median(xs)) });
      }
      all.push({ runtime: rt, mode, rows });
      const base = rows[0].median;
      console.log(`\n${rt}, ${mode === "sync" ? "synchronous" : "asynchronous"} mode: 16-byte payloads, every node in its own process, ${cpus} CPUs, median of ${runs}`);
      console.log("what                          count          rate  unit           vs one connection");
      for (const r of rows) {
        console.log(`${r.name.padEnd(26)} ${String(r.count).padStart(8)} ${String(r.median).padStart(13)}  ${r.unit.padEnd(14)} ${(r.median / base).toFixed(2)}`);
      }
    }
  }
  console.log("RESULT " + JSON.stringify({ payload: PAYLOAD.length, workers: WORKERS, subscribers: SUBSCRIBERS, cpus, runs, results: all }));
}

const [role, mode, a, ...rest] = process.argv.slice(2);
if (role === "recv") await receiver(mode, Number(a));
else if (role === "send") await sender(mode, Number(a), Number(rest[0]));
else if (role === "worker") await worker(mode);
else if (role === "push") await pushing(mode, Number(a), rest.map(Number));
else if (role === "pub") await publishing(mode, Number(a));
else if (role === "sub") await subscribing(mode, Number(a), Number(rest[0]));
else await main();
