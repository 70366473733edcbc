// Pair: exactly one peer. Pairing by HELLO (or first DATA), a second peer refused with a
// clear error (its message released, not delivered), BYE, a peer that went away.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Chirp, type Message } from "../../adapters/index.ts";
import { PairRefusedError, pair } from "./pair.ts";
import { OP, PATTERN, decodeHeader, encodeHeader } from "../header.ts";
import { node4, to } from "../../test/support/nodes.ts";
import { sleep, until } from "../../test/support/wait.ts";


for (const mode of ["sync", "async"] as const) {
  const synchronous = mode === "sync";

  test(`${mode}: two nodes pair and talk both ways`, async () => {
    const a = await node4({ synchronous });
    const b = await node4({ synchronous });
    const got = { a: [] as string[], b: [] as string[] };
    const A = pair(a, (m) => got.a.push(m.text()));
    const B = pair(b, (m) => got.b.push(m.text()), { peer: to(a) });
    try {
      await B.send("hello A");
      await until(() => got.a.length === 1, 3000, "B's message at A");
      assert.is(A.peer, to(b), "A took B as its peer");
      await A.send("hello B");
      await until(() => got.b.length === 1, 3000, "A's message at B");
      for (let i = 0; i < 20; i++) await B.send(String(i));
      await until(() => got.a.length === 21, 3000, "20 more");
      assert.equal(got.a.slice(1), Array.from({ length: 20 }, (_, i) => String(i)));
      // A fresh endpoint sending many at once says HELLO once: A refuses one HELLO.
      const c = await node4({ synchronous });
      const C = pair(c, () => {}, { peer: to(a) });
      const refused = await Promise.all(Array.from({ length: 5 }, (_, i) => C.send(String(i)).then(() => null, (e) => e)));
      assert.ok(refused.every((e) => e?.code === "REFUSED"), "A is paired with B: all five refused");
      assert.is(A.refusedCount, 1, "one HELLO for five concurrent sends");
      await c.close();
    } finally {
      await a.close();
      await b.close();
    }
  });
}

test("a second peer is refused: connect and send reject with PairRefusedError, nothing delivered", async () => {
  const a = await node4();
  const b = await node4();
  const c = await node4();
  const got: string[] = [];
  const intruders: string[] = [];
  const A = pair(a, (m) => got.push(m.text()), { onIntruder: (k) => intruders.push(k) });
  const B = pair(b, () => {}, { peer: to(a) });
  const C = pair(c, () => {}, { peer: to(a) });
  try {
    await B.connect();
    const err = await C.connect().then(() => null, (e) => e);
    assert.instance(err, PairRefusedError);
    assert.is(err.code, "REFUSED");
    assert.match(err.message, new RegExp(`already paired with ${to(b).replace(/\./g, "\\.")}`));
    assert.is(await C.send("let me in").then(() => null, (e) => e), err, "send rejects with the refusal");
    assert.is(A.peer, to(b));
    assert.equal(intruders, [to(c)]);
    await B.send("still here");
    await until(() => got.length === 1, 3000, "B's message");
    assert.equal(got, ["still here"]);
  } finally {
    for (const n of [a, b, c]) await n.close();
  }
});

test("a raw DATA frame from another node is released, not delivered, and answered REFUSED", async () => {
  const a = await node4();
  const b = await node4();
  const answers: Message[] = [];
  const d = await node4({ onMessage: (m) => {
    m.release();
    answers.push(m);
  } });
  const got: string[] = [];
  const A = pair(a, (m) => got.push(m.text()));
  const B = pair(b, () => {}, { peer: to(a) });
  try {
    await B.connect();
    // D is a plain node: its synchronous send resolves because A released the message.
    const id = await d.send(to(a), "sneak", { header: encodeHeader(PATTERN.PAIR, OP.PAIR.DATA) });
    await until(() => answers.length === 1, 3000, "the refusal");
    assert.equal(answers[0].identity, id, "the refusal answers that message");
    assert.is(decodeHeader(answers[0].header)?.op, OP.PAIR.REFUSED);
    assert.match(answers[0].text(), /already paired/);
    await sleep(50);
    assert.equal(got, []);
    assert.is(A.refusedCount, 1);
  } finally {
    for (const n of [a, b, d]) await n.close();
  }
});

test("BYE frees the pair for another peer", async () => {
  const a = await node4();
  const b = await node4();
  const c = await node4();
  const A = pair(a, () => {});
  const B = pair(b, () => {}, { peer: to(a) });
  const C = pair(c, () => {}, { peer: to(a) });
  try {
    await B.connect();
    assert.instance(await C.connect().then(() => null, (e) => e), PairRefusedError);
    await B.close();
    assert.is(A.peer, null);
    await C.connect();
    assert.is(A.peer, to(c));
  } finally {
    for (const n of [a, b, c]) await n.close();
  }
});

test("a learned peer that went away is forgotten when a send to it fails", async () => {
  const a = await node4({ timeout: 1 });
  const b = await node4();
  const c = await node4();
  const A = pair(a, () => {});
  try {
    await pair(b, () => {}, { peer: to(a) }).connect();
    assert.is(A.peer, to(b));
    await b.close();
    assert.ok(await A.send("anyone?").then(() => false, () => true), "the send fails");
    assert.is(A.peer, null);
    await pair(c, () => {}, { peer: to(a) }).connect();
    assert.is(A.peer, to(c));
  } finally {
    await a.close();
    await c.close();
  }
});

test("a node bound to a configured peer refuses everyone else", async () => {
  const a = await node4();
  const b = await node4();
  const e = await node4();
  pair(a, () => {});
  const B = pair(b, () => {}, { peer: to(a) });
  const E = pair(e, () => {}, { peer: to(b) });
  try {
    assert.instance(await E.connect().then(() => null, (x) => x), PairRefusedError);
    assert.is(B.peer, to(a));
    assert.is((await E.connect(to(a)).then(() => null, (x) => x))?.code, "VALUE_ERROR", "E is bound to b");
  } finally {
    for (const n of [a, b, e]) await n.close();
  }
});

test.run();
