// Sends around idle garbage collection never fail with a spurious SHUTDOWN (issue 14): a send
// queued for the redial after the peer collected the connection survives a late tick in which
// the reconnect delay ends and a GC run is due (protocol.md §4.5, §5.5).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { node, to } from "./support/nodes.ts";
import { sleep, until } from "./support/wait.ts";

/** A slow handler: holds the event loop for `ms`. */
function block(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* busy */ }
}

// R = max(reuseTime, 3·timeout) = 0.6 s on both sides: the shortest the config allows.
const SHORT = { timeout: 0.2, reuseTime: 0.6 };

for (const synchronous of [false, true]) {
  test(`slow handler right after the peer collected the connection: the send succeeds (synchronous: ${synchronous})`, async () => {
    let got = 0;
    const b = await node({ ...SHORT, synchronous, onMessage: (m) => { got++; m.release(); } });
    const a = await node({ ...SHORT, synchronous });
    for (let round = 0; round < 3; round++) {
      await a.send(to(b), "first");
      let closed = false;
      const off = a.on("close", () => { closed = true; });
      await until(() => closed, 4000, "idle collection to close the connection");
      off();
      const p = a.send(to(b), "second");
      block(600);
      await p; // rejected with "SHUTDOWN: remote ... was idle and garbage-collected" before the fix
    }
    await until(() => got === 6);
    await a.close();
    await b.close();
  });
}

test("sends at random moments around idle collection all succeed (both modes)", async () => {
  const counts: Record<string, { sends: number; failures: number }> = {};
  for (const synchronous of [false, true]) {
    const peers = await Promise.all([0, 1, 2, 3].map(() => node({ ...SHORT, synchronous, onMessage: (m) => m.release() })));
    const a = await node({ ...SHORT, synchronous });
    let sends = 0;
    const failures: string[] = [];
    const end = performance.now() + 4000;
    await Promise.all(peers.map(async (b) => {
      while (performance.now() < end) {
        const burst = 1 + Math.floor(Math.random() * 4);
        const ps: Promise<unknown>[] = [];
        for (let i = 0; i < burst; i++) {
          sends++;
          ps.push(a.send(to(b), "x").catch((e) => failures.push(String(e))));
        }
        // Now and then a slow handler (shorter than the 0.2 s timeout: the peers share this
        // event loop), or a pause long enough for idle collection (R..2R).
        const u = Math.random();
        if (u < 0.1) block(Math.random() * 100);
        await Promise.all(ps);
        await sleep(u < 0.85 ? Math.random() * 25 : 500 + Math.random() * 800);
      }
    }));
    counts[synchronous ? "sync" : "async"] = { sends, failures: failures.length };
    await a.close();
    await Promise.all(peers.map((b) => b.close()));
    assert.equal(failures, [], `failures (synchronous: ${synchronous})`);
    assert.ok(sends >= 100, `sends: ${sends}`); // enough sends around the collections (140 seen on Bun under load)
  }
  console.log(`random GC test: ${JSON.stringify(counts)}`);
});

test.run();
