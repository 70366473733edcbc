// Builds the restart table of docs/patterns.md: runs the restart tests (patterns/*/restart.test.ts)
// on the runtimes given (default node deno bun) through test/run.mjs, collects the
// "restart-row {json}" lines they print (test/support/restart.ts) and prints one markdown
// row per pattern and restarted role: time from the restarted process listening to traffic
// flowing again (min-max over the runs; "a / b" = to it / from it), messages lost and
// duplicated (min-max), and the runtimes each run used; per mode (synchronous, and with
// --modes=sync,async also asynchronous: RESTART_MODE=async). Usage (after npm run build):
//   node scripts/restart-table.mjs [node deno bun] [--rounds=N] [--modes=sync,async]
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const args = process.argv.slice(2);
const rounds = Number(args.find((a) => a.startsWith("--rounds="))?.slice(9) ?? 1);
const modes = (args.find((a) => a.startsWith("--modes="))?.slice(8) ?? "sync").split(",");
const runtimes = args.filter((a) => !a.startsWith("--"));
const rows = [];
for (const mode of modes) for (let i = 0; i < rounds; i++) {
  const r = spawnSync(process.execPath, ["test/run.mjs", ...(runtimes.length ? runtimes : ["node", "deno", "bun"])], {
    cwd: root, encoding: "utf8", maxBuffer: 64 << 20,
    env: { ...process.env, TEST_FILTER: "restart\\.test", TEST_VERBOSE: "1", RESTART_MODE: mode },
  });
  if (r.status !== 0) {
    process.stderr.write(r.stdout + r.stderr);
    process.exit(1);
  }
  for (const m of r.stdout.matchAll(/restart-row (\{.*\})/g)) rows.push(JSON.parse(m[1]));
}
const groups = new Map();
for (const row of rows) {
  const k = `${row.pattern}|${row.restarted}|${row.mode}`;
  if (!groups.has(k)) groups.set(k, []);
  groups.get(k).push(row);
}
const span = (xs) => {
  const lo = Math.min(...xs), hi = Math.max(...xs);
  return lo === hi ? String(lo) : `${lo}–${hi}`;
};
const pairs = [...new Set(rows.map((r) => r.runtimes))];
console.log(`Runs per row: ${rounds} × (${pairs.join(", ")}) (restarted on, peer on).\n`);
console.log("| pattern | restarted | mode | resumed after (ms) | lost | duplicated | lost and duplicated are |");
console.log("|---|---|---|---|---|---|---|");
for (const [k, g] of [...groups].sort(([a], [b]) => (a < b ? -1 : 1))) {
  const [pattern, restarted, mode] = k.split("|");
  const dirs = g[0].resumeMs.length;
  const resume = Array.from({ length: dirs }, (_, d) => span(g.map((r) => r.resumeMs[d]))).join(" / ");
  console.log(`| ${pattern} | ${restarted} | ${mode} | ${resume} | ${span(g.map((r) => r.lost))} | ${span(g.map((r) => r.duplicated))} | ${g[0].note} |`);
}
