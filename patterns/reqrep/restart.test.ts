// Request/reply across a restart: the responder, then the requester, runs in its own process on
// another runtime (test/support/restart.ts) and is SIGKILLed and restarted on the same port.
// Nothing is kept between calls, so replies resume with the first request after the restart;
// a request that met the dead process rejects (none is lost without an error) and none is
// answered twice.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { request, responder } from "./reqrep.ts";
import { routerOf } from "../router.ts";
import { node4 } from "../../test/support/nodes.ts";
import { sleep } from "../../test/support/wait.ts";
import { runtime } from "../../test/support/runtime.ts";
import { NODE, RESUME_BOUND_MS, Role, Tally, childRuntime, printRow, resumed, sendLoop } from "../../test/support/restart.ts";

test("the responder restarts: replies resume; failed requests reject", async () => {
  const tally = new Tally();
  const rep = new Role("responder", tally);
  const me = await node4(NODE);
  const replies = new Tally();
  let stop = async (): Promise<void> => {};
  try {
    await rep.start();
    stop = sendLoop("L", replies, async (id) => {
      replies.receive((await request(me, `127.0.0.1:${rep.port}`, id)).text());
      return "ok";
    });
    await resumed(() => replies.firstAfter(0), 5000, "replies from the first responder");
    await rep.restart();
    const back = await resumed(() => replies.firstAfter(rep.readyAt), 10_000, "replies from the restarted responder");
    const resume = back - rep.readyAt;
    await sleep(200);
    await stop();
    // Every request settled: a reply, or a rejection (TIMEOUT, CANNOT_CONNECT) the caller saw.
    const bad = [...replies.sent].filter(([id, o]) => (o === "ok") !== replies.got.has(id));
    assert.equal(bad, [], "a request resolved exactly when its reply came");
    assert.is(replies.duplicated(), 0);
    const failed = [...replies.sent.values()].filter((o) => o !== "ok").length;
    printRow({ pattern: "request/reply", restarted: "responder", runtimes: `${childRuntime} (peer ${runtime})`, resumeMs: [Math.round(resume)],
      lost: replies.lost(), duplicated: tally.duplicated(), note: "lost: requests that met the dead responder, each rejected (TIMEOUT, CANNOT_CONNECT): none lost silently" });
    assert.is(replies.lost(), failed, "what was not answered was rejected");
    assert.ok(resume < RESUME_BOUND_MS, `resumed after ${resume.toFixed(0)} ms (bound ${RESUME_BOUND_MS} ms)`);
  } finally {
    await stop();
    await rep.stop();
    await me.close();
  }
});

test("the requester restarts: its requests are answered from the first one", async () => {
  const tally = new Tally();
  const me = await node4(NODE);
  routerOf(me).use(responder((m) => m.text()));
  const req = new Role("requester", tally, { peer: me.port });
  try {
    await req.start();
    await resumed(() => tally.firstAfter(0, "1"), 5000, "replies to the first requester");
    await req.restart();
    const back = await resumed(() => tally.firstAfter(req.readyAt, "2"), 10_000, "replies to the restarted requester");
    const resume = back - req.readyAt;
    await sleep(200);
    const run2 = [...tally.sent].filter(([id]) => id.startsWith("2:"));
    assert.ok(run2.length > 0);
    assert.equal(run2.filter(([, o]) => o !== "ok"), [], "every request of the new process answered");
    assert.is(tally.duplicated(), 0);
    printRow({ pattern: "request/reply", restarted: "requester", runtimes: `${childRuntime} (peer ${runtime})`, resumeMs: [Math.round(resume)],
      lost: tally.lost((id) => id.startsWith("2:")), duplicated: tally.duplicated(), note: "stateless: the new process's first request is answered" });
    assert.ok(resume < RESUME_BOUND_MS, `resumed after ${resume.toFixed(0)} ms (bound ${RESUME_BOUND_MS} ms)`);
  } finally {
    await req.stop();
    await me.close();
  }
});

test.run();
