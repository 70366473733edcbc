// A real Prometheus (Debian's prometheus package, /usr/bin/prometheus) scrapes the collector's
// /metrics every second while five nodes in their own processes report to it; queries on
// Prometheus's HTTP API (/api/v1/query) return each node's message counter and which node is
// down (one is SIGKILLed). Prints the query output. Runs once, on Node (test/run.mjs: it
// drives its processes itself); where prometheus is not installed it says so and skips.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { refusedPort } from "./support/raw-peer.ts";
import { sleep, until } from "./support/wait.ts";
import { skipFile } from "./support/skip.ts";
import { startCluster, type Cluster } from "./backchannel-cluster.ts";

const PROMETHEUS = "prometheus";
const installed = spawnSync(PROMETHEUS, ["--version"], { encoding: "utf8" }).status === 0;

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

async function query(port: number, q: string): Promise<{ text: string; samples: Sample[] }> {
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(q)}`, { signal: AbortSignal.timeout(5000) });
  const text = await res.text();
  const j = JSON.parse(text) as { status: string; data?: { result: Sample[] } };
  return { text, samples: j.status === "success" ? j.data!.result : [] };
}

if (!installed) {
  skipFile("prometheus (/usr/bin/prometheus, Debian package prometheus) is not installed");
} else {
  let cluster: Cluster | undefined;
  let prom: ChildProcess | undefined;
  const dir = mkdtempSync(join(tmpdir(), "chirp-prometheus-"));
  test.after(async () => {
    if (prom && prom.exitCode === null) {
      const gone = new Promise((r) => prom!.once("exit", r));
      prom.kill("SIGTERM");
      await Promise.race([gone, sleep(5000)]);
      if (prom.exitCode === null) prom.kill("SIGKILL");
    }
    await cluster?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("Prometheus scrapes the collector: each node's message counter, and who is down", async () => {
    cluster = await startCluster(1);
    const { collector: c, members } = cluster;
    const port = await refusedPort();
    writeFileSync(join(dir, "prometheus.yml"), [
      "global:", "  scrape_interval: 1s", "  evaluation_interval: 1s",
      "scrape_configs:", "  - job_name: chirp", "    static_configs:", `      - targets: ["127.0.0.1:${c.http!.port}"]`, "",
    ].join("\n"));
    let log = "";
    prom = spawn(PROMETHEUS, [
      `--config.file=${join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${join(dir, "data")}`, `--web.listen-address=127.0.0.1:${port}`,
    ], { stdio: ["ignore", "ignore", "pipe"] });
    prom.stderr!.on("data", (d: Uint8Array) => (log += new TextDecoder().decode(d)));
    const victim = members[2];
    await cluster.kill(victim);
    await until(() => c.nodes().find((n) => n.node === victim.name)!.state === "down", 10_000, "the victim down");
    let out = { text: "", samples: [] as Sample[] };
    try {
      const end = Date.now() + 40_000;
      while (Date.now() < end) {
        out = await query(port, "chirp_messages_out_total").catch(() => out);
        if (out.samples.length === 5) break;
        await sleep(500);
      }
    } finally {
      if (out.samples.length !== 5) console.log(log.slice(-2000));
    }
    console.log(`GET /api/v1/query?query=chirp_messages_out_total\n${out.text}`);
    assert.is(out.samples.length, 5, "one series per node");
    for (const m of members) {
      const s = out.samples.find((x) => x.metric.node === m.name);
      assert.ok(s, `a series for ${m.name}`);
      assert.is(Number(s!.value[1]), m.count, `${m.name}'s counter`);
      assert.is(s!.metric.job, "chirp");
    }
    // The victim was down before the first scrape; wait for a scrape that shows it.
    let up = await query(port, "chirp_node_up");
    for (let i = 0; i < 20 && !up.samples.some((s) => s.metric.node === victim.name && s.value[1] === "0"); i++) {
      await sleep(500);
      up = await query(port, "chirp_node_up");
    }
    console.log(`GET /api/v1/query?query=chirp_node_up\n${up.text}`);
    assert.is(up.samples.length, 5);
    for (const s of up.samples) assert.is(Number(s.value[1]), s.metric.node === victim.name ? 0 : 1, `chirp_node_up of ${s.metric.node}`);
    const reports = await query(port, "sum by (node) (chirp_report_messages_out_total)");
    assert.is(reports.samples.length, 5, "the reports are counted apart, per node");
  });
}

test.run();
