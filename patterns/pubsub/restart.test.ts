// Pub/sub across a restart: the publisher, then the subscriber, is SIGKILLed and restarted on
// the same port in its own process on another runtime (test/support/restart.ts); deliveries
// resume within twice the timeout (the subscriber renews its subscription; the publisher
// forgets the dead subscriber and takes the new one), and nothing is delivered twice.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { publisher, subscriber } from "./pubsub.ts";
import { node4 } from "../../test/support/nodes.ts";
import { sleep } from "../../test/support/wait.ts";
import { runtime } from "../../test/support/runtime.ts";
import { NODE, RESUME_BOUND_MS, Role, Tally, childRuntime, printRow, resumed, sendLoop } from "../../test/support/restart.ts";

test("the publisher restarts: the subscriber renews and deliveries resume", async () => {
  const tally = new Tally();
  const pub = new Role("publisher", tally);
  const me = await node4(NODE);
  try {
    await pub.start();
    const sub = subscriber(me, (_t, m) => tally.receive(m.text()));
    await sub.subscribe(`127.0.0.1:${pub.port}`, "t");
    await resumed(() => tally.firstAfter(0, "1"), 5000, "deliveries from the first publisher");
    await pub.restart();
    const back = await resumed(() => tally.firstAfter(pub.readyAt, "2"), 10_000, "deliveries from the restarted publisher");
    const resume = back - pub.readyAt;
    await sleep(200);
    assert.ok(sub.renewals >= 1, "the subscriber renewed");
    assert.is(tally.duplicated(), 0, "nothing delivered twice");
    // A publish the new publisher reports as delivered was received (lost are only the ones
    // published while down and before the renewal reached it: delivered 0).
    const missing = [...tally.sent].filter(([id, o]) => id.startsWith("2:") && o === "1" && !tally.got.has(id));
    assert.equal(missing, [], "every delivered publish arrived");
    printRow({ pattern: "pub/sub", restarted: "publisher", runtimes: `${childRuntime} (peer ${runtime})`, resumeMs: [Math.round(resume)],
      lost: tally.lost(), duplicated: tally.duplicated(), note: "lost: published while down and before the renewal reached the new publisher" });
    assert.ok(resume < RESUME_BOUND_MS, `resumed after ${resume.toFixed(0)} ms (bound ${RESUME_BOUND_MS} ms)`);
  } finally {
    await pub.stop();
    await me.close();
  }
});

test("the subscriber restarts: the publisher forgets it, takes the new one, deliveries resume", async () => {
  const tally = new Tally();
  const me = await node4(NODE);
  const dropped: string[] = [];
  const pub = publisher(me, { onDrop: (s) => dropped.push(s) });
  const sub = new Role("subscriber", tally, { peer: me.port });
  const stop = sendLoop("L", tally, async (id) => String((await pub.publish("t", id)).delivered));
  try {
    await sub.start();
    await resumed(() => tally.firstAfter(0), 5000, "deliveries to the first subscriber");
    await sub.restart();
    const back = await resumed(() => tally.firstAfter(sub.readyAt), 10_000, "deliveries to the restarted subscriber");
    const resume = back - sub.readyAt;
    await sleep(200);
    await stop();
    assert.equal(dropped, [`127.0.0.1:${sub.port}`], "the dead subscriber was forgotten once");
    assert.is(pub.subscribers.length, 1, "one subscriber: the new one");
    assert.is(tally.duplicated(), 0, "nothing delivered twice");
    printRow({ pattern: "pub/sub", restarted: "subscriber", runtimes: `${childRuntime} (peer ${runtime})`, resumeMs: [Math.round(resume)],
      lost: tally.lost(), duplicated: tally.duplicated(), note: "lost: published while the subscriber was down or not yet subscribed" });
    assert.ok(resume < RESUME_BOUND_MS, `resumed after ${resume.toFixed(0)} ms (bound ${RESUME_BOUND_MS} ms)`);
  } finally {
    await stop();
    await sub.stop();
    await me.close();
  }
});

test.run();
