// Bus across a restart: a member in its own process on another runtime
// (test/support/restart.ts) is SIGKILLed and restarted on the same port, once as the member
// that only learns its peers and once as the one that lists them. Messages flow both ways
// again within twice the timeout (explicit peers are joined again, learned ones relearned
// from JOIN or DATA), and none twice.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { bus } from "./bus.ts";
import { node4 } from "../../test/support/nodes.ts";
import { sleep } from "../../test/support/wait.ts";
import { runtime } from "../../test/support/runtime.ts";
import { NODE, RESUME_BOUND_MS, Role, Tally, childRuntime, printRow, resumed, sendLoop } from "../../test/support/restart.ts";

for (const lists of ["the test's member", "the restarted member"] as const) {
  test(`a member restarts (${lists} lists the other): messages flow both ways again`, async () => {
    const tally = new Tally();
    const me = await node4(NODE);
    const childLists = lists === "the restarted member";
    const other = new Role("bus", tally, childLists ? { peer: me.port } : {});
    let stop = async (): Promise<void> => {};
    try {
      await other.start();
      const mine = bus(me, (m) => tally.receive(m.text()), { peers: childLists ? [] : [`127.0.0.1:${other.port}`] });
      stop = sendLoop("L", tally, async (id) => String((await mine.send(id)).delivered));
      await resumed(() => tally.firstAfter(0, "1"), 5000, "messages from the first member");
      await resumed(() => tally.firstAfter(0, "L"), 5000, "messages to the first member");
      await other.restart();
      const t = other.readyAt;
      const toIt = await resumed(() => tally.firstAfter(t, "L"), 10_000, "messages to the restarted member");
      const fromIt = await resumed(() => tally.firstAfter(t, "2"), 10_000, "messages from the restarted member");
      const resume = [toIt - t, fromIt - t];
      await sleep(200);
      await stop();
      assert.equal(mine.members, [`127.0.0.1:${other.port}`]);
      assert.is(tally.duplicated(), 0, "nothing delivered twice");
      printRow({ pattern: "bus", restarted: `member (${childLists ? "lists" : "learns"} its peer)`, runtimes: `${childRuntime} (peer ${runtime})`,
        resumeMs: resume.map(Math.round), lost: tally.lost(), duplicated: tally.duplicated(), note: "lost: sent while the member was down; resume: to it, from it" });
      for (const r of resume) assert.ok(r < RESUME_BOUND_MS, `resumed after ${r.toFixed(0)} ms (bound ${RESUME_BOUND_MS} ms)`);
    } finally {
      await stop();
      await other.stop();
      await me.close();
    }
  });
}

test.run();
