// TLS vs plaintext throughput: Chirp messages/s with encryption "always" (mutual TLS on
// 127.0.0.1) next to encryption "never", measured in the same run, on each runtime. One
// connection, sender and receiver in two processes (pinned to separate CPUs when `taskset`
// exists), 16-byte payloads; asynchronous mode counts messages received and released by the
// handler, synchronous mode waits for each ACK. Certificates: scripts/make-test-certs.sh
// (made into build/test-certs if missing).
//
//   node build/js/bench/tls.js [--runs 3] [--async-count 300000] [--sync-count 10000]
//                              [--runtimes node,deno,bun]
//
// Prints a table per runtime and one JSON line (prefix "RESULT ").
import process from "node:process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Chirp, type ChirpConfig } from "../adapters/index.ts";
import type { RuntimeName } from "../adapters/runtime.ts";
import { arg, countingReceiver, hasTaskset, median, report, runPair, runtimesArg, sendLoop } from "./harness.ts";

const SCRIPT = "bench/tls.ts";
import { testCertDir } from "../test/support/tls-certs.ts";

const PAYLOAD = 16;
type Enc = "tls" | "plain";


function security(enc: Enc, certDir: string, chain: string): ChirpConfig {
  if (enc === "plain") return { encryption: "never" };
  return {
    encryption: "always",
    tls: { certChain: readFileSync(join(certDir, chain), "utf8"), dhParams: readFileSync(join(certDir, "dh.pem"), "utf8") },
  };
}

// ------------------------------------------------------------------ child processes

async function receiver(mode: string, enc: Enc, certDir: string, count: number): Promise<void> {
  await countingReceiver({ ...security(enc, certDir, "node1.pem"), synchronous: mode === "sync" }, count);
}

async function sender(mode: string, enc: Enc, certDir: string, port: number, count: number): Promise<void> {
  const node = await Chirp.start({ ...security(enc, certDir, "node2.pem"), port: 0, bindV6: null, synchronous: mode === "sync" });
  const payload = new Uint8Array(PAYLOAD).fill(0x61);
  const to = `127.0.0.1:${port}`;
  await node.send(to, payload); // connect (and TLS handshake) outside the measured part
  const t0 = performance.now();
  await sendLoop(() => node.send(to, payload), mode === "sync", count - 1);
  report(`sent ${count} ${performance.now() - t0}`);
  await node.close();
}

// ------------------------------------------------------------------ orchestration

async function measure(rt: RuntimeName, mode: "async" | "sync", enc: Enc, certDir: string, count: number): Promise<number> {
  const { done } = await runPair(SCRIPT, rt, ["recv", mode, enc, certDir, String(count)],
    (port) => ["send", mode, enc, certDir, String(port), String(count)]);
  const [, n, ms] = done;
  // The receiver's clock starts at the first message (the connect message): count - 1 after it.
  return (Number(n) - 1) / (Number(ms) / 1000);
}

interface Row { mode: string; enc: Enc; count: number; runs: number[]; median: number }

async function main(): Promise<void> {
  const runs = arg("runs", 3);
  const asyncCount = arg("async-count", 300_000);
  const syncCount = arg("sync-count", 10_000);
  const rts = runtimesArg();
  const certDir = testCertDir();
  const all: { runtime: RuntimeName; rows: Row[] }[] = [];
  for (const rt of rts) {
    const rows: Row[] = [];
    for (const [mode, count] of [["async", asyncCount], ["sync", syncCount]] as const) {
      for (const enc of ["plain", "tls"] as const) {
        const xs: number[] = [];
        for (let r = 0; r < runs; r++) xs.push(await measure(rt, mode, enc, certDir, count));
        rows.push({ mode, enc, count, runs: xs.map(Math.round), median: Math.round(median(xs)) });
      }
    }
    all.push({ runtime: rt, rows });
    console.log(`\n${rt}: ${PAYLOAD}-byte payloads, one connection, two processes${hasTaskset ? " pinned to CPUs 0 and 1" : ""}, median of ${runs}`);
    console.log("mode    plaintext msg/s   TLS msg/s   TLS/plain");
    for (const mode of ["async", "sync"]) {
      const p = rows.find((r) => r.mode === mode && r.enc === "plain")!.median;
      const t = rows.find((r) => r.mode === mode && r.enc === "tls")!.median;
      console.log(`${mode.padEnd(6)} ${String(p).padStart(16)} ${String(t).padStart(11)}   ${(t / p).toFixed(2)}`);
    }
  }
  console.log("RESULT " + JSON.stringify({ payload: PAYLOAD, runs, results: all }));
}

const [role, mode, enc, certDir, a, b] = process.argv.slice(2);
if (role === "recv") await receiver(mode, enc as Enc, certDir, Number(a));
else if (role === "send") await sender(mode, enc as Enc, certDir, Number(a), Number(b));
else await main();
