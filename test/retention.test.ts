// Bounded memory: a send's payload is not kept once its send has settled. The send queue
// advances a head index and is compacted only now and then; its slots below the head once held
// every finished send (up to 1024 per remote, with their payloads: 1 GiB for 1 MiB messages).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { node, to } from "./support/nodes.ts";
import { Tracker } from "./support/gc.ts";
import { until } from "./support/wait.ts";

/** Sends `count` fresh payloads of `size` bytes, at most `window` unsettled at a time, and
 * returns how many of them are still reachable after a full collection. */
async function heldAfter(synchronous: boolean, count: number, size: number, window: number): Promise<number> {
  let got = 0;
  const b = await node({ synchronous, onMessage: (m) => { got++; m.release(); } });
  const a = await node({ synchronous });
  const tracker = new Tracker();
  try {
    const inFlight = new Set<Promise<unknown>>();
    for (let i = 0; i < count; i++) {
      const data = new Uint8Array(size).fill(i & 0xff);
      tracker.track(data);
      const p: Promise<unknown> = a.send(to(b), data).finally(() => inFlight.delete(p));
      inFlight.add(p);
      if (inFlight.size >= window) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    await until(() => got === count, 5000, `all ${count} messages to arrive`);
    return await tracker.alive();
  } finally {
    await a.close();
    await b.close();
  }
}

for (const synchronous of [false, true]) {
  test(`settled sends keep no payload (synchronous: ${synchronous})`, async () => {
    // 1 KiB: over the size an asynchronous send copies, so the queue holds the caller's bytes.
    const count = synchronous ? 300 : 1000;
    const held = await heldAfter(synchronous, count, 1024, 16);
    // A few may still be referenced from the last write batch; the rest must be gone.
    assert.ok(held <= 16, `${held} of ${count} sent payloads still reachable after their sends settled`);
  });
}

test.run();
