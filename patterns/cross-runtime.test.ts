// Patterns across runtimes: nodes on Node, Deno and Bun in separate processes
// (test/fixtures/pattern-peer.ts) run each pattern together. Runs once, from Node (test/run.mjs
// skips it on Deno and Bun); it starts processes on all three runtimes.
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { RuntimeName } from "../adapters/runtime.ts";
import { node4 } from "../test/support/nodes.ts";
import { until } from "../test/support/wait.ts";
import { Child } from "../test/support/process.ts";
import { bus, pair, pusher, request, surveyor, PairRefusedError, text } from "./mod.ts";

type Proc = Child & { port: number; key: string };

/** Starts pattern-peer.ts on `rt`; resolves at its "ready <port>" line. */
async function peer(rt: RuntimeName, mode: string, role: string, ...args: (string | number)[]): Promise<Proc> {
  const p = await Child.start("test/fixtures/pattern-peer.ts", [mode, role, ...args.map(String)], { runtime: rt });
  return Object.assign(p, { key: `127.0.0.1:${p.port}` });
}

const runtimes: RuntimeName[] = ["node", "deno", "bun"];

for (const mode of ["sync", "async"]) {
  test(`${mode}: a Bun publisher with Deno and Node subscribers: prefixes, unsubscribe, a subscriber that goes away`, async () => {
    const pub = await peer("bun", mode, "publisher");
    const procs: Proc[] = [pub];
    try {
      const dsub = await peer("deno", mode, "subscriber", pub.port, "a.");
      const nsub = await peer("node", mode, "subscriber", pub.port, "", "b.");
      procs.push(dsub, nsub);
      pub.say("subscribers");
      assert.match(await pub.line(/^subscribers/), /^subscribers 2$/);
      let n = pub.lines.length;
      pub.say("publish a.one first");
      assert.match(await pub.line(/^published/, n), /^published 2 $/);
      assert.is(await dsub.line(/^got a\.one/), "got a.one first");
      assert.is(await nsub.line(/^got a\.one/), "got a.one first");
      n = pub.lines.length;
      pub.say("publish b.two second");
      assert.match(await pub.line(/^published/, n), /^published 1 $/, "only the Node subscriber wants b.");
      assert.is(await nsub.line(/^got b\.two/), "got b.two second");
      // Node drops its catch-all; it keeps "b.".
      const m = nsub.lines.length;
      nsub.say("unsubscribe ");
      await nsub.line(/^unsubscribed/, m);
      n = pub.lines.length;
      pub.say("publish a.three third");
      assert.match(await pub.line(/^published/, n), /^published 1 $/, "now only Deno wants a.");
      await dsub.line(/^got a\.three/);
      // Deno goes away: the publisher drops it on the next failed send.
      assert.is(await dsub.stop(), 0);
      n = pub.lines.length;
      pub.say("publish a.four fourth");
      assert.match(await pub.line(/^published/, n), new RegExp(`^published 0 ${dsub.key.replace(/\./g, "\\.")}$`));
      n = pub.lines.length;
      pub.say("subscribers");
      assert.match(await pub.line(/^subscribers/, n), /^subscribers 1$/);
      assert.not.ok(nsub.lines.some((l) => l.startsWith("got a.three")), "Node unsubscribed from a.");
    } finally {
      for (const p of procs) await p.stop();
    }
  });

  test(`${mode}: request/reply, push/pull and survey from Node to Node, Deno and Bun processes`, async () => {
    const procs: Proc[] = [];
    const me = await node4({ synchronous: mode === "sync" });
    try {
      const responders = await Promise.all(runtimes.map((rt) => peer(rt, mode, "responder")));
      const pullers = await Promise.all(runtimes.map((rt) => peer(rt, mode, "puller")));
      const respondents = await Promise.all(runtimes.map((rt) => peer(rt, mode, "respondent")));
      procs.push(...responders, ...pullers, ...respondents);
      for (const r of responders) assert.is((await request(me, r.key, "ping")).text(), `${r.runtime}:ping`);
      const p = pusher(me, { workers: pullers.map((x) => x.key) });
      const results = await Promise.all(Array.from({ length: 60 }, (_, i) => p.push(`w${i}`)));
      const by = new Map<string, number>();
      results.forEach((r, i) => {
        const [rt, item] = text(r.data).split(":");
        assert.is(item, `w${i}`);
        by.set(rt, (by.get(rt) ?? 0) + 1);
      });
      assert.equal([...by.keys()].sort(), ["bun", "deno", "node"], "every runtime did work");
      const s = await surveyor(me, { respondents: respondents.map((x) => x.key), timeout: 10 }).survey("who?");
      assert.equal(s.responses.map((r) => r.message.text()).sort(), ["bun", "deno", "node"]);
    } finally {
      await me.close();
      for (const p of procs) await p.stop();
    }
  });
}

test("bus across runtimes: Node knows Deno and Bun; they learn Node from its message", async () => {
  const procs: Proc[] = [];
  const me = await node4();
  const got: string[] = [];
  try {
    const d = await peer("deno", "sync", "bus");
    const b = await peer("bun", "sync", "bus");
    procs.push(d, b);
    const mine = bus(me, (m) => got.push(m.text()), { peers: [d.key, b.key] });
    assert.is((await mine.send("hello bus")).delivered, 2);
    await d.line(/^got hello bus$/);
    await b.line(/^got hello bus$/);
    d.say("send from deno");
    assert.is(await d.line(/^sent/), "sent 1", "Deno learned Node only");
    await until(() => got.includes("from deno"), 10000, "Deno's message");
  } finally {
    await me.close();
    for (const p of procs) await p.stop();
  }
});

test("pair across runtimes: Bun pairs with Deno; Node is refused", async () => {
  const procs: Proc[] = [];
  const me = await node4();
  try {
    const d = await peer("deno", "sync", "pair");
    const b = await peer("bun", "sync", "pair", d.port);
    procs.push(d, b);
    b.say("send hi from bun");
    assert.is(await b.line(/^(sent|error)/), "sent");
    await d.line(/^got hi from bun$/);
    const err = await pair(me, () => {}, { peer: d.key }).send("me too").then(() => null, (e) => e);
    assert.instance(err, PairRefusedError);
    assert.match(err.message, new RegExp(`already paired with ${b.key.replace(/\./g, "\\.")}`));
  } finally {
    await me.close();
    for (const p of procs) await p.stop();
  }
});

test.run();
