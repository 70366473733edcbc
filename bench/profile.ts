// Profiles Chirp's benchmark roles (bench/throughput.ts): a receiver and a sender in two
// pinned processes, like the bench, each under its runtime's CPU profiler, and prints where
// the time goes per message on each side. Not a test.
//
//   node build/js/bench/profile.js [--runtime node|deno|bun] [--mode async|sync]
//        [--payload 16] [--count 1000000] [--out /tmp/chirp-profile] [--top 15]
//
// Node and Bun write Chrome .cpuprofile files (--cpu-prof); this prints, per side, the time per
// message of the functions with the most self time and of the main call paths (inclusive).
// Deno has no --cpu-prof: it runs with V8's --prof and the log is summarised with
// `node --prof-process` (its [Summary] and [JavaScript] sections).
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import process from "node:process";
import type { RuntimeName } from "../adapters/runtime.ts";
import { arg, drain, runRole, strArg } from "./harness.ts";

interface ProfNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface Profile { nodes: ProfNode[]; samples: number[]; timeDeltas: number[] }

const label = (n: ProfNode): string => {
  const f = n.callFrame;
  return `${f.functionName || "(anonymous)"} ${f.url.split("/").slice(-2).join("/")}${f.url ? `:${f.lineNumber + 1}` : ""}`;
};

/** Self and inclusive time per function label, in microseconds. */
function summarise(p: Profile): { self: Map<string, number>; incl: Map<string, number>; total: number } {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const own = new Map<number, number>();
  p.samples.forEach((id, i) => own.set(id, (own.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const self = new Map<string, number>();
  const incl = new Map<string, number>();
  let total = 0;
  const walk = (n: ProfNode, onStack: Set<string>): number => {
    const k = label(n);
    let t = own.get(n.id) ?? 0;
    self.set(k, (self.get(k) ?? 0) + t);
    total += t;
    const inner = new Set(onStack).add(k);
    for (const c of n.children ?? []) t += walk(byId.get(c)!, inner);
    if (!onStack.has(k)) incl.set(k, (incl.get(k) ?? 0) + t);
    return t;
  };
  walk(p.nodes[0], new Set());
  return { self, incl, total };
}

function printProfile(side: string, file: string, count: number, top: number): void {
  const { self, incl, total } = summarise(JSON.parse(readFileSync(file, "utf8")) as Profile);
  const per = (us: number): string => `${(us / count).toFixed(3).padStart(8)} µs/msg`;
  const pct = (us: number): string => `${((100 * us) / total).toFixed(1).padStart(5)} %`;
  console.log(`\n${side}: ${file}\n  self time (whole process ${(total / 1000).toFixed(0)} ms):`);
  for (const [k, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${per(us)} ${pct(us)}  ${k}`);
  console.log("  inclusive (main paths):");
  const skip = /^\((root|program|idle|garbage collector)\)/;
  for (const [k, us] of [...incl].filter(([k]) => !skip.test(k)).sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${per(us)} ${pct(us)}  ${k}`);
}

async function main(): Promise<void> {
  const rt = strArg("runtime", "node") as RuntimeName;
  const mode = strArg("mode", "async");
  const payload = arg("payload", 16);
  const count = arg("count", mode === "sync" ? 20_000 : 1_000_000);
  const top = arg("top", 15);
  const out = resolve(strArg("out", "/tmp/chirp-profile"));
  rmSync(out, { recursive: true, force: true });
  const dirs = { receiver: join(out, "receiver"), sender: join(out, "sender") };
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
  const flags = (dir: string): string[] => rt === "deno"
    ? [`--v8-flags=--prof,--logfile=${join(dir, "v8.log")},--no-logfile-per-isolate`]
    : ["--cpu-prof", `--cpu-prof-dir=${dir}`];
  const recv = runRole("bench/throughput.ts", rt, 1, ["recv-chirp", mode, String(count), String(payload), "0"], flags(dirs.receiver));
  const port = Number(((await recv.lines.next()).value as string).split(" ")[1]);
  const send = runRole("bench/throughput.ts", rt, 0, ["send-chirp", mode, String(count), String(payload), "0", String(port)], flags(dirs.sender));
  const [, n, ms] = ((await recv.lines.next()).value as string).split(" ");
  await drain(send);
  await send.exited;
  recv.stdinEnd();
  await recv.exited;
  console.log(`${rt} ${mode} ${payload} B: ${count} messages, ${Math.round(Number(n) / (Number(ms) / 1000)).toLocaleString("en-US")} msg/s while profiled`);
  for (const side of ["receiver", "sender"] as const) {
    const dir = dirs[side];
    if (rt === "deno") {
      const r = spawnSync(process.execPath, ["--prof-process", join(dir, "v8.log")], { encoding: "utf8", maxBuffer: 64 << 20 });
      const text = r.stdout;
      const section = (name: string, lines: number): string => {
        const i = text.indexOf(` [${name}]:`);
        return i < 0 ? "" : text.slice(i).split("\n").slice(0, lines).join("\n");
      };
      console.log(`\n${side}: ${join(dir, "v8.log")} (V8 --prof ticks, 1 ms each)\n${section("Summary", 12)}\n${section("Shared libraries", 5)}\n${section("JavaScript", top + 3)}`);
    } else {
      const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
      if (file) printProfile(side, join(dir, file), count, top);
      else console.log(`\n${side}: no profile written in ${dir}`);
    }
  }
}

await main();
