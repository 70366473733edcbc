// chirpcat loadtest: an HTTP load tester built on the worker pool (pool/, issue 20):
//
//   chirpcat loadtest URL --rate N --duration S [--threads N] [--join-port P] [--concurrency N]
//                         [--timeout S] [--wait-workers N]
//
// fires N requests a second for S seconds at URL (GET, with fetch) from the pool's workers:
// its own threads, and workers on other machines that join it (`chirpcat worker --module
// <cli/loadtest-task.js> --join HOST:P --concurrency 64`, printed at the start). Every 100 ms
// the requests due are sent as batches (one per worker, cli/loadtest-task.ts), each spread over
// the next 100 ms; the results' latencies go into a histogram of 1 % buckets (bounded memory
// whatever the run's length). A progress line on stderr each second (redrawn on a terminal);
// the report on stdout: requests, requests/s, p50/p90/p99/max latency, statuses, batches per
// worker. A batch whose worker was lost is not run again (that would fire its requests twice):
// its requests count as failed. SIGINT/SIGTERM stop early and report what was done. Exit 0
// when every request got an HTTP response (any status), 1 when some did not, 2 on a usage error.
import process from "node:process";
import { workerPool, type WorkerPool } from "../pool/mod.ts";
import type { Batch, BatchResult } from "./loadtest-task.ts";
import { EXIT } from "./options.ts";

const USAGE = "usage: chirpcat loadtest URL --rate N --duration S [--threads N] [--join-port P] [--concurrency N] [--timeout S] [--wait-workers N]";
const TICK_MS = 100;
const TASK_URL = new URL(import.meta.url.endsWith(".ts") ? "./loadtest-task.ts" : "./loadtest-task.js", import.meta.url);
const NAMES = ["rate", "duration", "threads", "join-port", "concurrency", "timeout", "wait-workers"] as const;
type Name = (typeof NAMES)[number];

/** Latencies in buckets 1 % wide (from 1 µs to about a minute): percentiles within 1 %. */
class Histogram {
  readonly #counts = new Float64Array(1900);
  count = 0;
  max = 0;
  add(ms: number): void {
    const us = Math.max(1, ms * 1000);
    this.#counts[Math.min(this.#counts.length - 1, Math.ceil(Math.log(us) / Math.log(1.01)))]++;
    this.count++;
    if (ms > this.max) this.max = ms;
  }
  /** The latency (ms) that a fraction `p` of the requests did not exceed. */
  quantile(p: number): number {
    let seen = 0;
    for (let i = 0; i < this.#counts.length; i++) {
      seen += this.#counts[i];
      if (seen >= p * this.count && seen > 0) return Math.min(this.max, 1.01 ** i / 1000);
    }
    return 0;
  }
}

function parse(args: string[]): { url: string; o: Partial<Record<Name, number>> } {
  let url: string | undefined;
  const o: Partial<Record<Name, number>> = {};
  for (let i = 0; i < args.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(args[i]);
    if (!m) {
      if (url !== undefined) throw new Error(`one URL only (got ${url} and ${args[i]})`);
      url = args[i];
      continue;
    }
    if (!(NAMES as readonly string[]).includes(m[1])) throw new Error(`unknown option --${m[1]}`);
    const v = m[2] ?? args[++i];
    const n = Number(v);
    if (v === undefined || v === "" || !Number.isFinite(n) || n < 0) throw new Error(`--${m[1]} ${v ?? ""}: expected a number >= 0`);
    o[m[1] as Name] = n;
  }
  if (url === undefined) throw new Error("a URL is required");
  if (!/^https?:\/\//.test(url)) throw new Error(`${url}: expected an http:// or https:// URL`);
  if (!(o.rate! > 0) || !(o.duration! > 0)) throw new Error("--rate and --duration are required (> 0)");
  for (const k of ["threads", "join-port", "concurrency", "wait-workers"] as const) {
    if (o[k] !== undefined && !Number.isInteger(o[k])) throw new Error(`--${k} ${o[k]}: expected a whole number`);
  }
  if (o.concurrency === 0) throw new Error("--concurrency 0: expected at least 1");
  return { url, o };
}

const ms = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));

/** Runs `chirpcat loadtest ARGS`; resolves with the exit code. */
export async function runLoadtest(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write(`${USAGE}\n`);
    return EXIT.OK;
  }
  let url: string, o: Partial<Record<Name, number>>;
  try {
    ({ url, o } = parse(args));
  } catch (e) {
    process.stderr.write(`chirpcat loadtest: ${(e as Error).message}\n${USAGE}\n`);
    return EXIT.USAGE;
  }
  const rate = o.rate!, duration = o.duration!, timeoutMs = (o.timeout ?? 10) * 1000;
  const waitWorkers = o["wait-workers"] ?? (o.threads === 0 ? 1 : 0);
  let pool: WorkerPool;
  try {
    pool = await workerPool({ module: TASK_URL, threads: o.threads, concurrentTasksPerThread: o.concurrency ?? 64, node: { port: o["join-port"] ?? 0 } });
  } catch (e) {
    process.stderr.write(`chirpcat loadtest: ${(e as Error).message}\n`);
    return EXIT.ERROR;
  }
  const err = (s: string): void => void process.stderr.write(s);
  const local = pool.stats().workers.length;
  err(`chirpcat loadtest: pool at ${pool.address} with ${local} thread(s); more workers: chirpcat worker --module ${TASK_URL.href.replace(/^file:\/\//, "")} --join HOST:${pool.node.port} --concurrency 64\n`);
  let stopped = false;
  const stop = (): void => void (stopped = true);
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  while (pool.stats().workers.length < local + waitWorkers && !stopped) await new Promise((r) => setTimeout(r, 50));

  const hist = new Histogram();
  const status: Record<string, number> = {};
  let sent = 0, failed = 0, firstError: string | undefined, lastCount = 0;
  const pending = new Set<Promise<void>>();
  const add = (r: BatchResult): void => {
    for (const l of r.latencies) hist.add(l);
    for (const [k, n] of Object.entries(r.status)) status[k] = (status[k] ?? 0) + n;
    failed += r.failed;
    firstError ??= r.error;
  };
  const tty = process.stderr.isTTY === true;
  const progress = (t: number): void => {
    const line = `loadtest: ${t.toFixed(1)}/${duration} s, ${sent} sent, ${hist.count} answered, ${hist.count - lastCount} req/s, p50 ${ms(hist.quantile(0.5))} ms, p99 ${ms(hist.quantile(0.99))} ms, ${failed} failed`;
    lastCount = hist.count;
    err(tty ? `\r\x1b[K${line}` : `${line}\n`);
  };
  const t0 = performance.now();
  const ticks = Math.ceil((duration * 1000) / TICK_MS);
  let nextProgress = 1000;
  for (let k = 0; k < ticks && !stopped; k++) {
    const due = Math.round(rate * Math.min(((k + 1) * TICK_MS) / 1000, duration)) - sent;
    const workers = Math.max(1, pool.stats().workers.filter((w) => !w.leaving).length);
    const parts = Math.min(due, workers);
    for (let p = 0; p < parts; p++) {
      const count = Math.floor(due / parts) + (p < due % parts ? 1 : 0);
      const batch: Batch = { url, count, spreadMs: TICK_MS, timeoutMs };
      const run = pool.run<BatchResult>("fire", batch, { retry: false }).then(add, (e) => {
        failed += count;
        firstError ??= (e as Error)?.message ?? String(e);
      });
      pending.add(run);
      void run.finally(() => pending.delete(run));
    }
    sent += Math.max(0, due);
    const wait = t0 + (k + 1) * TICK_MS - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    if (performance.now() - t0 >= nextProgress) {
      progress((performance.now() - t0) / 1000);
      nextProgress += 1000;
    }
  }
  await Promise.all(pending);
  const elapsed = (performance.now() - t0) / 1000;
  progress(elapsed);
  if (tty) err("\n");
  const workers = pool.stats().workers;
  process.removeListener("SIGINT", stop);
  process.removeListener("SIGTERM", stop);
  await pool.close();
  const out = [
    `loadtest: GET ${url} at ${rate} req/s for ${duration} s${stopped ? " (stopped early)" : ""}: ${sent} requests, ${hist.count} answered, ${failed} failed`,
    `requests/s: ${(hist.count / elapsed).toFixed(1)} (answered, over ${elapsed.toFixed(2)} s)`,
    `latency: p50 ${ms(hist.quantile(0.5))} ms, p90 ${ms(hist.quantile(0.9))} ms, p99 ${ms(hist.quantile(0.99))} ms, max ${ms(hist.max)} ms`,
    `status: ${Object.entries(status).map(([k, n]) => `${k} x${n}`).join(", ") || "none"}`,
    `workers: ${workers.map((w) => `${w.worker} (${w.local ? "thread" : "joined"}) ${w.done} batches`).join(", ")}`,
    ...(firstError !== undefined ? [`first failure: ${firstError}`] : []),
  ];
  process.stdout.write(out.join("\n") + "\n");
  return failed > 0 ? EXIT.ERROR : EXIT.OK;
}
