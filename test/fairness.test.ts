// Fairness (issue 14): an `await send()` loop and a window of sends at full speed do not hold
// the event loop: a 10 ms interval keeps ticking and messages from another node are read and
// dispatched meanwhile. Bounds are generous (a loaded CI machine); no speed is asserted.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { node, to } from "./support/nodes.ts";

const RUN_MS = 1000;
const MAX_GAP_MS = 500;

async function during(kind: "await" | "window"): Promise<{ gap: number; got: number; sent: number }> {
  const b = await node({ synchronous: false, onMessage: (m) => m.release() });
  let got = 0;
  const a = await node({ synchronous: false, onMessage: (m) => { got++; m.release(); } });
  const c = await node({ synchronous: true });
  await a.send(to(b), "warm up");
  await c.send(to(a), "warm up");
  got = 0;
  let last = performance.now();
  let gap = 0;
  const iv = setInterval(() => {
    const t = performance.now();
    gap = Math.max(gap, t - last);
    last = t;
  }, 10);
  const end = performance.now() + RUN_MS;
  let stop = false;
  // Another node keeps sending to a, one synchronous message at a time.
  const other = (async () => {
    while (!stop) await c.send(to(a), "ping");
  })();
  const data = new Uint8Array(16);
  let sent = 0;
  if (kind === "await") {
    while (performance.now() < end) {
      for (let i = 0; i < 256; i++) await a.send(to(b), data);
      sent += 256;
    }
  } else {
    const target = to(b);
    await new Promise<void>((resolve) => {
      let inFlight = 0;
      const more = (): void => {
        while (inFlight < 1000 && performance.now() < end) {
          inFlight++;
          sent++;
          a.send(target, data).then(() => { inFlight--; more(); }, () => { inFlight--; more(); });
        }
        if (inFlight === 0) resolve();
      };
      more();
    });
  }
  stop = true;
  clearInterval(iv);
  gap = Math.max(gap, performance.now() - last);
  await other;
  await Promise.all([a.close(), c.close()]);
  await b.close();
  return { gap, got, sent };
}

for (const kind of ["await", "window"] as const) {
  test(`timers fire and incoming messages are dispatched during a full-speed ${kind} loop`, async () => {
    const r = await during(kind);
    console.log(`fairness ${kind}: longest 10 ms interval gap ${r.gap.toFixed(1)} ms, ${r.got} messages from another node, ${r.sent} sent`);
    assert.ok(r.gap < MAX_GAP_MS, `interval gap ${r.gap.toFixed(0)} ms`);
    assert.ok(r.got >= 3, `messages from another node dispatched during the loop: ${r.got}`);
  });
}

test.run();
