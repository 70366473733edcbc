// Renewal (patterns/renew.ts), in one process: a subscriber whose publisher node closes and
// comes back on the same port (a new identity) renews; while the publisher is away its
// attempts are spaced by the doubling delay (bounded rate) and, with maxRetries, it gives up
// and says so; renew: false never renews; close() stops it.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { publisher, subscriber } from "./pubsub/pubsub.ts";
import { node4, to } from "../test/support/nodes.ts";
import { sleep, until } from "../test/support/wait.ts";

test("a publisher that comes back on its port is subscribed to again; deliveries resume", async () => {
  const a = await node4({ timeout: 0.5 });
  const port = a.port;
  publisher(a);
  const me = await node4({ timeout: 0.5 });
  const got: string[] = [];
  const renewed: string[] = [];
  const sub = subscriber(me, (_t, m) => got.push(m.text()), { renew: { onRenewed: (p) => renewed.push(p) } });
  try {
    await sub.subscribe(`127.0.0.1:${port}`, "t");
    await a.close();
    await sleep(300);
    const b = await node4({ port, timeout: 0.5 });
    const pub = publisher(b);
    try {
      await until(() => pub.subscribers.length === 1, 3000, "the subscription renewed at the new publisher");
      await until(() => renewed.length > 0, 3000, "the renewal to finish");
      assert.equal(renewed, [`127.0.0.1:${port}`]);
      await pub.publish("t", "again");
      await until(() => got.includes("again"), 3000, "a delivery from the new publisher");
    } finally {
      await b.close();
    }
  } finally {
    await sub.close();
    await me.close();
  }
});

test("an unreachable publisher: attempts spaced out (bounded), then given up after maxRetries", async () => {
  const a = await node4({ timeout: 0.2 });
  publisher(a);
  const me = await node4({ timeout: 0.2 });
  const gaveUp: [string, string][] = [];
  const sub = subscriber(me, () => {}, { renew: { maxRetries: 5, onGiveUp: (p, e) => gaveUp.push([p, (e as { code?: string }).code ?? String(e)]) } });
  try {
    await sub.subscribe(to(a), "t");
    const t0 = Date.now();
    await a.close();
    await until(() => gaveUp.length === 1, 10_000, "the renewal to give up");
    // Delays 50, 100, 200, 200 ms (capped at the timeout, 75-100 % jittered): >= 0.4 s.
    assert.ok(Date.now() - t0 >= 400, `gave up after ${Date.now() - t0} ms: the attempts were spaced out`);
    assert.is(gaveUp.length, 1);
    assert.is(gaveUp[0][0], to(a));
    assert.ok(["CANNOT_CONNECT", "TIMEOUT"].includes(gaveUp[0][1]), gaveUp[0][1]);
    assert.is(sub.renewals, 1);
  } finally {
    await sub.close();
    await me.close();
  }
});

test("renew: false never renews", async () => {
  const a = await node4({ timeout: 0.2 });
  publisher(a);
  const me = await node4({ timeout: 0.2 });
  const sub = subscriber(me, () => {}, { renew: false });
  try {
    await sub.subscribe(to(a), "t");
    await a.close();
    await sleep(300);
    assert.is(sub.renewals, 0);
  } finally {
    await sub.close();
    await me.close();
  }
});

test.run();
