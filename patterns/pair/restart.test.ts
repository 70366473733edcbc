// Pair across a restart: one side in its own process on another runtime
// (test/support/restart.ts) is SIGKILLed and restarted on the same port, once the side that
// has the other as its configured peer and once the side that learned its peer. They pair
// again (the configured side says HELLO again, patterns/renew.ts) and messages flow both ways
// within twice the timeout, none twice.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { pair } from "./pair.ts";
import { node4 } from "../../test/support/nodes.ts";
import { sleep } from "../../test/support/wait.ts";
import { runtime } from "../../test/support/runtime.ts";
import { NODE, RESUME_BOUND_MS, Role, Tally, childRuntime, printRow, resumed, sendLoop } from "../../test/support/restart.ts";

for (const restarted of ["configured", "learned"] as const) {
  test(`the ${restarted} side restarts: the two pair again, messages flow both ways`, async () => {
    const tally = new Tally();
    const me = await node4(NODE);
    const childConfigured = restarted === "configured";
    const other = new Role("pair", tally, childConfigured ? { peer: me.port } : {});
    let stop = async (): Promise<void> => {};
    try {
      await other.start();
      const mine = pair(me, (m) => tally.receive(m.text()), childConfigured ? {} : { peer: `127.0.0.1:${other.port}` });
      stop = sendLoop("L", tally, async (id) => (await mine.send(id), "ok"));
      await resumed(() => tally.firstAfter(0, "1"), 5000, "messages from the first process");
      await resumed(() => tally.firstAfter(0, "L"), 5000, "messages to the first process");
      await other.restart();
      const t = other.readyAt;
      const toIt = await resumed(() => tally.firstAfter(t, "L"), 10_000, "messages to the restarted process");
      const fromIt = await resumed(() => tally.firstAfter(t, "2"), 10_000, "messages from the restarted process");
      const resume = [toIt - t, fromIt - t];
      await sleep(200);
      await stop();
      assert.is(mine.peer, `127.0.0.1:${other.port}`);
      assert.is(tally.duplicated(), 0, "nothing delivered twice");
      printRow({ pattern: "pair", restarted: `${restarted === "configured" ? "side with `peer`" : "side that learned its peer"}`, runtimes: `${childRuntime} (peer ${runtime})`,
        resumeMs: resume.map(Math.round), lost: tally.lost(), duplicated: tally.duplicated(), note: "lost: sends that failed while apart (each rejected); resume: to it, from it" });
      for (const r of resume) assert.ok(r < RESUME_BOUND_MS, `resumed after ${r.toFixed(0)} ms (bound ${RESUME_BOUND_MS} ms)`);
    } finally {
      await stop();
      await other.stop();
      await me.close();
    }
  });
}

test.run();
