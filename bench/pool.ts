// Worker-pool benchmark (issue #20): tasks/s of chirp-wasm/pool on local threads for tiny tasks
// (echo of 16 bytes) and CPU tasks (SHA-256 of 64 KiB in the worker), and a mixed pool of one
// local thread and one worker process joined over loopback (CPU tasks: tasks/s and how the
// work split). Each figure is tasks/s over `--tasks` tasks kept `--window` in flight, after a
// warm-up of 200 tasks (the mixed row's split counts the warm-up too). Not a test: nothing asserts on speed. Writes bench/results/pool.json
// on Node (the runtime it runs on otherwise: pool-deno.json, pool-bun.json).
//
//   node build/js/bench/pool.js [--threads 2] [--tasks 20000] [--window 256]
//   deno run -A bench/pool.ts ... ; bun bench/pool.ts ...
//
// piscina (the issue's baseline) is not measured yet: see the closing note of the pool branch.
import process from "node:process";
import { writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { workerPool, type WorkerPool } from "../pool/mod.ts";
import { runtime, repoRoot } from "../test/support/runtime.ts";
import { Child } from "../test/support/process.ts";

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const threads = arg("threads", 2);
const tasks = arg("tasks", 20000);
const cpuTasks = arg("cpu-tasks", 4000);
const window = arg("window", 256);
const TASKS = new URL(`./pool-tasks.${runtime === "node" ? "js" : "ts"}`, import.meta.url);

async function rate(pool: WorkerPool, name: string, input: (i: number) => unknown, n: number): Promise<number> {
  const drive = async (count: number): Promise<void> => {
    let next = 0;
    await Promise.all(Array.from({ length: Math.min(window, count) }, async () => {
      while (next < count) await pool.run(name, input(next++));
    }));
  };
  await drive(200);
  const t0 = performance.now();
  await drive(n);
  return n / ((performance.now() - t0) / 1000);
}

const tiny = new Uint8Array(16).fill(7);
const rows: Record<string, unknown>[] = [];
{
  const pool = await workerPool({ module: TASKS, threads });
  rows.push({ row: "tiny (16 B echo)", threads, tasksPerSecond: Math.round(await rate(pool, "echo", () => tiny, tasks)) });
  rows.push({ row: "CPU (SHA-256 of 64 KiB)", threads, tasksPerSecond: Math.round(await rate(pool, "sha256", (i) => i, cpuTasks)) });
  await pool.close();
}
{
  const pool = await workerPool({ module: TASKS, threads: 1 });
  const joined = new Promise((r) => pool.on("join", r));
  const child = await Child.start("cli/chirpcat.ts", ["worker", "--module", join(repoRoot, runtime === "node" ? "build/js/bench/pool-tasks.js" : "bench/pool-tasks.ts"), "--join", pool.address, "--threads", "1"]);
  await joined;
  const before = pool.stats().workers.map((w) => w.done);
  const r = await rate(pool, "sha256", (i) => i, cpuTasks);
  const split = pool.stats().workers.map((w, i) => ({ worker: w.local ? "local thread" : "joined process", tasks: w.done - (before[i] ?? 0) }));
  rows.push({ row: "mixed CPU: 1 thread + 1 joined process", threads: 2, tasksPerSecond: Math.round(r), split });
  child.kill("SIGTERM");
  await child.finished(10_000).catch(() => {});
  await pool.close();
}
const out = { runtime, date: new Date().toISOString(), window, rows };
console.log(JSON.stringify(out, null, 2));
mkdirSync(join(repoRoot, "bench/results"), { recursive: true });
writeFileSync(join(repoRoot, `bench/results/pool${runtime === "node" ? "" : `-${runtime}`}.json`), JSON.stringify(out, null, 2) + "\n");
process.exit(0);
