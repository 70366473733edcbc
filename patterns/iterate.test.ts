// Async iteration on the callback roles: a subscriber, a bus member and a pair endpoint created
// without a callback hand their messages to `for await`, in order, and close() ends the loop;
// one created with a callback refuses iteration with a clear error.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { bus, pair, publisher, subscriber } from "./mod.ts";
import { text } from "./header.ts";
import { node4, to } from "../test/support/nodes.ts";

/** The first `n` items of an async iterable, then stops reading. */
async function take<T>(it: AsyncIterable<T>, n: number): Promise<T[]> {
  const out: T[] = [];
  if (n === 0) return out;
  for await (const x of it) {
    out.push(x);
    if (out.length === n) break;
  }
  return out;
}

test("subscriber without a callback: for await gets topic and message", async () => {
  const p = await node4();
  const s = await node4();
  const pub = publisher(p);
  const sub = subscriber(s);
  try {
    await sub.subscribe(to(p), "news.");
    const got = take(sub, 2);
    await pub.publish("news.a", "one");
    await pub.publish("weather", "not this");
    await pub.publish("news.b", "two");
    assert.equal((await got).map((x) => `${x.topic}=${x.msg.text()}`), ["news.a=one", "news.b=two"]);
  } finally {
    await sub.close();
    pub.close();
    await s.close();
    await p.close();
  }
});

test("bus member without a callback: for await gets message and header; close() ends it", async () => {
  const a = await node4();
  const b = await node4();
  const A = bus(a, undefined, { peers: [to(b)] });
  const B = bus(b);
  try {
    const got = take(B, 2);
    await A.send("x", { header: "h1" });
    await A.send("y", { header: "h2" });
    assert.equal((await got).map((e) => `${text(e.header)}:${e.msg.text()}`), ["h1:x", "h2:y"]);
    const rest = take(B, 1);
    await B.close();
    assert.equal(await rest, [], "close() ends the iteration");
  } finally {
    await A.close();
    await B.close();
    await a.close();
    await b.close();
  }
});

test("pair without a callback: for await; with a callback iteration is refused", async () => {
  const a = await node4();
  const b = await node4();
  const A = pair(a);
  const B = pair(b, () => {}, { peer: to(a) });
  try {
    const got = take(A, 1);
    await B.send("hello");
    assert.equal((await got).map((e) => e.msg.text()), ["hello"]);
    assert.throws(() => B[Symbol.asyncIterator](), /given a callback/);
  } finally {
    await B.close();
    await A.close();
    await b.close();
    await a.close();
  }
});

test.run();
