// Incoming TLS handshakes per second, old build against new in one run (issue #15: the old
// one built a node:tls server, i.e. a secure context, per incoming TLS connection). A victim
// node (test/fixtures/peer.ts of each build, default config but for its certificates) on
// CPU 1 accepts --count TLS connections from 127.0.0.2 (TLS by libchirp's loopback rule,
// protocol.md §1.2), --concurrency at a time; this process (the clients, one client secure
// context shared by all of them) counts a connection accepted when the victim's 18-byte chirp
// handshake arrived inside TLS, i.e. after the victim verified our certificate. Rounds
// alternate old and new; the table shows medians. Not a test: nothing asserts on speed.
//
//   node build/js/bench/tls-accept.js --base REV [--runtimes node,deno,bun] [--rounds 5]
//        [--count 200] [--concurrency 10] [--out bench/results/tls-accept.json]
//
// The base: `git archive REV` unpacked into a temporary directory, this checkout's
// node_modules symlinked into it, `npm run build` there; removed at the end.
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join, resolve } from "node:path";
import process from "node:process";
import * as net from "node:net";
import * as tls from "node:tls";
import type { RuntimeName } from "../adapters/runtime.ts";
import { testCertDir } from "../test/support/tls-certs.ts";
import { buildRevision, git, repo, unpackRevision } from "./revision.ts";
import { arg, collect, machineInfo, median, runRole, runtimesArg, scriptIn, strArg, type ScriptCommand } from "./harness.ts";
import { COLORS, PANEL_H, PANEL_W, barPanel, short, text, type Cluster } from "./chart.ts";


function buildBase(commit: string, dir: string): void {
  unpackRevision(commit, dir);
  buildRevision(commit, dir);
}

/** One TLS connection to the victim; resolves once its chirp handshake arrived (false: failed). */
function dialOne(port: number, ctx: tls.SecureContext): Promise<boolean> {
  return new Promise((res) => {
    let got = 0;
    const tcp = net.connect({ host: "127.0.0.1", port, localAddress: "127.0.0.2" });
    const c = tls.connect({ socket: tcp, secureContext: ctx, checkServerIdentity: () => undefined });
    c.on("data", (b: Buffer) => {
      got += b.length;
      if (got >= 18) {
        c.destroy();
        res(true);
      }
    });
    c.on("error", () => res(false));
    c.on("close", () => res(got >= 18));
  });
}

/** Handshakes/s of one run against a fresh victim of `command`'s build. */
async function measure(rt: RuntimeName, command: ScriptCommand, certDir: string, ctx: tls.SecureContext, count: number, conc: number): Promise<{ perSec: number; failed: number }> {
  const victim = runRole("test/fixtures/peer.ts", rt, 1, [JSON.stringify({ tlsDir: certDir })], [], command);
  const ready = (await collect(victim, '{"ev":"ready"')).pop() ?? "";
  const port = Number((JSON.parse(ready) as { port?: number }).port);
  if (!port) throw new Error(`${rt} victim did not start: ${ready}`);
  for (let i = 0; i < 5; i++) await dialOne(port, ctx); // warm-up
  let next = 0, failed = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: conc }, async () => {
    while (next++ < count) if (!(await dialOne(port, ctx))) failed++;
  }));
  const ms = performance.now() - t0;
  victim.stdinEnd();
  void collect(victim);
  await victim.exited;
  return { perSec: (count / ms) * 1000, failed };
}

async function main(): Promise<void> {
  const rev = strArg("base", "");
  if (!rev) throw new Error("--base REV is required (the revision to compare this checkout with)");
  const rts = runtimesArg();
  const rounds = arg("rounds", 5), count = arg("count", 200), conc = arg("concurrency", 10);
  const out = resolve(strArg("out", "bench/results/tls-accept.json"));
  const certDir = testCertDir();
  const ctx = tls.createSecureContext({
    key: readFileSync(join(certDir, "node2.key")), cert: readFileSync(join(certDir, "node2.crt")), ca: readFileSync(join(certDir, "ca.crt")),
  });
  const commit = git(["rev-parse", "--verify", `${rev}^{commit}`]).toString().trim();
  const head = git(["rev-parse", "HEAD"]).toString().trim();
  const dir = mkdtempSync(join(os.tmpdir(), "chirp-tls-accept-"));
  const cleanup = (): void => {
    try {
      unlinkSync(join(dir, "node_modules")); // the symlink, never what it points to
    } catch {
      // not made yet
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once("SIGINT", () => (cleanup(), process.exit(130)));
  try {
    buildBase(commit, dir);
    const builds = { old: scriptIn(dir), new: scriptIn(repo) };
    const runs: { runtime: RuntimeName; old: number[]; new: number[]; failed: number }[] = [];
    for (const rt of rts) {
      const r = { runtime: rt, old: [] as number[], new: [] as number[], failed: 0 };
      for (let i = 0; i < rounds; i++) {
        for (const b of (i % 2 ? ["new", "old"] : ["old", "new"]) as ("old" | "new")[]) {
          const m = await measure(rt, builds[b], certDir, ctx, count, conc);
          r[b].push(m.perSec);
          r.failed += m.failed;
          console.log(`${rt} round ${i + 1} ${b}: ${m.perSec.toFixed(0)} handshakes/s${m.failed ? ` (${m.failed} failed)` : ""}`);
        }
      }
      runs.push(r);
    }
    console.log(`\nincoming TLS handshakes/s, median of ${rounds} rounds (${count} connections, ${conc} at a time)`);
    console.log(`${"runtime".padEnd(8)} ${"old".padStart(8)} ${"new".padStart(8)} ${"new/old".padStart(8)}  failed`);
    const rows = runs.map((r) => ({ ...r, oldMedian: median(r.old), newMedian: median(r.new) }));
    for (const r of rows) {
      console.log(`${r.runtime.padEnd(8)} ${r.oldMedian.toFixed(0).padStart(8)} ${r.newMedian.toFixed(0).padStart(8)} ${(r.newMedian / r.oldMedian).toFixed(2).padStart(8)}  ${r.failed}`);
    }
    const res = { base: { rev, commit }, head, date: new Date().toISOString(), machine: machineInfo(rts), rounds, count, concurrency: conc, rows };
    writeFileSync(out, JSON.stringify(res, null, 2) + "\n");
    const clusters: Cluster[] = rows.map((r) => ({
      runtime: r.runtime,
      bars: [
        { kind: "old", color: COLORS.raw, value: r.oldMedian, labels: [short(r.oldMedian)] },
        { kind: "new", color: COLORS.chirp, value: r.newMedian, labels: [short(r.newMedian), `${(r.newMedian / r.oldMedian).toFixed(2)}× old`] },
      ],
    }));
    const W = PANEL_W + 20, H = PANEL_H + 120;
    writeFileSync(out.replace(/\.json$/, ".svg"), [
      `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif">`,
      `<rect width="${W}" height="${H}" fill="#fff"/>`,
      text(W / 2, 22, `Incoming TLS handshakes/s: ${rev} (old) vs ${head.slice(0, 10)} (new)`, `text-anchor="middle" font-size="14" font-weight="bold"`),
      text(W / 2, 40, `${res.machine.cpuModel}, ${res.machine.cpuCount} CPUs; ${res.date.slice(0, 10)}; median of ${rounds} rounds, ${count} connections, ${conc} at a time`, `text-anchor="middle" font-size="10" fill="#555"`),
      barPanel(10, 50, "handshakes/s (grey old, blue new)", "handshakes/s", clusters, ""),
      `</svg>`,
    ].join("\n") + "\n");
    console.log(`RESULT ${JSON.stringify(res)}`);
  } finally {
    cleanup();
  }
}

await main();
process.exit(0);
