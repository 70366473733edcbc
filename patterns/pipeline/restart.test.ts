// Push/pull across a restart, with workers that join (patterns/pipeline/worker.ts): a joined
// worker, then the pusher, is SIGKILLed and restarted on the same port in its own process on
// another runtime (test/support/restart.ts). The dropped worker that comes back is taken back
// and no item is lost (at least once: items in flight at the kill are done again); the
// restarted pusher is rejoined by its worker within twice the timeout. Also: join and leave.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { pusher } from "./pipeline.ts";
import { worker } from "./worker.ts";
import { node4, to } from "../../test/support/nodes.ts";
import { sleep, until } from "../../test/support/wait.ts";
import { runtime } from "../../test/support/runtime.ts";
import { NODE, RESUME_BOUND_MS, Role, Tally, childRuntime, printRow, resumed, sendLoop } from "../../test/support/restart.ts";
import { text } from "../header.ts";

test("workers join and leave a pusher that lists none; items wait for a worker", async () => {
  const p = await node4(NODE);
  const w = await node4(NODE);
  const joins: string[] = [];
  const push = pusher(p, { onJoin: (k, j) => joins.push(`${j ? "+" : "-"}${k}`) });
  try {
    const waiting = push.push("early"); // no worker yet: it waits (waitForWorkers)
    const wk = worker(w, (m) => m.text().toUpperCase(), { slots: 2 });
    await wk.join(to(p));
    assert.is(text((await waiting).data), "EARLY");
    assert.equal(push.workers.map((x) => [x.target, x.slots]), [[to(w), 2]]);
    await wk.leave(to(p));
    assert.equal(push.workers, []);
    assert.equal(joins, [`+${to(w)}`, `-${to(w)}`]);
    assert.equal(wk.pushers, []);
  } finally {
    await p.close();
    await w.close();
  }
});

test("a worker that is killed is dropped, comes back, is taken back; no item lost", async () => {
  const tally = new Tally();
  const me = await node4(NODE);
  const push = pusher(me, { waitForWorkers: 30, maxFailures: 1 });
  const wk = new Role("worker", tally, { peer: me.port });
  const results = new Tally();
  const stop = sendLoop("L", results, async (id) => {
    const r = await push.push(id);
    results.receive(text(r.data));
    return "ok";
  });
  try {
    await wk.start();
    await resumed(() => tally.firstAfter(0), 5000, "work at the first worker");
    await wk.restart();
    const back = await resumed(() => tally.firstAfter(wk.readyAt), 10_000, "work at the restarted worker");
    const resume = back - wk.readyAt;
    await sleep(200);
    await stop();
    assert.equal([...results.sent.values()].filter((o) => o !== "ok"), [], "every item was done");
    assert.is(results.lost(), 0);
    assert.equal(push.workers.map((w) => w.target), [`127.0.0.1:${wk.port}`], "taken back");
    printRow({ pattern: "push/pull", restarted: "worker", runtimes: `${childRuntime} (peer ${runtime})`, resumeMs: [Math.round(resume)],
      lost: results.lost(), duplicated: tally.duplicated(), note: "lost: none (at least once: retried until done); duplicated: items the killed worker did whose results died with it" });
    assert.ok(resume < RESUME_BOUND_MS, `resumed after ${resume.toFixed(0)} ms (bound ${RESUME_BOUND_MS} ms)`);
  } finally {
    await stop();
    await wk.stop();
    await me.close();
  }
});

test("the pusher restarts: its worker joins it again and work resumes", async () => {
  const tally = new Tally();
  const pushRole = new Role("pusher", tally);
  const me = await node4(NODE);
  const done = new Tally();
  try {
    await pushRole.start();
    const wk = worker(me, (m) => (done.receive(m.text()), m.text()), { join: `127.0.0.1:${pushRole.port}` });
    await resumed(() => tally.firstAfter(0, "1"), 5000, "results at the first pusher");
    await pushRole.restart();
    const back = await resumed(() => tally.firstAfter(pushRole.readyAt, "2"), 10_000, "results at the restarted pusher");
    const resume = back - pushRole.readyAt;
    await sleep(200);
    await until(() => wk.renewals >= 2, 1000, "a second join (the first one at start)");
    // The new pusher's items: each one done by the worker (the ones it reported), none twice.
    const run2 = [...tally.sent].filter(([id]) => id.startsWith("2:"));
    assert.ok(run2.length > 0);
    assert.equal(run2.filter(([id, o]) => o !== "ok" || !done.got.has(id)), []);
    assert.is(done.duplicated(), 0, "no item done twice");
    printRow({ pattern: "push/pull", restarted: "pusher", runtimes: `${childRuntime} (peer ${runtime})`, resumeMs: [Math.round(resume)],
      lost: [...done.got.keys()].filter((id) => id.startsWith("1:") && !tally.got.has(id)).length, duplicated: done.duplicated(),
      note: "lost: results of items the worker did that the killed pusher never saw (its queue dies with it); the new pusher's items wait for the worker" });
    assert.ok(resume < RESUME_BOUND_MS, `resumed after ${resume.toFixed(0)} ms (bound ${RESUME_BOUND_MS} ms)`);
  } finally {
    await pushRole.stop();
    await me.close();
  }
});

test.run();
