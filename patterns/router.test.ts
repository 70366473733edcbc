// The router shared by the patterns on one node: identity waiters first, late answers
// dropped, handlers in order, fallback, handler errors, attach().
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Chirp, type Message } from "../adapters/index.ts";
import { Router, attach, routerOf } from "./router.ts";
import { node4 } from "../test/support/nodes.ts";
import { until } from "../test/support/wait.ts";


test("order: waiter by identity, then handlers in order, then the fallback; late answers dropped", async () => {
  const r = new Router();
  const node = await node4({ onMessage: r.dispatch });
  attach(node, r);
  assert.is(routerOf(node), r, "routerOf returns the attached router");
  const sender = await node4();
  const seen: string[] = [];
  r.use((m) => {
    seen.push(`first:${m.text()}`);
    if (m.text() === "one") {
      m.release();
      return true;
    }
    return false;
  });
  r.use((m) => {
    seen.push(`second:${m.text()}`);
    return false;
  });
  const to = `127.0.0.1:${node.port}`;
  try {
    const id = crypto.getRandomValues(new Uint8Array(16));
    const waited: Message[] = [];
    const stop = r.expect(id, (m) => {
      m.release();
      waited.push(m);
      return true;
    });
    assert.throws(() => r.expect(id, () => true), /already awaited/);
    await sender.send(to, "answer", { identity: id });
    await until(() => waited.length === 1, 3000, "the answer");
    assert.equal(seen, [], "handlers did not see it");
    stop();
    await sender.send(to, "late", { identity: id });
    await until(() => r.late === 1, 3000, "the late one");
    await sender.send(to, "one");
    await sender.send(to, "two");
    await until(() => r.unhandled === 1, 3000, "the unhandled one");
    assert.equal(seen, ["first:one", "first:two", "second:two"]);
  } finally {
    await sender.close();
    await node.close();
  }
});

test("a handler that throws: the message is released and onError gets the error", async () => {
  const node = await node4();
  const r = routerOf(node);
  const errors: unknown[] = [];
  r.onError = (e) => errors.push(e);
  r.use(() => {
    throw new Error("boom");
  });
  const sender = await node4();
  try {
    // Synchronous send: resolves only because the router released the message.
    await sender.send(`127.0.0.1:${node.port}`, "x");
    assert.is((errors[0] as Error).message, "boom");
  } finally {
    await sender.close();
    await node.close();
  }
});

test("attach refuses a second router for the same node", async () => {
  const node = await node4();
  routerOf(node);
  try {
    assert.throws(() => attach(node, new Router()), /already has a pattern router/);
  } finally {
    await node.close();
  }
});

test.run();
