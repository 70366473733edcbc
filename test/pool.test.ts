// The worker pool (pool/) on this runtime's threads: results of every value kind and task
// errors (remote, with the worker's stack); abort (a queued task is withdrawn, a running one's
// late result is ignored); timeout; a thread that crashes mid-task (its task runs again on
// another thread; with retry: false it rejects); a worker that joins late gets work; close()
// drains; prefetch (a thread takes a task beyond its slots, and runs them one at a time). Prints how long a crashed thread's task took to run elsewhere.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { workerPool, joinPool, TaskError, type PoolEvent } from "../pool/mod.ts";
import { runtime } from "./support/runtime.ts";
import { until } from "./support/wait.ts";

const TASKS = new URL(`./fixtures/pool-tasks.${runtime === "node" ? "js" : "ts"}`, import.meta.url);
const dir = mkdtempSync(join(tmpdir(), "chirp-pool-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test("results of every kind and task errors come back", async () => {
  const pool = await workerPool({ module: TASKS, threads: 2 });
  try {
    assert.is(pool.stats().workers.length, 2);
    assert.ok(pool.stats().workers.every((w) => w.local));
    assert.is(await pool.run("square", 12), 144);
    assert.is(await pool.run("echo", "héllo"), "héllo");
    assert.equal(await pool.run("echo", Uint8Array.of(0, 255, 7)), Uint8Array.of(0, 255, 7));
    assert.equal(await pool.run("echo", { a: [1, "x", null], b: true }), { a: [1, "x", null], b: true });
    assert.is(await pool.run("echo"), undefined);
    const err = await pool.run("fail", "it broke").then(() => null, (e) => e);
    assert.instance(err, TaskError);
    assert.is(err.remote, true);
    assert.is(err.code, "E_TEST");
    assert.is(err.remoteName, "TypeError");
    assert.match(err.message, "it broke");
    assert.match(err.remoteStack, /fail/, "the remote stack names the task function");
    assert.match(err.stack, "[remote stack]");
    const missing = await pool.run("nope").then(() => null, (e) => e);
    assert.instance(missing, TaskError);
    assert.match(missing.message, /no task named "nope".*echo/);
    const s = pool.stats();
    assert.is(s.done, 5);
    assert.is(s.failed, 2);
    assert.is(s.workers.reduce((n, w) => n + w.done + w.failed, 0), 7);
  } finally {
    await pool.close();
  }
});

test("abort withdraws a queued task and ignores a running one's late result; timeout rejects", async () => {
  const pool = await workerPool({ module: TASKS, threads: 1 });
  try {
    const running = new AbortController();
    const queued = new AbortController();
    const a = pool.run("sleep", 300, { signal: running.signal }).then(() => "resolved", (e) => e);
    const b = pool.run("sleep", 10, { signal: queued.signal }).then(() => "resolved", (e) => e);
    assert.is(pool.stats().queued, 1);
    queued.abort(new Error("not wanted"));
    assert.is(pool.stats().queued, 0, "withdrawn from the queue");
    running.abort(new Error("stop"));
    assert.is(((await a) as Error).message, "stop");
    assert.is(((await b) as Error).message, "not wanted");
    // The late result comes and is dropped; the thread then takes the next task.
    assert.is(await pool.run("echo", 1), 1);
    assert.is(pool.stats().done, 2, "the aborted task's late result and the echo");
    const t0 = performance.now();
    const late = await pool.run("sleep", 2000, { timeout: 0.2 }).then(() => null, (e) => e);
    assert.is(late?.code, "TIMEOUT");
    assert.ok(performance.now() - t0 < 1500, "rejected at its timeout, not at the task's end");
    const pre = new AbortController();
    pre.abort(new Error("early"));
    assert.is(await pool.run("echo", 1, { signal: pre.signal }).then(() => "ran", (e) => e.message), "early");
  } finally {
    await pool.close({ drain: false });
  }
});

test("prefetch: a thread takes one task beyond its slots and still runs one at a time", async () => {
  const pool = await workerPool({ module: TASKS, threads: 1, prefetch: 1, node: { synchronous: false } });
  try {
    assert.is(pool.stats().workers[0].slots, 2, "the thread joined with slots + prefetch");
    const t0 = performance.now();
    const all = Promise.all([pool.run("sleep", 150), pool.run("sleep", 150), pool.run("sleep", 150)]);
    assert.is(pool.stats().inFlight, 2, "two sent to the thread");
    assert.is(pool.stats().queued, 1, "the third waits in the pool");
    assert.equal(await all, ["slept 150", "slept 150", "slept 150"]);
    assert.ok(performance.now() - t0 >= 440, `one at a time on the thread (${(performance.now() - t0).toFixed(0)} ms for 3 x 150 ms)`);
  } finally {
    await pool.close();
  }
  const err = await workerPool({ module: TASKS, threads: 1, prefetch: -1 }).then(() => null, (e) => e);
  assert.is(err?.code, "VALUE_ERROR");
});

test("a thread that crashes mid-task: its task runs again on another thread", async () => {
  const pool = await workerPool({ module: TASKS, threads: 2 });
  const drops: PoolEvent[] = [];
  pool.on("drop", (e) => drops.push(e));
  try {
    const t0 = performance.now();
    const out = await pool.run<string>("crashOnce", join(dir, "crash1"));
    const ms = performance.now() - t0;
    assert.match(out, /^ok from/);
    // The thread's exit is reported on its own (it can come after its connection closed and
    // the task already ran elsewhere).
    await until(() => pool.stats().threadCrashes === 1 && drops.length === 1, 5000, "the crash reported");
    const s = pool.stats();
    assert.is(s.threadCrashes, 1);
    assert.is(s.retried, 1);
    assert.is(drops.length, 1);
    assert.ok(drops[0].local);
    console.log(`# ${runtime}: a crashed thread's task ran elsewhere after ${ms.toFixed(0)} ms`);
    // The crashed thread is replaced.
    await until(() => pool.stats().workers.length === 2, 10_000, "a replacement thread joined");
    const refused = await pool.run("crashOnce", join(dir, "crash2"), { retry: false }).then(() => null, (e) => e);
    assert.is(refused?.code, "CANNOT_CONNECT");
    assert.match(refused.message, "retry: false");
  } finally {
    await pool.close({ drain: false });
  }
});

test("a worker that joins late gets work; close() drains", async () => {
  const pool = await workerPool({ module: TASKS, threads: 1 });
  const joins: PoolEvent[] = [];
  pool.on("join", (e) => joins.push(e));
  const joined = await joinPool({ module: TASKS, join: pool.address, threads: 1 });
  try {
    await until(() => joins.length === 1, 10_000, "the late worker joined");
    assert.is(joins[0].local, false);
    const all = Array.from({ length: 8 }, () => pool.run("sleep", 50));
    await Promise.all(all);
    const remote = pool.stats().workers.find((w) => !w.local);
    assert.ok(remote && remote.done > 0, `the joined worker did tasks: ${JSON.stringify(pool.stats().workers)}`);
    const draining = Array.from({ length: 6 }, (_, i) => pool.run("sleep", 20 + i));
    const closed = pool.close();
    assert.is(await pool.run("echo", 1).then(() => "ran", (e) => e.code), "SHUTDOWN");
    await closed;
    assert.equal(await Promise.all(draining), [20, 21, 22, 23, 24, 25].map((n) => `slept ${n}`));
  } finally {
    await pool.close();
    await joined.close();
  }
});

test.run();
