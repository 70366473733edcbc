// The control backchannel's cost: the size of one report, and what reporting costs a busy
// node. A sender process sends --count async messages of 16 bytes to a receiver process
// (bench/harness.ts runPair), without reporting, then reporting every 1 s (the default) and
// every 0.1 s to a collector in this process. Figures: msg/s received, one run each (noisy on
// a shared machine: compare the rows of one run, not runs of different days).
//
//   node build/js/bench/report.js [--count 2000000] [--runtime node]
//
// Prints a table, then one JSON line (prefix "RESULT ").
import process from "node:process";
import { Chirp } from "../adapters/index.ts";
import type { RuntimeName } from "../adapters/runtime.ts";
import { collector, startReporting } from "../adapters/monitor/mod.ts";
import { arg, countingReceiver, report, runPair, sendLoop, strArg } from "./harness.ts";

const SCRIPT = "bench/report.ts";
const role = process.argv.find((a) => a === "--recv" || a === "--send");

if (role === "--recv") {
  await countingReceiver({ synchronous: false }, arg("count", 2_000_000));
} else if (role === "--send") {
  const count = arg("count", 2_000_000);
  const every = arg("every", 0);
  const node = await Chirp.start({ port: 0, bindV6: null, synchronous: false });
  const reporter = every > 0 ? startReporting(node, { to: strArg("collector", ""), every, name: `every ${every} s` }) : null;
  const data = new Uint8Array(16).fill(0x61);
  const to = `127.0.0.1:${arg("port", 0)}`;
  await sendLoop(() => node.send(to, data), false, count);
  if (reporter) report(`own ${JSON.stringify(reporter.own())}`);
  await node.close();
  process.exit(0);
} else {
  const count = arg("count", 2_000_000);
  const rt = strArg("runtime", "node") as RuntimeName;
  const c = await collector({ port: 0 });
  const rows: { every: number; msgsPerSec: number; reports: number; dropped: number; reportBytes: number }[] = [];
  for (const every of [0, 1, 0.1]) {
    const extra = every > 0 ? ["--every", String(every), "--collector", `127.0.0.1:${c.port}`] : [];
    const out = await runPair(SCRIPT, rt, ["--recv", "--count", String(count)], (port) => ["--send", "--port", String(port), "--count", String(count), ...extra]);
    const ms = Number(out.done[2]);
    const ownLine = out.send.find((l) => l.startsWith("own "));
    const own = ownLine ? (JSON.parse(ownLine.slice(4)) as { reports: number; bytes: number; dropped: number }) : { reports: 0, bytes: 0, dropped: 0 };
    rows.push({ every, msgsPerSec: Math.round(count / (ms / 1000)), reports: own.reports, dropped: own.dropped, reportBytes: own.reports ? Math.round(own.bytes / own.reports) : 0 });
  }
  await c.close();
  const base = rows[0].msgsPerSec;
  console.log(`${rt}, async, 16 B, ${count} messages, one run each (shared machine: noisy)`);
  console.log("reporting        msg/s  vs none  reports  dropped  bytes/report");
  for (const r of rows) {
    const label = r.every === 0 ? "none" : `every ${r.every} s`;
    console.log(`${label.padEnd(12)} ${String(r.msgsPerSec).padStart(9)}  ${(r.msgsPerSec / base).toFixed(2).padStart(7)}  ${String(r.reports).padStart(7)}  ${String(r.dropped).padStart(7)}  ${String(r.reportBytes).padStart(12)}`);
  }
  console.log(`RESULT ${JSON.stringify({ runtime: rt, count, rows })}`);
}
