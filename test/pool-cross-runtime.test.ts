// A pool on Bun whose workers are a Deno and a Node process (`chirpcat worker`, one thread
// each): both join, both get tasks, the results come back to Bun. Starts the three runtimes
// itself, so it runs once (test/run.mjs).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { repoRoot } from "./support/runtime.ts";
import { Child } from "./support/process.ts";

test("a Bun pool with a Deno and a Node worker process", async () => {
  const host = await Child.start("test/fixtures/pool-host.ts", ["2"], { runtime: "bun" });
  const at = `127.0.0.1:${host.port}`;
  const workers = await Promise.all([
    Child.start("cli/chirpcat.ts", ["worker", "--module", join(repoRoot, "test/fixtures/pool-tasks.ts"), "--join", at, "--threads", "1"], { runtime: "deno" }),
    Child.start("cli/chirpcat.ts", ["worker", "--module", join(repoRoot, "build/js/test/fixtures/pool-tasks.js"), "--join", at, "--threads", "1"], { runtime: "node" }),
  ]);
  try {
    const r = await host.waitFor((e) => e.ev === "result", 30_000, "the pool's results");
    const pids = r.pids as number[];
    assert.is(pids.length, 24);
    const byWorker = new Set(pids);
    for (const w of workers) assert.ok(byWorker.has(w.pid), `${w.runtime} worker (pid ${w.pid}) did tasks: ${JSON.stringify(pids)}`);
    assert.ok(pids.every((p) => workers.some((w) => w.pid === p)), "every task ran on a worker process");
  } finally {
    for (const w of workers) w.kill("SIGTERM");
    for (const w of workers) await w.finished(10_000).catch(() => {});
    assert.is(await host.stop(), 0);
  }
});

test.run();
