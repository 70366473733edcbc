// Worker-pool benchmark (issue #20): tasks/s of chirp-wasm/pool on local threads for tiny tasks
// (echo of 16 bytes) and CPU tasks (SHA-256 of 64 KiB in the worker), next to piscina (npm)
// with the same number of threads on Node (the same task module, bench/pool-tasks.ts), and a
// mixed pool of one local thread and one worker process joined over loopback (CPU tasks:
// tasks/s and how the work split). A third CPU row hashes 1 MiB (about 1 ms a task) to show
// the pool where the work dominates: SHA-256 of 64 KiB takes about 50 µs, less than a task's
// trip through the pool's sockets. Each figure is tasks/s over `--tasks` tasks kept `--window`
// in flight, after a warm-up of `--warmup` tasks of the same kind (default 4000; the split
// counts only the measured tasks). One run each, side by side. Not a test: nothing asserts on
// speed. Prints a table with the ratios to piscina and the issue's targets, for the pool as it starts and tuned for short tasks
// (prefetch 1, asynchronous node: docs/pool.md "On threads"); writes bench/results/pool.json
// and pool.svg on Node (on the other runtimes pool-deno.*, pool-bun.*; piscina: Node only).
//
//   node build/js/bench/pool.js [--threads 2] [--tasks 20000] [--cpu-tasks 4000] [--heavy-tasks 1000]
//                            [--window 256] [--warmup 4000]
//   deno run -A bench/pool.ts ... ; bun bench/pool.ts ...
import process from "node:process";
import { writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { workerPool } from "../pool/mod.ts";
import { runtime, repoRoot } from "../test/support/runtime.ts";
import { Child } from "../test/support/process.ts";
import { machineInfo } from "./harness.ts";
import { barPanel, PANEL_H, PANEL_W, short, text } from "./chart.ts";

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const threads = arg("threads", 2);
const tasks = arg("tasks", 20000);
const cpuTasks = arg("cpu-tasks", 4000);
const heavyTasks = arg("heavy-tasks", 1000);
const window = arg("window", 256);
const warmup = arg("warmup", 4000);
const TASKS = new URL(`./pool-tasks.${runtime === "node" ? "js" : "ts"}`, import.meta.url);
/** Targets of issue 20: CPU tasks within 10 % of piscina, tiny tasks at least half of it. */
const TARGET = { cpu: 0.9, tiny: 0.5, heavy: 0.9 };

type Run = (name: string, input: unknown) => Promise<unknown>;

/** tasks/s of `n` tasks, `window` in flight, after `warmup` of them to warm up (a fresh
 * pool's threads run the first thousands of tasks at half speed or less: JIT). */
async function rate(run: Run, name: string, input: (i: number) => unknown, n: number, atStart?: () => void): Promise<number> {
  const drive = async (count: number): Promise<void> => {
    let next = 0;
    await Promise.all(Array.from({ length: Math.min(window, count) }, async () => {
      while (next < count) await run(name, input(next++));
    }));
  };
  await drive(warmup);
  atStart?.();
  const t0 = performance.now();
  await drive(n);
  return n / ((performance.now() - t0) / 1000);
}

/** piscina's Piscina class, when it can be loaded (Node; not a literal import: the build and
 * the other runtimes do without it). */
async function loadPiscina(): Promise<(new (o: Record<string, unknown>) => { run(x: unknown, o: { name: string }): Promise<unknown>; destroy(): Promise<void> }) | string> {
  if (runtime !== "node") return "piscina is measured on Node only";
  try {
    const name = "piscina";
    return ((await import(name)) as { Piscina: never }).Piscina;
  } catch (e) {
    return `piscina not loadable (${(e as Error).message.split("\n")[0]})`;
  }
}

interface Row { row: string; key: "tiny" | "cpu" | "heavy" | "mixed"; tuned: boolean; threads: number; tasksPerSecond: number; piscina: number | null; ratio: number | null; target: number | null; split?: { worker: string; tasks: number }[] }
const tiny = new Uint8Array(16).fill(7);
const rows: Row[] = [];
const Piscina = await loadPiscina();
const base: Record<"tiny" | "cpu" | "heavy", number | null> = { tiny: null, cpu: null, heavy: null };
if (typeof Piscina !== "string") {
  const p = new Piscina({ filename: TASKS.href, minThreads: threads, maxThreads: threads, idleTimeout: 60_000 });
  const run: Run = (name, input) => p.run(input, { name });
  base.tiny = await rate(run, "echo", () => tiny, tasks);
  base.cpu = await rate(run, "sha256", (i) => i, cpuTasks);
  base.heavy = await rate(run, "sha256MiB", (i) => i, heavyTasks);
  await p.destroy();
}
/** The pool as it starts by default, and tuned for short tasks (docs/pool.md "On threads"). */
const CONFIGS = [
  { tuned: false, label: "", options: {} },
  { tuned: true, label: ", prefetch 1 + async", options: { prefetch: 1, node: { synchronous: false } } },
] as const;
const add = (row: Omit<Row, "piscina" | "ratio" | "target">, b: number | null, target: number | null): void => {
  rows.push({ ...row, piscina: b === null ? null : Math.round(b), ratio: b === null ? null : row.tasksPerSecond / b, target });
};
for (const c of CONFIGS) {
  const pool = await workerPool({ module: TASKS, threads, ...c.options });
  const run: Run = (name, input) => pool.run(name, input);
  const local = async (row: string, key: "tiny" | "cpu" | "heavy", name: string, input: (i: number) => unknown, n: number): Promise<void> =>
    add({ row: row + c.label, key, tuned: c.tuned, threads, tasksPerSecond: Math.round(await rate(run, name, input, n)) }, base[key], TARGET[key]);
  await local("tiny (16 B echo)", "tiny", "echo", () => tiny, tasks);
  await local("CPU (SHA-256 of 64 KiB)", "cpu", "sha256", (i) => i, cpuTasks);
  await local("CPU, 1 ms (SHA-256 of 1 MiB)", "heavy", "sha256MiB", (i) => i, heavyTasks);
  await pool.close();
}
for (const c of CONFIGS) {
  const pool = await workerPool({ module: TASKS, threads: 1, ...c.options });
  const joined = new Promise((r) => pool.on("join", r));
  const child = await Child.start("cli/chirpcat.ts", ["worker", "--module", join(repoRoot, runtime === "node" ? "build/js/bench/pool-tasks.js" : "bench/pool-tasks.ts"), "--join", pool.address, "--threads", "1", ...(c.tuned ? ["--prefetch", "1"] : [])]);
  await joined;
  let before: number[] = [];
  const r = await rate((name, input) => pool.run(name, input), "sha256", (i) => i, cpuTasks, () => (before = pool.stats().workers.map((w) => w.done)));
  const split = pool.stats().workers.map((w, i) => ({ worker: w.local ? "local thread" : "joined process", tasks: w.done - (before[i] ?? 0) }));
  add({ row: `mixed CPU: 1 thread + 1 joined${c.label}`, key: "mixed", tuned: c.tuned, threads: 2, tasksPerSecond: Math.round(r), split }, base.cpu, null);
  child.kill("SIGTERM");
  await child.finished(10_000).catch(() => {});
  await pool.close();
}

const machine = machineInfo([runtime]);
const piscinaNote = typeof Piscina === "string" ? Piscina : null;
const fmt = (v: number | null): string => (v === null ? "" : Math.round(v).toLocaleString("en-US"));
console.log(`${machine.cpuModel}, ${machine.cpuCount} CPUs; ${runtime} ${machine.runtimes[runtime] ?? ""}; ${threads} threads, ${window} tasks in flight`);
if (piscinaNote) console.log(`note: ${piscinaNote}`);
console.log(`${"".padEnd(58)} ${"chirp/s".padStart(9)} ${"piscina/s".padStart(10)} ${"ratio".padStart(6)} ${"target".padStart(7)}`);
for (const r of rows) {
  const split = r.split ? `  split: ${r.split.map((s) => `${s.worker} ${s.tasks}`).join(", ")}` : "";
  console.log(`  ${r.row.padEnd(56)} ${fmt(r.tasksPerSecond).padStart(9)} ${fmt(r.piscina).padStart(10)} ${(r.ratio === null ? "" : r.ratio.toFixed(2)).padStart(6)} ${(r.target === null || r.ratio === null ? "" : `>= ${r.target}`).padStart(7)}${split}`);
}
const out = { runtime, date: new Date().toISOString(), command: [runtime, ...process.argv.slice(1)].join(" "), machine, threads, window, warmup, tasks, cpuTasks, heavyTasks, piscina: piscinaNote ?? "loaded", targets: TARGET, rows };
const file = join(repoRoot, `bench/results/pool${runtime === "node" ? "" : `-${runtime}`}`);
mkdirSync(join(repoRoot, "bench/results"), { recursive: true });
writeFileSync(`${file}.json`, JSON.stringify(out, null, 2) + "\n");
writeFileSync(`${file}.svg`, chart(`${machine.cpuModel}, ${machine.cpuCount} CPUs; ${runtime} ${machine.runtimes[runtime] ?? ""}; one run; ${out.date.slice(0, 10)}`));
console.log(`wrote ${file}.json\nwrote ${file}.svg`);
process.exit(0);

/** Two panels: tiny tasks, and CPU tasks (threads, and the mixed row), Chirp next to piscina. */
function chart(subtitle: string): string {
  const W = 1040, H = PANEL_H + 100;
  const PISCINA = "#e69138", CHIRP = "#3d85c6", TUNED = "#9fc5e8";
  // Per cluster: the pool as it starts (dark blue), tuned (light blue), piscina (orange).
  const cluster = (key: Row["key"], label: string) => {
    const rs = rows.filter((r) => r.key === key);
    if (rs.length === 0) return [];
    const bars = rs.map((r) => ({ kind: r.tuned ? "chirp tuned" : "chirp", color: r.tuned ? TUNED : CHIRP, value: r.tasksPerSecond, labels: [short(r.tasksPerSecond), ...(r.ratio === null ? [] : [`${r.ratio.toFixed(2)}×`])] }));
    const b = rs[0].piscina;
    if (b !== null && key !== "mixed") bars.push({ kind: "piscina", color: PISCINA, value: b, labels: [short(b)] });
    return [{ runtime: label, bars }];
  };
  const mixed = rows.filter((r) => r.key === "mixed" && r.split);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    text(W / 2, 24, `chirp-wasm/pool (dark blue: default, light blue: prefetch 1 + async) next to piscina (orange), tasks/s`, `text-anchor="middle" font-size="16" font-weight="bold"`),
    text(W / 2, 42, subtitle, `text-anchor="middle" font-size="11" fill="#555"`),
    barPanel(10, 50, "tiny tasks: 16 B echo", "tasks/s", cluster("tiny", `${threads} threads`), `target: ≥ ${TARGET.tiny}× piscina`),
    barPanel(10 + PANEL_W + 20, 50, "CPU tasks: SHA-256 of 64 KiB, of 1 MiB", "tasks/s", [...cluster("cpu", `64 KiB, ${threads} threads`), ...cluster("mixed", "64 KiB, 1 thread + 1 joined"), ...cluster("heavy", `1 MiB, ${threads} threads`)], `target: ≥ ${TARGET.cpu}× piscina`, undefined, true),
    text(W / 2, H - 8, `mixed split: ${mixed.map((m) => `${m.tuned ? "tuned " : ""}${m.split!.map((s) => `${s.worker} ${s.tasks}`).join(" / ")}`).join("; ")}; ratios: × piscina with ${threads} threads`, `text-anchor="middle" font-size="11" fill="#555"`),
    `</svg>`,
  ].join("\n") + "\n";
}
