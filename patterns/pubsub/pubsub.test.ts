// Pub/sub: prefix subscriptions acknowledged by the publisher, fan-out, unsubscribe,
// dropping subscribers that went away, a restarted subscriber, local filtering.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Chirp, type Message } from "../../adapters/index.ts";
import { publisher, subscriber } from "./pubsub.ts";
import { OP, PATTERN, decodeHeader, encodeHeader } from "../header.ts";
import { Router, attach } from "../router.ts";
import { node4, to } from "../../test/support/nodes.ts";
import { sleep, until } from "../../test/support/wait.ts";
import { refusedPort } from "../../test/support/raw-peer.ts";


for (const mode of ["sync", "async"] as const) {
  const synchronous = mode === "sync";

  test(`${mode}: subscribers get the topics their prefixes match, once each`, async () => {
    const pubNode = await node4({ synchronous });
    const pub = publisher(pubNode);
    const aNode = await node4({ synchronous });
    const bNode = await node4({ synchronous });
    const got = { a: [] as string[], b: [] as string[] };
    const a = subscriber(aNode, (topic, m) => got.a.push(`${topic}=${m.text()}`));
    const b = subscriber(bNode, (topic, m) => got.b.push(`${topic}=${m.text()}`));
    try {
      await a.subscribe(to(pubNode), "news.");
      await a.subscribe(to(pubNode), "news.sport"); // overlaps: still one copy
      await b.subscribe(to(pubNode), "weather");
      assert.equal(pub.subscribers.map((s) => s.prefixes.sort()).sort(), [["news.", "news.sport"], ["weather"]]);
      const r1 = await pub.publish("news.sport", "goal");
      const r2 = await pub.publish("weather.today", "rain");
      const r3 = await pub.publish("gossip", "nobody");
      assert.is(r1.delivered, 1);
      assert.is(r2.delivered, 1);
      assert.is(r3.delivered, 0);
      await until(() => got.a.length === 1 && got.b.length === 1, 3000, "deliveries");
      await sleep(50);
      assert.equal(got.a, ["news.sport=goal"]);
      assert.equal(got.b, ["weather.today=rain"]);
    } finally {
      for (const n of [pubNode, aNode, bNode]) await n.close();
    }
  });

  test(`${mode}: the empty prefix gets everything; unsubscribe stops it`, async () => {
    const pubNode = await node4({ synchronous });
    const pub = publisher(pubNode);
    const sNode = await node4({ synchronous });
    const got: string[] = [];
    const s = subscriber(sNode, (t) => got.push(t));
    try {
      await s.subscribe(to(pubNode));
      for (const t of ["x", "y", "z"]) await pub.publish(t, "");
      await until(() => got.length === 3, 3000, "three messages");
      await s.unsubscribe(to(pubNode));
      assert.equal(pub.subscribers, []);
      assert.is((await pub.publish("w", "")).delivered, 0);
      await sleep(50);
      assert.equal(got, ["x", "y", "z"]);
    } finally {
      await pubNode.close();
      await sNode.close();
    }
  });
}

test("topics that alternate (same length, other bytes), byte topics and 300 distinct ones arrive under their own names", async () => {
  // The publisher keeps the bytes and header of its recent string topics and the subscriber
  // the text of the last topic: neither may hand one topic's name to another.
  const pubNode = await node4();
  const pub = publisher(pubNode);
  const sNode = await node4();
  const got: string[] = [];
  const s = subscriber(sNode, (topic, m) => got.push(`${topic}=${m.text()}`));
  try {
    await s.subscribe(to(pubNode), "t.");
    const want: string[] = [];
    for (let i = 0; i < 300; i++) {
      const topic = i < 20 ? (i % 2 ? "t.a" : "t.b") : i < 40 ? new TextEncoder().encode(i % 2 ? "t.c" : "t.d") : `t.${i}`;
      await pub.publish(topic, String(i));
      want.push(`${typeof topic === "string" ? topic : new TextDecoder().decode(topic)}=${i}`);
    }
    await until(() => got.length === 300, 5000, "300 deliveries");
    assert.equal(got, want);
  } finally {
    await pubNode.close();
    await sNode.close();
  }
});

test("fan-out to 8 subscribers, in order per subscriber", async () => {
  const pubNode = await node4({ synchronous: false });
  const pub = publisher(pubNode);
  const subs = await Promise.all(Array.from({ length: 8 }, () => node4({ synchronous: false })));
  const got = subs.map(() => [] as number[]);
  try {
    await Promise.all(subs.map((n, i) => subscriber(n, (_t, m) => got[i].push(Number(m.text()))).subscribe(to(pubNode), "t")));
    for (let k = 0; k < 200; k++) void pub.publish("t", String(k));
    await until(() => got.every((g) => g.length === 200), 10000, "200 messages at each subscriber");
    for (const g of got) assert.equal(g, Array.from({ length: 200 }, (_, k) => k));
  } finally {
    await pubNode.close();
    for (const n of subs) await n.close();
  }
});

test("a subscriber that went away is dropped; the others still get messages", async () => {
  const pubNode = await node4({ timeout: 1 });
  const drops: string[] = [];
  const pub = publisher(pubNode, { onDrop: (s) => drops.push(s) });
  const stay = await node4();
  const gone = await node4();
  const got: string[] = [];
  try {
    await subscriber(stay, (t) => got.push(t)).subscribe(to(pubNode), "");
    await subscriber(gone, () => {}).subscribe(to(pubNode), "");
    assert.is((await pub.publish("one", "")).delivered, 2);
    const goneKey = to(gone);
    await gone.close();
    const r = await pub.publish("two", "");
    assert.is(r.delivered, 1);
    assert.equal(r.dropped, [goneKey]);
    assert.equal(drops, [goneKey]);
    assert.equal(pub.subscribers.map((s) => s.target), [to(stay)]);
    await until(() => got.length === 2, 3000, "both messages at the one that stayed");
  } finally {
    await pubNode.close();
    await stay.close();
  }
});

test("sync: a subscriber that never releases does not hold up the others; it is dropped at the timeout", async () => {
  const pubNode = await node4({ timeout: 0.5 });
  const pub = publisher(pubNode);
  const held: Message[] = [];
  const slowRouter = new Router([(m) => {
    if (decodeHeader(m.header)?.op !== OP.PUBSUB.PUBLISH) return false;
    held.push(m); // never released: the publisher's send waits for an ACK that never comes
    return true;
  }]);
  const slow = await node4({ onMessage: slowRouter.dispatch });
  attach(slow, slowRouter);
  const fast = await node4();
  const got: number[] = [];
  const t0 = Date.now();
  try {
    await subscriber(slow, () => {}).subscribe(to(pubNode), "");
    await subscriber(fast, () => got.push(Date.now() - t0)).subscribe(to(pubNode), "");
    const sent = Date.now() - t0;
    const r = await pub.publish("t", "x");
    assert.is(r.delivered, 1);
    assert.equal(r.dropped, [to(slow)]);
    assert.is((r.failed[0].error as { code: string }).code, "TIMEOUT");
    assert.is(held.length, 1);
    assert.ok(got[0] - sent < 400, `the fast subscriber got it at once (${got[0] - sent} ms)`);
  } finally {
    for (const n of [pubNode, slow, fast]) await n.close();
  }
});

test("a subscriber restarted on the same port replaces its old subscriptions", async () => {
  const pubNode = await node4();
  const pub = publisher(pubNode);
  const first = await node4();
  const port = first.port;
  try {
    await subscriber(first, () => {}).subscribe(to(pubNode), "old.");
    await first.close();
    const again = await node4({ port });
    const got: string[] = [];
    await subscriber(again, (t) => got.push(t)).subscribe(to(pubNode), "new.");
    assert.equal(pub.subscribers, [{ target: `127.0.0.1:${port}`, prefixes: ["new."] }]);
    assert.is((await pub.publish("old.x", "")).delivered, 0);
    assert.is((await pub.publish("new.x", "")).delivered, 1);
    await until(() => got.length === 1, 3000, "the message");
    await again.close();
  } finally {
    await pubNode.close();
  }
});

test("subscribe rejects with TIMEOUT when the target is no publisher, CANNOT_CONNECT when unreachable", async () => {
  const plain = await node4({ onMessage: (m) => m.release() });
  const sNode = await node4();
  const s = subscriber(sNode, () => {}, { timeout: 0.3 });
  try {
    assert.is((await s.subscribe(to(plain), "x").then(() => null, (e) => e))?.code, "TIMEOUT");
    assert.is((await s.subscribe(`127.0.0.1:${await refusedPort()}`, "x").then(() => null, (e) => e))?.code, "CANNOT_CONNECT");
    // The failed subscriptions were taken back: a PUBLISH under "x" is filtered out.
    await plain.send(to(sNode), "", { header: encodeHeader(PATTERN.PUBSUB, OP.PUBSUB.PUBLISH, "x.1") });
    await until(() => s.filtered === 1, 3000, "the filtered message");
  } finally {
    await plain.close();
    await sNode.close();
  }
});

test("subscribers filter too: a PUBLISH for a topic they do not want is dropped on arrival", async () => {
  const sNode = await node4();
  const got: string[] = [];
  const s = subscriber(sNode, (t) => got.push(t));
  const pubNode = await node4();
  publisher(pubNode);
  const raw = await node4();
  try {
    await s.subscribe(to(pubNode), "a");
    await raw.send(to(sNode), "x", { header: encodeHeader(PATTERN.PUBSUB, OP.PUBSUB.PUBLISH, "b.topic") });
    await raw.send(to(sNode), "x", { header: encodeHeader(PATTERN.PUBSUB, OP.PUBSUB.PUBLISH, "a.topic") });
    await until(() => got.length === 1, 3000, "the wanted one");
    assert.equal(got, ["a.topic"]);
    assert.is(s.filtered, 1);
  } finally {
    for (const n of [sNode, pubNode, raw]) await n.close();
  }
});

test("subscriber.close unsubscribes everything at every publisher", async () => {
  const p1 = await node4();
  const p2 = await node4();
  const pub1 = publisher(p1);
  const pub2 = publisher(p2);
  const sNode = await node4();
  const s = subscriber(sNode, () => {});
  try {
    await s.subscribe(to(p1), "a");
    await s.subscribe(to(p1), "b");
    await s.subscribe(to(p2), "");
    assert.is(pub1.subscribers[0].prefixes.length, 2);
    await s.close();
    assert.equal(pub1.subscribers, []);
    assert.equal(pub2.subscribers, []);
  } finally {
    for (const n of [p1, p2, sNode]) await n.close();
  }
});

test.run();
