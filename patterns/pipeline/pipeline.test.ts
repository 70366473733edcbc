// Push/pull: spreading by free capacity (in flight vs slots), retry on another worker when a
// send fails or a result does not come, dropping a worker after N consecutive failures,
// handler errors, one-way work, and a libchirp-style echo node as a worker.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Chirp, type Message } from "../../adapters/index.ts";
import { pusher, puller, type WorkerStats } from "./pipeline.ts";
import { RemoteError, text } from "../header.ts";
import { node4, to } from "../../test/support/nodes.ts";
import { sleep } from "../../test/support/wait.ts";
import { refusedPort } from "../../test/support/raw-peer.ts";
import { startPeer } from "../../test/support/process.ts";
import { Tracker } from "../../test/support/gc.ts";


/** A worker node whose handler sleeps `ms` and tracks its concurrency. */
async function worker(name: string, ms: number, cfg: Parameters<typeof Chirp.start>[0] = {}, oneway = false) {
  const w = { name, node: undefined as unknown as Chirp, now: 0, max: 0, done: 0 };
  w.node = await node4({
    ...cfg,
    onMessage: puller(async (item: Message) => {
      w.now++;
      w.max = Math.max(w.max, w.now);
      await sleep(ms);
      w.now--;
      w.done++;
      return oneway ? undefined : `${name}:${item.text()}`;
    }),
  });
  return w;
}

for (const mode of ["sync", "async"] as const) {
  const synchronous = mode === "sync";

  test(`${mode}: items spread over workers by free capacity, never more in flight than slots`, async () => {
    const ws = [await worker("a", 10, { synchronous }), await worker("b", 10, { synchronous }), await worker("c", 10, { synchronous })];
    const node = await node4({ synchronous });
    const slots = synchronous ? 1 : 4;
    const p = pusher(node, { workers: ws.map((w) => to(w.node)), slots });
    try {
      const results = await Promise.all(Array.from({ length: 60 }, (_, i) => p.push(`i${i}`)));
      results.forEach((r, i) => {
        assert.match(text(r.data), new RegExp(`^[abc]:i${i}$`));
        assert.is(r.attempts, 1);
      });
      for (const w of ws) {
        assert.ok(w.max <= slots, `${w.name}: at most ${slots} at once, saw ${w.max}`);
        assert.ok(w.done >= 10, `${w.name} did its share (${w.done})`);
      }
      assert.is(p.inFlight, 0);
      assert.is(p.workers.reduce((s, w) => s + w.done, 0), 60);
    } finally {
      await node.close();
      for (const w of ws) await w.node.close();
    }
  });
}

test("a worker with more slots gets more work", async () => {
  const big = await worker("big", 20, { synchronous: false });
  const small = await worker("small", 20, { synchronous: false });
  const node = await node4({ synchronous: false });
  const p = pusher(node, { workers: [{ target: to(big.node), slots: 4 }, { target: to(small.node), slots: 1 }] });
  try {
    await Promise.all(Array.from({ length: 50 }, (_, i) => p.push(String(i))));
    assert.is(big.max, 4);
    assert.is(small.max, 1);
    assert.ok(big.done > 2 * small.done, `big ${big.done}, small ${small.done}`);
  } finally {
    await node.close();
    await big.node.close();
    await small.node.close();
  }
});

test("a worker that cannot be reached: items move on, failures counted, dropped after maxFailures", async () => {
  const good = await worker("good", 2);
  const dead = `127.0.0.1:${await refusedPort()}`;
  const node = await node4();
  const drops: [WorkerStats, unknown][] = [];
  const p = pusher(node, { workers: [dead, to(good.node)], maxFailures: 3, onDrop: (w, e) => drops.push([w, e]) });
  try {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => p.push(`j${i}`)));
    results.forEach((r, i) => assert.is(text(r.data), `good:j${i}`));
    assert.ok(results.some((r) => r.attempts > 1), "some items were retried");
    // A refused dial fails after the remote's reconnect debounce (50-549 ms, protocol.md §4.5), so
    // the third failure may come after these 20 items: keep work flowing until it does.
    const end = Date.now() + 10_000;
    for (let i = 0; drops.length === 0 && Date.now() < end; i++) assert.is(text((await p.push(`more${i}`)).data), `good:more${i}`);
    assert.is(drops.length, 1);
    assert.is(drops[0][0].target, dead);
    assert.is(drops[0][0].consecutiveFailures, 3);
    assert.is((drops[0][1] as { code: string }).code, "CANNOT_CONNECT");
    assert.equal(p.workers.map((w) => w.target), [to(good.node)], "the dead worker is gone");
  } finally {
    await node.close();
    await good.node.close();
  }
});

test("a worker that dies mid-run: its items are retried elsewhere and it is dropped", async () => {
  const a = await worker("a", 30);
  const b = await worker("b", 30);
  const node = await node4({ timeout: 1 });
  const p = pusher(node, { workers: [to(a.node), to(b.node)], maxFailures: 2 });
  try {
    const all = Array.from({ length: 30 }, (_, i) => p.push(`k${i}`));
    await sleep(100);
    await b.node.close();
    const results = await Promise.all(all);
    assert.is(results.length, 30);
    assert.ok(results.every((r, i) => text(r.data).endsWith(`:k${i}`)));
    const end = Date.now() + 10_000;
    for (let i = 0; p.workers.length > 1 && Date.now() < end; i++) assert.is(text((await p.push(`more${i}`)).data), `a:more${i}`);
    assert.equal(p.workers.map((w) => w.target), [to(a.node)], "the dead worker was dropped");
  } finally {
    await node.close();
    await a.node.close();
  }
});

test("no result within the timeout: the item is retried on another worker (at least once)", async () => {
  let stuckSaw = 0;
  const stuck = await node4({ onMessage: puller(() => {
    stuckSaw++;
    return new Promise<never>(() => {});
  }) });
  const good = await worker("good", 1);
  const node = await node4();
  const p = pusher(node, { workers: [to(stuck), to(good.node)], timeout: 0.3, maxFailures: 1 });
  try {
    const results = await Promise.all([p.push("x"), p.push("y")]);
    assert.equal(results.map((r) => text(r.data)).sort(), ["good:x", "good:y"]);
    assert.is(stuckSaw, 1, "the stuck worker got one item, then was dropped");
    assert.ok(results.some((r) => r.attempts === 2));
  } finally {
    await node.close();
    await stuck.close();
    await good.node.close();
  }
});

test("sync: a worker that holds its item (never releases) times out; the item moves on", async () => {
  const hold = await startPeer({ synchronous: true, policy: "hold" });
  const good = await worker("good", 1);
  const node = await node4({ timeout: 0.5 });
  const p = pusher(node, { workers: [`127.0.0.1:${hold.port}`, to(good.node)], maxFailures: 1 });
  try {
    const rs = await Promise.all([p.push("a"), p.push("b")]);
    assert.equal(rs.map((r) => text(r.data)).sort(), ["good:a", "good:b"]);
    assert.equal(p.workers.map((w) => w.target), [to(good.node)], "the holding worker was dropped");
  } finally {
    await node.close();
    await good.node.close();
    hold.kill();
  }
});

test("a handler error rejects that item with RemoteError, without retry or worker failure", async () => {
  const w = await node4({ onMessage: puller((m) => {
    if (m.text() === "poison") throw new Error("cannot digest");
    return "fine";
  }) });
  const node = await node4();
  const p = pusher(node, { workers: [to(w)] });
  try {
    const err = await p.push("poison").then(() => null, (e) => e);
    assert.instance(err, RemoteError);
    assert.match(err.message, /cannot digest/);
    assert.is(text((await p.push("ok")).data), "fine");
    assert.is(p.workers[0].failures, 0);
  } finally {
    await node.close();
    await w.close();
  }
});

test("every worker gone: pushes reject with CANNOT_CONNECT", async () => {
  const node = await node4();
  const p = pusher(node, { workers: [`127.0.0.1:${await refusedPort()}`], maxFailures: 2 });
  try {
    const err = await p.push("x").then(() => null, (e) => e);
    assert.is(err?.code, "CANNOT_CONNECT");
    assert.match(err.message, /every worker failed/);
    assert.is((await p.push("y").then(() => null, (e) => e))?.code, "CANNOT_CONNECT");
  } finally {
    await node.close();
  }
});

test("sync one-way work: the worker releases when done, so its send is the completion", async () => {
  const a = await worker("a", 30, {}, true);
  const b = await worker("b", 30, {}, true);
  const node = await node4();
  const seen: string[] = [];
  const p = pusher(node, { workers: [to(a.node), to(b.node)], results: false, onResult: (r) => seen.push(r.worker) });
  try {
    const t0 = Date.now();
    await Promise.all(Array.from({ length: 10 }, (_, i) => p.push(String(i))));
    const ms = Date.now() - t0;
    assert.is(a.done + b.done, 10, "all done when the pushes resolved");
    assert.is(a.max, 1);
    assert.is(b.max, 1);
    assert.ok(ms >= 5 * 30 - 20, `two workers, one at a time each: ${ms} ms`);
    assert.is(seen.length, 10);
    await p.idle();
  } finally {
    await node.close();
    await a.node.close();
    await b.node.close();
  }
});

test("a libchirp-style echo node works as a worker (its echo is the result)", async () => {
  const peer = await startPeer({ synchronous: true, policy: "echo" });
  const node = await node4();
  const p = pusher(node, { workers: [`127.0.0.1:${peer.port}`] });
  try {
    const rs = await Promise.all(["a", "b", "c"].map((d) => p.push(d)));
    assert.equal(rs.map((r) => text(r.data)), ["a", "b", "c"]);
  } finally {
    await node.close();
    assert.is(await peer.stop(), 0);
  }
});

test("close rejects queued items with SHUTDOWN; idle() waits for the rest", async () => {
  const w = await worker("w", 50);
  const node = await node4();
  const p = pusher(node, { workers: [to(w.node)] });
  try {
    const first = p.push("1");
    const second = p.push("2");
    await sleep(10);
    p.close();
    assert.is((await second.then(() => null, (e) => e))?.code, "SHUTDOWN");
    assert.is(text((await first).data), "w:1");
    await p.idle();
    assert.is((await p.push("3").then(() => null, (e) => e))?.code, "SHUTDOWN");
  } finally {
    await node.close();
    await w.node.close();
  }
});

test("finished items are not kept while items keep flowing (attempt deadlines, send queue)", async () => {
  // Each attempt has a deadline in a queue served by one timer, armed for the oldest; while
  // items keep flowing that timer never fires, and the queue once kept every finished attempt
  // (its item, payload and result) until the timeout: 100,000 items held ~200 MB.
  const w = await worker("w", 0, { synchronous: false });
  const node = await node4({ synchronous: false });
  const p = pusher(node, { workers: [{ target: to(w.node), slots: 8 }], timeout: 30 });
  const tracker = new Tracker();
  const count = 2000, first = 1500;
  const results: Promise<unknown>[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const data = new Uint8Array(1024).fill(i & 0xff);
      tracker.track(data);
      results.push(p.push(data));
    }
    await Promise.all(results.slice(0, first));
    assert.ok(p.inFlight > 0, "items still in flight (the deadline timer has not fired)");
    const held = await tracker.alive(first);
    assert.ok(held <= 16, `${held} of the ${first} finished items' payloads still reachable`);
    await Promise.all(results);
  } finally {
    await Promise.allSettled(results);
    await node.close();
    await w.node.close();
  }
});

test.run();
