// Worker processes that join a pool over loopback (`chirpcat worker`, pool/join.ts) on this
// runtime: one that is SIGKILLed mid-task (its task runs again on the pool's own thread, and
// the pool drops it as soon as its connection closes), and one that leaves cleanly on SIGTERM.
// Prints how long the killed worker's task took to run elsewhere.
import { test } from "uvu";
import * as assert from "uvu/assert";
import process from "node:process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { workerPool, type PoolEvent } from "../pool/mod.ts";
import { runtime } from "./support/runtime.ts";
import { Child } from "./support/process.ts";
import { until } from "./support/wait.ts";

const TASKS = new URL(`./fixtures/pool-tasks.${runtime === "node" ? "js" : "ts"}`, import.meta.url);
const dir = mkdtempSync(join(tmpdir(), "chirp-pool-remote-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const startWorker = (join: string): Promise<Child & { port: number }> =>
  Child.start("cli/chirpcat.ts", ["worker", "--module", fileURLToPath(TASKS), "--join", join, "--threads", "1"]);

test("a worker process SIGKILLed mid-task: its task runs on another worker", async () => {
  const pool = await workerPool({ module: TASKS, threads: 1 });
  const events: PoolEvent[] = [];
  for (const t of ["join", "drop", "leave"] as const) pool.on(t, (e) => events.push(e));
  const child = await startWorker(pool.address);
  try {
    await until(() => events.some((e) => e.type === "join" && !e.local), 20_000, "the worker process joined");
    // Keep the local thread busy, so the next task goes to the worker process.
    const busy = pool.run("sleep", 300);
    const marker = join(dir, "slow");
    const task = pool.run<string>("slowOnce", { marker, ms: 30_000 });
    await until(() => existsSync(marker), 10_000, "the worker process started the task");
    const t0 = performance.now();
    child.kill("SIGKILL");
    const out = await task;
    const ms = performance.now() - t0;
    assert.is(out, `done by ${process.pid}`, "the pool's own thread (this process) did it");
    await busy;
    const drop = events.find((e) => e.type === "drop");
    assert.ok(drop && !drop.local, `a drop event: ${JSON.stringify(events)}`);
    assert.is(pool.stats().retried, 1);
    assert.is(pool.stats().workers.length, 1, "only the local thread is left");
    console.log(`# ${runtime}: a SIGKILLed worker process's task ran elsewhere after ${ms.toFixed(0)} ms`);
  } finally {
    child.kill("SIGKILL");
    await pool.close({ drain: false });
  }
});

test("a worker process leaves cleanly on SIGTERM", async () => {
  const pool = await workerPool({ module: TASKS, threads: 1 });
  const events: PoolEvent[] = [];
  for (const t of ["join", "drop", "leave"] as const) pool.on(t, (e) => events.push(e));
  const child = await startWorker(pool.address);
  try {
    await until(() => events.some((e) => e.type === "join" && !e.local), 20_000, "the worker process joined");
    assert.is(pool.stats().workers.length, 2);
    child.kill("SIGTERM");
    assert.is(await child.finished(10_000), 0);
    await until(() => events.some((e) => e.type === "leave"), 10_000, "the leave event");
    assert.is(pool.stats().workers.length, 1);
    assert.is(await pool.run("square", 3), 9);
  } finally {
    child.kill("SIGKILL");
    await pool.close({ drain: false });
  }
});

test.run();
