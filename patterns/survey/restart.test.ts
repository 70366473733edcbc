// Survey across a restart: the respondent, then the surveyor, runs in its own process on
// another runtime (test/support/restart.ts) and is SIGKILLed and restarted on the same port.
// Each survey stands alone: the first survey after the restart gets its answer; surveys that
// met the dead respondent list it in `failed` or `missing`, none is answered twice.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { respondent, surveyor } from "./survey.ts";
import { routerOf } from "../router.ts";
import { node4 } from "../../test/support/nodes.ts";
import { sleep } from "../../test/support/wait.ts";
import { runtime } from "../../test/support/runtime.ts";
import { NODE, RESUME_BOUND_MS, Role, TIMEOUT, Tally, childRuntime, printRow, resumed, sendLoop } from "../../test/support/restart.ts";

test("the respondent restarts: surveys get its answer again; the others say why not", async () => {
  const tally = new Tally();
  const resp = new Role("respondent", tally);
  const me = await node4(NODE);
  const answers = new Tally();
  let stop = async (): Promise<void> => {};
  try {
    await resp.start();
    const s = surveyor(me, { respondents: [`127.0.0.1:${resp.port}`], timeout: TIMEOUT });
    stop = sendLoop("L", answers, async (id) => {
      const r = await s.survey(id);
      for (const x of r.responses) answers.receive(x.message.text());
      return r.responses.length === 1 ? "1" : r.failed.length === 1 ? "failed" : r.missing.length === 1 ? "missing" : "?";
    });
    await resumed(() => answers.firstAfter(0), 5000, "answers from the first respondent");
    await resp.restart();
    const back = await resumed(() => answers.firstAfter(resp.readyAt), 10_000, "answers from the restarted respondent");
    const resume = back - resp.readyAt;
    await sleep(200);
    await stop();
    assert.equal([...answers.sent.values()].filter((o) => o === "?"), [], "every survey either got the answer or says why not");
    assert.is(answers.duplicated(), 0);
    printRow({ pattern: "survey", restarted: "respondent", runtimes: `${childRuntime} (peer ${runtime})`, resumeMs: [Math.round(resume)],
      lost: answers.lost(), duplicated: answers.duplicated(), note: "lost: surveys while it was down (each lists it in failed or missing)" });
    assert.ok(resume < RESUME_BOUND_MS, `resumed after ${resume.toFixed(0)} ms (bound ${RESUME_BOUND_MS} ms)`);
  } finally {
    await stop();
    await resp.stop();
    await me.close();
  }
});

test("the surveyor restarts: its surveys are answered from the first one", async () => {
  const tally = new Tally();
  const me = await node4(NODE);
  routerOf(me).use(respondent((m) => m.text()));
  const sv = new Role("surveyor", tally, { peer: me.port });
  try {
    await sv.start();
    await resumed(() => tally.firstAfter(0, "1"), 5000, "answers to the first surveyor");
    await sv.restart();
    const back = await resumed(() => tally.firstAfter(sv.readyAt, "2"), 10_000, "answers to the restarted surveyor");
    const resume = back - sv.readyAt;
    await sleep(200);
    const run2 = [...tally.sent].filter(([id]) => id.startsWith("2:"));
    assert.ok(run2.length > 0);
    assert.equal(run2.filter(([, o]) => o !== "1"), [], "every survey of the new process answered");
    assert.is(tally.duplicated(), 0);
    printRow({ pattern: "survey", restarted: "surveyor", runtimes: `${childRuntime} (peer ${runtime})`, resumeMs: [Math.round(resume)],
      lost: tally.lost((id) => id.startsWith("2:")), duplicated: tally.duplicated(), note: "stateless: the new process's first survey is answered" });
    assert.ok(resume < RESUME_BOUND_MS, `resumed after ${resume.toFixed(0)} ms (bound ${RESUME_BOUND_MS} ms)`);
  } finally {
    await sv.stop();
    await me.close();
  }
});

test.run();
