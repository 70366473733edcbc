// Cancellation in the patterns (issue 14): `pusher.push(…, { signal })` withdraws a queued item
// or, once a worker has it, rejects at once and ignores its late result (no retry);
// `subscriber.subscribe(…, { signal })` rejects with the signal's reason and takes the local
// subscription back.
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { Message } from "../adapters/index.ts";
import { publisher, pusher, puller, subscriber, type PushResult } from "./mod.ts";
import { node4, to } from "../test/support/nodes.ts";
import { sleep, until } from "../test/support/wait.ts";

test("push: an item still queued is withdrawn, rejected with the signal's reason", async () => {
  const node = await node4();
  const p = pusher(node, { waitForWorkers: 60 }); // no worker: items wait in the queue
  try {
    const ac = new AbortController();
    const pushed = p.push("queued", { signal: ac.signal });
    await sleep(20);
    assert.is(p.queued, 1);
    ac.abort(new Error("no longer needed"));
    const e = await pushed.then(() => null, (x) => x as Error);
    assert.is(e?.message, "no longer needed");
    assert.is(p.queued, 0, "withdrawn from the queue");
    await p.idle(); // nothing left queued or in flight
    const pre = new AbortController();
    pre.abort(new Error("before"));
    assert.is((await p.push("x", { signal: pre.signal }).then(() => null, (x) => x as Error))?.message, "before");
  } finally {
    p.close();
    await node.close();
  }
});

test("push: an item a worker has rejects at once; its late result is ignored and it is not retried", async () => {
  let release: () => void = () => {};
  let started = 0;
  const w = await node4({
    onMessage: puller(async (m: Message) => {
      started++;
      await new Promise<void>((r) => (release = r));
      return `done ${m.text()}`;
    }),
  });
  const node = await node4();
  const results: PushResult[] = [];
  const p = pusher(node, { workers: [to(w)], onResult: (r) => results.push(r) });
  try {
    const ac = new AbortController();
    const pushed = p.push("slow", { signal: ac.signal });
    await until(() => started === 1, 3000, "the worker to start");
    const t0 = performance.now();
    ac.abort(new Error("give up"));
    const e = await pushed.then(() => null, (x) => x as Error);
    assert.is(e?.message, "give up");
    assert.ok(performance.now() - t0 < 500, "rejected at once, not at the worker's answer");
    release();
    await until(() => p.inFlight === 0, 3000, "the late result");
    await sleep(50);
    assert.equal(results, [], "the late result is not reported");
    assert.is(started, 1, "not retried");
    assert.is(p.queued, 0);
  } finally {
    p.close();
    await node.close();
    await w.close();
  }
});

test("subscribe: aborted before the publisher answers, rejects and takes the subscription back", async () => {
  const silent = await node4({ onMessage: (m) => { /* never answers the SUBSCRIBE */ void m; } });
  const sNode = await node4();
  const got: string[] = [];
  const s = subscriber(sNode, (t) => got.push(t));
  try {
    const ac = new AbortController();
    const subscribing = s.subscribe(to(silent), "news", { signal: ac.signal });
    await sleep(50);
    ac.abort(new Error("stop"));
    assert.is((await subscribing.then(() => null, (x) => x as Error))?.message, "stop");
    // The same subscriber still works with a real publisher afterwards.
    const pubNode = await node4();
    const pub = publisher(pubNode);
    await s.subscribe(to(pubNode), "news");
    await pub.publish("news.today", "x");
    await until(() => got.length === 1, 3000, "a delivery");
    await pubNode.close();
  } finally {
    await s.close();
    await sNode.close({ drain: false });
    await silent.close({ drain: false });
  }
});

test.run();
