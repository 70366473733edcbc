// Old against new in one run: builds an earlier revision (--base) in a temporary directory
// and measures it and this checkout's build side by side, round by round, so that a noisy
// moment hits both. For "the restructuring keeps throughput within 5 %". Not a test: nothing
// here asserts on speed.
//
//   npm run bench:compare -- --base REV      (builds this checkout first)
//   node build/js/bench/compare.js --base REV [options]
//     --base REV               the revision to compare with (required; any git revision)
//     --runtimes node,deno,bun
//     --cases async,sync,kib   which cases to run (default all three)
//     --rounds 3               each round runs every case once on each build (old first in
//                              even rounds, new first in odd ones); the table shows medians
//     --async-count 400000     messages per 16 B one-way run
//     --sync-count 10000       round trips per 16 B sync run
//     --kib-count 150000       messages per 1 KiB one-way run
//     --window 2000            Chirp async sender's window (CHIRP_BENCH_WINDOW), both builds
//     --out bench/results/compare.json   (the SVG chart goes next to it, .svg)
//
// The cases are the Chirp rows of bench/throughput.ts (16 B one-way async, 16 B round trips
// sync, 1 KiB one-way async), measured the same way (two processes pinned to CPUs 1 and 0,
// rate taken by the receiver), without the raw and zeromq baselines.
//
// The base checkout: `git archive REV` unpacked in a temporary directory (not `git worktree
// add`: nothing is registered in the repository, so even a killed run leaves no worktree
// behind), this checkout's node_modules symlinked into it, `npm run build` there. It is
// removed at the end, also on failure and on SIGINT/SIGTERM.
//
// How each build is driven: through the role interface bench/throughput.ts has had from the
// start, which the old build therefore has too: `throughput.js recv-chirp MODE COUNT PAYLOAD 0`
// prints "ready PORT" then "done N MS"; `send-chirp MODE COUNT PAYLOAD 0 PORT` sends. The
// base's own bench/throughput.ts measures the base's library. Only when the base lacks those
// roles are this checkout's bench/ harness files copied over the base's bench/ before its
// build (they drive the library through adapters/index.ts and the runtimes' transports);
// the JSON's "harness" field says which happened. Keep the roles' interface stable.
//
// Prints a table (runtime x case: old, new, new/old of the medians, the median of the rounds'
// paired ratios, and whether new is within 5 % of old or faster), writes the
// JSON (every round's figures, medians, ratios, both commits, machine, options, date) and an
// SVG chart.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join, resolve } from "node:path";
import process from "node:process";
import type { RuntimeName } from "../adapters/runtime.ts";
import { buildRevision, git, repo, unpackRevision } from "./revision.ts";
import { arg, hasTaskset, machineInfo, median, runPair, runtimesArg, scriptIn, SEND_WINDOW, strArg, type ScriptCommand } from "./harness.ts";
import { COLORS, PANEL_H, PANEL_W, barPanel, short, text, type Cluster } from "./chart.ts";

const SCRIPT = "bench/throughput.ts";
/** This checkout's bench files the base gets when its throughput.ts has no Chirp roles. */
const HARNESS = ["bench/throughput.ts", "bench/harness.ts", "bench/chart.ts", "bench/throughput-results.ts"];


interface Case { id: string; title: string; mode: "async" | "sync"; payload: number; count: number; unit: string }

interface Comparison {
  runtime: RuntimeName;
  case: string;
  title: string;
  unit: string;
  mode: string;
  payload: number;
  count: number;
  /** Each round's figure, in `unit`. */
  old: number[];
  new: number[];
  oldMedian: number;
  newMedian: number;
  /** newMedian / oldMedian. */
  ratio: number;
  /** The median of the rounds' own new/old ratios (each round runs both builds back to back,
   * so this cancels the machine's drift between rounds better than the ratio of medians). */
  pairedRatio: number;
  /** The new build is no more than 5 % slower (paired ratio >= 0.95); faster counts as within. */
  within5Percent: boolean;
}

/** The base revision unpacked into `dir` and built there. Returns what drives it. */
function buildBase(commit: string, dir: string): string {
  unpackRevision(commit, dir);
  let harness = "the base's own bench/throughput.ts roles";
  const own = existsSync(join(dir, SCRIPT)) ? readFileSync(join(dir, SCRIPT), "utf8") : "";
  if (!own.includes('"recv-chirp"') || !own.includes('"send-chirp"')) {
    for (const f of HARNESS) {
      mkdirSync(dirname(join(dir, f)), { recursive: true });
      copyFileSync(join(repo, f), join(dir, f));
    }
    harness = `this checkout's ${HARNESS.join(", ")} copied over the base's (it has no recv-chirp/send-chirp roles)`;
    console.log(`note: ${harness}`);
  }
  buildRevision(commit, dir);
  return harness;
}

/** One run of a case on one build, in the case's unit. */
async function measure(rt: RuntimeName, c: Case, command: ScriptCommand): Promise<number> {
  const common = [c.mode, String(c.count), String(c.payload), "0"];
  const { done } = await runPair(SCRIPT, rt, ["recv-chirp", ...common], (port) => ["send-chirp", ...common, String(port)], command);
  const msgPerSec = Number(done[1]) / (Number(done[2]) / 1000);
  return c.unit === "MB/s" ? (msgPerSec * c.payload) / 1e6 : msgPerSec;
}

const fmt = (x: number, unit: string): string => (unit === "MB/s" ? x.toFixed(1) : Math.round(x).toLocaleString("en-US"));

function printTable(rows: Comparison[], rounds: number): void {
  console.log(`\nmedian of ${rounds} round${rounds === 1 ? "" : "s"}${hasTaskset ? " (sender on CPU 0, receiver on CPU 1)" : " (not pinned: no taskset)"}`);
  console.log(`${"runtime".padEnd(8)} ${"case".padEnd(26)} ${"unit".padEnd(14)} ${"old".padStart(11)} ${"new".padStart(11)} ${"new/old".padStart(8)} ${"paired".padStart(7)}  within 5 % (or faster)`);
  for (const r of rows) {
    console.log(`${r.runtime.padEnd(8)} ${r.title.padEnd(26)} ${r.unit.padEnd(14)} ${fmt(r.oldMedian, r.unit).padStart(11)} ${fmt(r.newMedian, r.unit).padStart(11)} ${r.ratio.toFixed(3).padStart(8)} ${r.pairedRatio.toFixed(3).padStart(7)}  ${r.within5Percent ? "yes" : "NO"}`);
  }
}

function chart(res: { base: { rev: string; commit: string }; head: { commit: string; dirty: boolean }; rounds: number; date: string; machine: ReturnType<typeof machineInfo>; harness: string; comparisons: Comparison[] }, cases: Case[]): string {
  const W = 1040, H = 2 * PANEL_H + 124;
  const clusters = (c: Case): Cluster[] => res.comparisons.filter((r) => r.case === c.id).map((r) => ({
    runtime: r.runtime,
    bars: [
      { kind: "old", color: COLORS.raw, value: r.oldMedian, labels: [short(r.oldMedian)] },
      { kind: "new", color: COLORS.chirp, value: r.newMedian, labels: [short(r.newMedian), `${r.ratio.toFixed(3)}× old`] },
    ],
  }));
  const at = [[10, 80], [10 + PANEL_W + 20, 80], [10, 80 + PANEL_H + 20]];
  const head = `${res.head.commit.slice(0, 10)}${res.head.dirty ? " + uncommitted changes" : ""}`;
  const notes = [
    `old: ${res.base.rev} = ${res.base.commit.slice(0, 10)}`,
    `new: ${head}`,
    `median of ${res.rounds} round${res.rounds === 1 ? "" : "s"}, old and new alternating`,
    ...cases.map((c) => `${c.title}: ${c.count.toLocaleString("en-US")} per run`),
    `harness: ${res.harness.length > 60 ? `${res.harness.slice(0, 57)}...` : res.harness}`,
  ];
  const nx = 10 + PANEL_W + 40, ny = 80 + PANEL_H + 60;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    text(W / 2, 24, `Chirp old vs new: ${res.base.rev} against ${head}`, `text-anchor="middle" font-size="16" font-weight="bold"`),
    text(W / 2, 42, `${res.machine.cpuModel}, ${res.machine.cpuCount} CPUs; ${res.date.slice(0, 10)}; ${Object.entries(res.machine.runtimes).map(([k, v]) => `${k} ${v}`).join(", ")}`, `text-anchor="middle" font-size="11" fill="#555"`),
    `<rect x="400" y="58" width="12" height="12" fill="${COLORS.raw}"/>` + text(416, 68, "old (base)", `font-size="11"`),
    `<rect x="520" y="58" width="12" height="12" fill="${COLORS.chirp}"/>` + text(536, 68, "new (this checkout), labelled new/old", `font-size="11"`),
    ...cases.map((c, i) => barPanel(at[i][0], at[i][1], c.title, c.unit, clusters(c), "")),
    ...notes.map((l, i) => text(nx, ny + i * 16, l, `font-size="12"${i < 2 ? ` font-weight="bold"` : ""}`)),
    `</svg>`,
  ].join("\n") + "\n";
}

async function main(): Promise<void> {
  const rev = strArg("base", "");
  if (!rev) throw new Error("--base REV is required (the revision to compare this checkout with)");
  const rounds = arg("rounds", 3);
  const rts = runtimesArg();
  const window = arg("window", SEND_WINDOW);
  process.env.CHIRP_BENCH_WINDOW = String(window); // both builds' sender roles read it
  const out = resolve(strArg("out", "bench/results/compare.json"));
  const all: Case[] = [
    { id: "async", title: "16 B one-way (async)", mode: "async", payload: 16, count: arg("async-count", 400_000), unit: "msg/s" },
    { id: "sync", title: "16 B round trips (sync)", mode: "sync", payload: 16, count: arg("sync-count", 10_000), unit: "round trips/s" },
    { id: "kib", title: "1 KiB one-way (async)", mode: "async", payload: 1024, count: arg("kib-count", 150_000), unit: "MB/s" },
  ];
  const only = strArg("cases", "async,sync,kib").split(",").filter(Boolean);
  for (const id of only) if (!all.some((c) => c.id === id)) throw new Error(`--cases: unknown case ${id} (known: ${all.map((c) => c.id).join(", ")})`);
  const cases = all.filter((c) => only.includes(c.id));
  const commit = git(["rev-parse", "--verify", `${rev}^{commit}`]).toString().trim();
  const headCommit = git(["rev-parse", "HEAD"]).toString().trim();
  const dirty = git(["status", "--porcelain", "--untracked-files=no"]).toString().trim() !== "";
  const dir = mkdtempSync(join(os.tmpdir(), "chirp-compare-"));
  const cleanup = (): void => {
    try {
      unlinkSync(join(dir, "node_modules")); // the symlink, never what it points to
    } catch {
      // not made yet
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const onSignal = (sig: NodeJS.Signals): void => {
    cleanup();
    process.exit(sig === "SIGINT" ? 130 : 143);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const harness = buildBase(commit, dir);
    const builds: { name: "old" | "new"; command: ScriptCommand }[] = [
      { name: "old", command: scriptIn(dir) },
      { name: "new", command: scriptIn(repo) },
    ];
    const machine = machineInfo(rts);
    const loadStart = os.loadavg();
    const notes: string[] = [];
    if (loadStart[0] > 0.5) notes.push(`load average ${loadStart.map((x) => x.toFixed(2)).join(" ")} at the start: other processes are running, figures will be noisy`);
    for (const n of notes) console.log(`note: ${n}`);
    console.log(`old: ${rev} = ${commit.slice(0, 12)}; new: ${headCommit.slice(0, 12)}${dirty ? " + uncommitted changes" : ""}`);
    const figures = new Map<string, { old: number[]; new: number[] }>();
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? builds : [...builds].reverse();
      for (const rt of rts) {
        for (const c of cases) {
          const f = figures.get(`${rt} ${c.id}`) ?? { old: [], new: [] };
          figures.set(`${rt} ${c.id}`, f);
          for (const b of order) f[b.name].push(await measure(rt, c, b.command));
          console.log(`round ${r + 1}/${rounds} ${rt} ${c.title}: old ${fmt(f.old[r], c.unit)}, new ${fmt(f.new[r], c.unit)} ${c.unit}`);
        }
      }
    }
    const comparisons: Comparison[] = rts.flatMap((rt) => cases.map((c) => {
      const f = figures.get(`${rt} ${c.id}`)!;
      const oldMedian = median(f.old), newMedian = median(f.new);
      const ratio = newMedian / oldMedian;
      const paired = median(f.new.map((x, i) => x / f.old[i]));
      const round = (x: number): number => (c.unit === "MB/s" ? Number(x.toFixed(2)) : Math.round(x));
      return {
        runtime: rt, case: c.id, title: c.title, unit: c.unit, mode: c.mode, payload: c.payload, count: c.count,
        old: f.old.map(round), new: f.new.map(round), oldMedian: round(oldMedian), newMedian: round(newMedian),
        ratio: Number(ratio.toFixed(4)), pairedRatio: Number(paired.toFixed(4)), within5Percent: paired >= 0.95,
      };
    }));
    printTable(comparisons, rounds);
    const res = {
      date: new Date().toISOString(),
      command: ["node", ...process.argv.slice(1)].join(" "),
      base: { rev, commit },
      head: { commit: headCommit, dirty },
      harness,
      rounds,
      options: { rounds, window, runtimes: rts.join(","), ...Object.fromEntries(cases.map((c) => [`${c.id}Count`, c.count])) },
      machine,
      pinning: hasTaskset ? "taskset: sender CPU 0, receiver CPU 1" : "none (taskset not found)",
      loadAverage: { start: loadStart, end: os.loadavg() },
      notes,
      comparisons,
    };
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify(res, null, 1) + "\n");
    const svg = out.replace(/\.json$/, "") + ".svg";
    writeFileSync(svg, chart(res, cases));
    console.log(`\nwrote ${out}\nwrote ${svg}`);
  } finally {
    cleanup();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

await main().catch((e) => {
  console.error(`compare: ${(e as Error)?.message ?? String(e)}`);
  process.exitCode = 1;
});
