// Call deadlines served by one timer per timeout value (patterns/deadlines.ts): each expires
// once, in order, not before its time; cancelled ones never; an expiry may schedule another
// (a pusher's retry does); and once nothing is live no timer keeps the process alive.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { deadlineAfter } from "./deadlines.ts";
import { scriptCommand } from "../test/support/runtime.ts";
import { until } from "../test/support/wait.ts";

test("deadlines expire once each, in order, not early; cancelled ones never", async () => {
  const fired: number[] = [];
  const late: number[] = [];
  const cancels: (() => void)[] = [];
  const start = performance.now();
  for (let i = 0; i < 100; i++) {
    const at = performance.now() + 80;
    cancels.push(deadlineAfter(80)(() => {
      fired.push(i);
      late.push(performance.now() - at);
    }));
  }
  for (let i = 0; i < 100; i += 2) cancels[i](); // the even ones are answered in time
  cancels[1](); // and one more
  await until(() => fired.length === 49, 3000, "the 49 live deadlines");
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(fired, Array.from({ length: 49 }, (_, k) => 2 * k + 3), "the odd ones from 3, in order, once");
  assert.ok(Math.min(...late) >= -1, `none early (earliest ${Math.min(...late).toFixed(2)} ms)`);
  assert.ok(performance.now() - start >= 80);
  for (const c of cancels) c(); // cancelling after expiry does nothing
  assert.is(fired.length, 49);
});

test("an expiry that schedules a deadline of the same timeout gets it served", async () => {
  let rounds = 0;
  const again = (): void => {
    if (++rounds < 3) deadlineAfter(30)(again);
  };
  deadlineAfter(30)(again);
  await until(() => rounds === 3, 3000, "three rounds");
});

test("with every deadline cancelled or expired, no timer keeps the process alive", () => {
  const [cmd, args] = scriptCommand("test/fixtures/deadline-exit.ts");
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 30_000 });
  const ms = performance.now() - t0;
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout.trim(), "expired 10");
  assert.ok(ms < 20_000, `exited after ${ms.toFixed(0)} ms: a 60 s timer kept it alive`);
});

test.run();
