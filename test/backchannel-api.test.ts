// The control backchannel in one process, and chirpcat's collect/--report/monitor: the report
// header and format, the reporter's own traffic taken out of what it reports (sync and async),
// at most one report in flight (dropped ones counted), failures counted apart, the
// collector's down/up/restarted events, its /metrics (every node series labelled), /stats
// and a dashboard that needs no network.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import process from "node:process";
import { decodeHeader, PATTERN, OP } from "../patterns/header.ts";
import { REPORT_HEADER, decodeReport, collector, startReporting, type Collector, type CollectorEvent } from "../adapters/monitor/mod.ts";
import { PACKAGE_VERSION } from "../adapters/monitor/report-format.ts";
import { node } from "./support/nodes.ts";
import { refusedPort, silentServer } from "./support/raw-peer.ts";
import { sleep, until } from "./support/wait.ts";
import { repoRoot as repo, scriptCommand } from "./support/runtime.ts";

const collectors: Collector[] = [];
const children: ChildProcess[] = [];
test.after(async () => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  await Promise.all(collectors.map((c) => c.close()));
});
async function start(o: Parameters<typeof collector>[0] = {}): Promise<Collector> {
  const c = await collector(o);
  collectors.push(c);
  return c;
}

test("the report header is in the registry; the version is the package's; foreign reports decode", () => {
  assert.equal([...REPORT_HEADER], [0xc1, 0x80, 0x01]);
  const h = decodeHeader(REPORT_HEADER)!;
  assert.is(h.pattern, PATTERN.REPORT);
  assert.is(h.op, OP.REPORT.SNAPSHOT);
  assert.is(PACKAGE_VERSION, JSON.parse(readFileSync(`${repo}/package.json`, "utf8")).version);
  const enc = (x: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(x));
  assert.is(decodeReport(new TextEncoder().encode("not json")), null);
  assert.is(decodeReport(enc({ v: 2, seq: 1, every: 1, stats: {} })), null);
  assert.is(decodeReport(enc({ v: 1, seq: 1, every: 1, stats: { identity: "ab", port: 1, messagesIn: 0, messagesOut: 0, bytesIn: 0 } })), null, "bytesOut missing");
  // The smallest report another implementation may send (docs/monitoring.md).
  const r = decodeReport(enc({ v: 1, seq: 7, every: 2, stats: { identity: "00112233445566778899aabbccddeeff", port: 2998, messagesIn: 3, messagesOut: 4, bytesIn: 30, bytesOut: 40 } }))!;
  assert.ok(r);
  assert.is(r.seq, 7);
  assert.is(r.stats.messagesOut, 4);
  assert.equal(r.stats.perRemote, []);
  assert.equal(r.own, { reports: 0, bytes: 0, dropped: 0, failed: {} });
  assert.is(r.runtime, "unknown");
});

for (const synchronous of [true, false]) {
  test(`${synchronous ? "sync" : "async"}: the reports are counted apart, the application's traffic is exact`, async () => {
    const c = await start();
    const sink = await node({ synchronous: false, onMessage: (m) => m.release() });
    const a = await node({ synchronous });
    const rep = startReporting(a, { to: `127.0.0.1:${c.port}`, every: 0.05, name: "a" });
    for (let i = 0; i < 25; i++) await a.send(`127.0.0.1:${sink.port}`, "x".repeat(10));
    await until(() => (c.nodes()[0]?.reports ?? 0) >= 8 && c.nodes()[0].report.stats.messagesOut === 25, 10_000, "reports after the traffic");
    rep.stop();
    await until(() => c.node.stats().messagesIn === rep.own().reports, 5000, "the last report to arrive");
    const r = c.nodes()[0].report;
    assert.is(r.stats.messagesOut, 25);
    assert.is(r.stats.bytesOut, 250);
    const row = r.stats.perRemote.find((x) => x.port === c.port)!;
    assert.is(row.messagesOut, 0);
    assert.is(row.bytesOut, 0);
    // What the reporter counted apart is what the collector's node received from it.
    const own = rep.own();
    const got = c.node.stats().perRemote.find((x) => x.identity === c.nodes()[0].identity)!;
    assert.is(got.messagesIn, own.reports);
    assert.is(got.bytesIn, own.bytes);
    assert.is(c.nodes()[0].reports, own.reports);
    // The node's own stats still count everything.
    assert.is(a.stats().messagesOut, 25 + own.reports);
  });
}

test("maxRemoteRows: the busiest rows are reported, the others counted; totals cover all", async () => {
  const c = await start();
  const sinks = await Promise.all([0, 1, 2].map(() => node({ onMessage: (m) => m.release() })));
  const a = await node();
  for (const [i, s] of sinks.entries()) for (let k = 0; k <= i * 3; k++) await a.send(`127.0.0.1:${s.port}`, "x");
  const rep = startReporting(a, { to: `127.0.0.1:${c.port}`, every: 0.05, maxRemoteRows: 1 });
  await until(() => (c.nodes()[0]?.reports ?? 0) >= 2, 5000, "reports");
  rep.stop();
  const r = c.nodes()[0].report;
  assert.is(r.stats.perRemote.length, 1);
  assert.is(r.stats.perRemote[0].port, sinks[2].port, "the busiest");
  assert.is(r.perRemoteOmitted, 3, "two sinks and the collector left out");
  assert.is(r.stats.messagesOut, 1 + 4 + 7);
});

test("a collector that never answers: one report in flight, the rest dropped and counted", async () => {
  const silent = await silentServer();
  const a = await node({ timeout: 5 });
  const rep = startReporting(a, { to: `127.0.0.1:${silent.port}`, every: 0.05 });
  let maxQueued = 0;
  const end = Date.now() + 800;
  while (Date.now() < end) {
    const row = a.stats().perRemote.find((r) => r.port === silent.port);
    maxQueued = Math.max(maxQueued, (row?.queued ?? 0) + (row?.unacked ?? 0));
    await sleep(10);
  }
  rep.stop();
  assert.ok(rep.own().dropped >= 8, `dropped ${rep.own().dropped}`);
  assert.is(rep.own().reports, 0);
  assert.ok(maxQueued <= 1, `at most one report waiting (saw ${maxQueued})`);
  await silent.close();
});

test("failed reports are counted apart: not in the sendErrors the node reports", async () => {
  const port = await refusedPort();
  const a = await node();
  const rep = startReporting(a, { to: `127.0.0.1:${port}`, every: 0.05, name: "b" });
  await until(() => (rep.own().failed.CANNOT_CONNECT ?? 0) >= 2, 5000, "two failed reports");
  assert.ok((a.stats().sendErrors.CANNOT_CONNECT ?? 0) >= 2, "the node's own stats have them");
  const c = await start({ port });
  await until(() => c.nodes().length === 1, 10_000, "a report once the collector is there");
  rep.stop();
  const r = c.nodes()[0].report;
  assert.ok((r.own.failed.CANNOT_CONNECT ?? 0) >= 2);
  assert.equal(r.stats.sendErrors, {}, "no report failure among the application's errors");
  assert.equal(r.stats.perRemote.find((x) => x.port === port)?.sendErrors ?? {}, {});
});

test("events: joined, down after 3 intervals, up, restarted (new identity, same name)", async () => {
  const c = await start();
  const events: CollectorEvent[] = [];
  c.on((e) => events.push(e));
  const a = await node();
  let rep = startReporting(a, { to: `127.0.0.1:${c.port}`, every: 0.1, name: "w" });
  await until(() => events.length === 1, 5000, "joined");
  assert.is(events[0].type, "joined");
  assert.is(events[0].identity, a.stats().identity);
  rep.stop();
  const stoppedAt = Date.now();
  await until(() => events.length === 2, 5000, "down");
  assert.is(events[1].type, "down");
  assert.ok(events[1].silentMs! > 300, `silent ${events[1].silentMs} ms`);
  assert.ok(events[1].time - stoppedAt <= 350 + 200, "down within 3.5 intervals (and some slack)");
  assert.is(c.nodes()[0].state, "down");
  rep = startReporting(a, { to: `127.0.0.1:${c.port}`, every: 0.1, name: "w" });
  await until(() => events.length === 3, 5000, "up");
  assert.is(events[2].type, "up");
  rep.stop();
  const b = await node();
  const rep2 = startReporting(b, { to: `127.0.0.1:${c.port}`, every: 0.1, name: "w" });
  await until(() => events.length === 4, 5000, "restarted");
  rep2.stop();
  assert.is(events[3].type, "restarted");
  assert.is(events[3].previous, a.stats().identity);
  assert.is(events[3].identity, b.stats().identity);
  assert.is(c.nodes().length, 1);
  assert.is(c.nodes()[0].restarts, 1);
});

test("HTTP: /metrics labels every node series, /stats is JSON, / needs no network; invalid reports counted", async () => {
  const c = await start({ http: 0 });
  const reps = [];
  for (const name of ["x", "y"]) {
    const n = await node();
    reps.push(startReporting(n, { to: `127.0.0.1:${c.port}`, every: 0.1, name }));
  }
  const other = await node();
  await other.send(`127.0.0.1:${c.port}`, "not a report");
  await until(() => c.nodes().length === 2 && c.nodes().every((n) => n.reports >= 2) && c.counts().invalid === 1, 15000, "two nodes");
  try {
    // The reporters keep reporting while the HTTP views are read: at every = 0.1 s a node that
    // stopped would be marked down after 0.3 s, less than these reads take on a loaded machine.
    const base = `http://127.0.0.1:${c.http!.port}`;
    const metrics = await (await fetch(`${base}/metrics`)).text();
    const families = [...metrics.matchAll(/^# HELP (\S+)/gm)].map((m) => m[1]);
    assert.is(new Set(families).size, families.length, "each family once");
    const samples = metrics.split("\n").filter((l) => l && !l.startsWith("#"));
    for (const l of samples) {
      if (l.startsWith("chirp_collector_")) continue;
      assert.match(l, /^chirp_\w+\{node="[xy]"/, l);
    }
    assert.match(metrics, /^chirp_messages_out_total\{node="x"\} 0$/m);
    assert.match(metrics, /^chirp_node_up\{node="y"\} 1$/m);
    assert.match(metrics, /^chirp_collector_invalid_reports_total 1$/m);
    const stats = await (await fetch(`${base}/stats?history=1`)).json() as { nodes: { node: string; history: unknown[] }[]; collector: { up: number } };
    assert.equal(stats.nodes.map((n) => n.node).sort(), ["x", "y"]);
    assert.ok(stats.nodes[0].history.length >= 2);
    assert.is(stats.collector.up, 2);
    const page = await (await fetch(`${base}/`)).text();
    assert.match(page, /^<!doctype html>/);
    assert.not.match(page, /https?:\/\//, "no URL to anywhere");
    assert.not.match(page, /\s(src|href)=/, "nothing loaded from elsewhere");
    assert.is((await fetch(`${base}/nothing`)).status, 404);
  } finally {
    for (const r of reps) r.stop();
  }
});

/** Runs chirpcat; collects its output. */
function chirpcat(args: string[]): { child: ChildProcess; out: () => string; err: () => string; exit: Promise<number | null> } {
  const [cmd, argv] = scriptCommand("cli/chirpcat.ts", args);
  const child = spawn(cmd, argv, { cwd: repo, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let out = "";
  let err = "";
  child.stdout!.on("data", (d: Uint8Array) => (out += new TextDecoder().decode(d)));
  child.stderr!.on("data", (d: Uint8Array) => (err += new TextDecoder().decode(d)));
  const exit = new Promise<number | null>((r) => child.once("close", r));
  return { child, out: () => out, err: () => err, exit };
}

test("chirpcat collect --http, a node with --report, monitor on the collector; SIGKILL: down", async () => {
  const col = chirpcat(["collect", "--port", "0", "--http", "0"]);
  await until(() => /dashboard on http:\/\/127\.0\.0\.1:(\d+)\//.test(col.err()), 20_000, "collect's status lines");
  const port = /collecting reports on port (\d+)/.exec(col.err())![1];
  const http = /dashboard on http:\/\/127\.0\.0\.1:(\d+)\//.exec(col.err())![1];
  const lis = chirpcat(["listen", "--port", "0", "--report", `127.0.0.1:${port}`, "--report-every", "0.2", "--name", "cat-1"]);
  await until(() => /joined cat-1 identity [0-9a-f]{32}/.test(col.out()), 20_000, "the joined event");
  const mon = chirpcat(["monitor", `127.0.0.1:${http}`, "--once"]);
  assert.is(await mon.exit, 0, mon.err());
  assert.match(mon.out(), /^chirp collector [0-9a-f]{8} +port \d+ +1 nodes: 1 up, 0 down/);
  assert.match(mon.out(), /^ {2}cat-1 +up +\w+ +sync /m);
  lis.child.kill("SIGKILL");
  await until(() => /down cat-1 identity [0-9a-f]{32}, silent/.test(col.out()), 10_000, "the down event");
  const mon2 = chirpcat(["monitor", `127.0.0.1:${http}`, "--once"]);
  assert.is(await mon2.exit, 0);
  assert.match(mon2.out(), /^ {2}cat-1 +DOWN since \d\d:\d\d:\d\d /m);
  assert.match(mon2.out(), /0 up, 1 down/);
  process.kill(col.child.pid!, "SIGTERM"); // (Deno's child.kill() reports no exit code)
  assert.is(await col.exit, 0, col.err());
  const usage = chirpcat(["listen", "--report-every", "1"]);
  assert.is(await usage.exit, 2);
  assert.match(usage.err(), /--report-every and --name go with --report/);
});

test.run();
