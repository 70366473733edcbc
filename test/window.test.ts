// The synchronous window on real sockets (protocol.md §4.7): `window` unacknowledged messages
// per remote, each acknowledged on release and settled then, in order, nothing lost without an
// error; a one-slot peer still works (TCP pushes back); two windowed nodes whose handlers reply
// before they release never lock up (§10.2); configuration errors.
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { Message } from "../adapters/index.ts";
import { ChirpError } from "../adapters/index.ts";
import { node, to } from "./support/nodes.ts";
import { until } from "./support/wait.ts";

const payload = (i: number): Uint8Array => new Uint8Array(8 + (i % 200)).map((_, k) => (i * 13 + k) & 0xff);
const same = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((v, k) => v === b[k]);

async function windowRound(senderWindow: number, receiverWindow: number, n: number): Promise<void> {
  const got: Uint8Array[] = [];
  const b = await node({ synchronous: true, window: receiverWindow, onMessage: (m) => { got.push(m.data.slice()); m.release(); } });
  const a = await node({ synchronous: true, window: senderWindow });
  try {
    const sends = Array.from({ length: n }, (_, i) => a.send(to(b), payload(i)));
    const ids = await Promise.all(sends);
    assert.is(ids.length, n);
    // Every send settled on its ACK, so the receiver has released (and so received) each one.
    assert.is(got.length, n, "received when the sends settled");
    for (let i = 0; i < n; i++) if (!same(got[i], payload(i))) assert.unreachable(`message ${i} differs or is out of order`);
    const st = a.stats();
    assert.is(st.messagesOut, n);
    assert.equal(st.sendErrors, {});
  } finally {
    await a.close();
    await b.close();
  }
}

test("window 16 to a node with window 16: 2,000 sends at once, each settled on its ACK, in order with every byte", async () => {
  await windowRound(16, 16, 2000);
});

test("window 16 to a one-slot peer (window 1, libchirp's behaviour): it still works, TCP pushes back", async () => {
  await windowRound(16, 1, 500);
});

test("§10.2: two nodes with window 8 whose handlers reply before they release do not lock up", async () => {
  // Frames already written ahead of our ACK are read because the peer has as many slots as
  // our window: its reader never stops with an ACK behind unread data.
  const replies: Message[] = [];
  const b: { n?: Awaited<ReturnType<typeof node>> } = {};
  b.n = await node({
    synchronous: true, window: 8, timeout: 3,
    onMessage: (m) => {
      // reply first, release after the reply was acknowledged: the lock-up pattern
      void b.n!.send(`127.0.0.1:${m.port}`, m.data.slice()).then(() => m.release(), () => m.release());
    },
  });
  const a = await node({ synchronous: true, window: 8, timeout: 3, onMessage: (m) => { replies.push(m); m.release(); } });
  try {
    const n = 400;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: n }, (_, i) => a.send(to(b.n!), payload(i))));
    await until(() => replies.length === n, 10000, `${n} replies`);
    assert.ok(performance.now() - t0 < 3000, "well within the 3 s timeout: no stall");
    // Each request came back once: payload(i) is told apart by its length and first byte.
    const key = (d: Uint8Array): string => `${d.length}:${d[0]}`;
    assert.equal(new Set(replies.map((m) => key(m.data))), new Set(Array.from({ length: n }, (_, i) => key(payload(i)))));
    assert.equal(a.stats().sendErrors, {});
    assert.equal(b.n.stats().sendErrors, {});
  } finally {
    await a.close();
    await b.n.close();
  }
});

test("the boundary (§10.2, documented): a one-slot peer that replies before it releases stalls a window until the timeout; every send then fails with TIMEOUT, none is lost silently", async () => {
  const b: { n?: Awaited<ReturnType<typeof node>> } = {};
  // The peer's own timeout is longer than ours, so that ours fires first: with equal ones
  // either side may give up first, and the peer closing first fails the sends with
  // PROTOCOL_ERROR (connection closed) instead (also an error, but not the one asserted).
  b.n = await node({
    synchronous: true, timeout: 2,
    onMessage: (m) => void b.n!.send(`127.0.0.1:${m.port}`, m.data.slice()).then(() => m.release(), () => m.release()),
  });
  const a = await node({ synchronous: true, window: 4, timeout: 0.5, onMessage: (m) => m.release() });
  try {
    const t0 = performance.now();
    const codes = await Promise.all(Array.from({ length: 4 }, (_, i) => a.send(to(b.n!), payload(i)).then(() => "ok", (e: ChirpError) => e.code)));
    assert.ok(codes.includes("TIMEOUT"), `a send timed out: ${codes.join(",")}`);
    assert.ok(codes.every((c) => c === "ok" || c === "TIMEOUT"), codes.join(","));
    assert.ok(performance.now() - t0 < 5000, "settled within a few timeouts");
  } finally {
    await a.close();
    await b.n.close({ drain: false }); // its reply failed with the connection: nothing to drain
  }
});

test("nothing is lost without an error: a receiver that holds messages and closes fails the unacknowledged sends", async () => {
  const held: Message[] = [];
  const b = await node({ synchronous: true, window: 8, onMessage: (m) => held.push(m) });
  const a = await node({ synchronous: true, window: 8, timeout: 5 });
  const results = Array.from({ length: 20 }, (_, i) => a.send(to(b), payload(i)).then(() => "ok", (e: ChirpError) => e.code));
  await until(() => held.length === 8, 5000, "8 messages held (the window)");
  held[0].release();
  held[1].release();
  await until(() => held.length === 10, 5000, "two more after two releases");
  await b.close({ drain: false });
  const codes = await Promise.all(results);
  assert.is(codes.filter((c) => c === "ok").length, 2, `the two released ones succeeded: ${codes.join(",")}`);
  assert.ok(codes.slice(2).every((c) => c !== "ok" && typeof c === "string"), `the rest failed with a code: ${codes.join(",")}`);
  await a.close();
});

test("config: window is 1..32, synchronous mode only; maxSlots follows it", async () => {
  for (const [cfg, what] of [
    [{ synchronous: true, window: 0 }, "window"], [{ synchronous: true, window: 33 }, "window"],
    [{ synchronous: false, window: 4 }, "window"], [{ synchronous: true, window: 4, maxSlots: 1 }, "maxSlots"],
  ] as const) {
    try {
      await node(cfg);
      assert.unreachable(`accepted ${JSON.stringify(cfg)}`);
    } catch (e) {
      assert.is((e as ChirpError).code, "VALUE_ERROR");
      assert.ok((e as Error).message.includes(`config.${what}`), (e as Error).message);
    }
  }
  const n = await node({ synchronous: true, window: 4, maxSlots: 4 });
  await n.close();
});

test.run();
