// Patterns across runtimes: nodes on Node, Deno and Bun in separate processes
// (test/fixtures/pattern-peer.ts) run each pattern together. Runs once, from Node (test/run.mjs
// skips it on Deno and Bun); it starts processes on all three runtimes.
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { ChildProcess } from "node:child_process";
import { Chirp } from "../adapters/index.ts";
import type { RuntimeName } from "../adapters/runtime.ts";
import { until, spawnReady } from "../test/helpers.ts";
import { bus, pair, pusher, request, surveyor, PairRefusedError, text } from "./mod.ts";

interface Proc { rt: RuntimeName; child: ChildProcess; port: number; lines: string[]; key: string }

/** Starts pattern-peer.ts on `rt`; resolves at its "ready <port>" line. */
async function peer(rt: RuntimeName, mode: string, role: string, ...args: (string | number)[]): Promise<Proc> {
  const p = await spawnReady("test/fixtures/pattern-peer.ts", [mode, role, ...args.map(String)], rt);
  return { rt, ...p, key: `127.0.0.1:${p.port}` };
}

function say(p: Proc, line: string): void {
  p.child.stdin!.write(line + "\n");
}

/** Waits for a line matching `re` after index `from`; returns it. */
async function line(p: Proc, re: RegExp, from = 0, ms = 10000): Promise<string> {
  await until(() => p.lines.slice(from).some((l) => re.test(l)), ms, `${p.rt}: ${re}`);
  return p.lines.slice(from).find((l) => re.test(l))!;
}

function stop(p: Proc): Promise<number | null> {
  return new Promise((resolve) => {
    if (p.child.exitCode !== null) return resolve(p.child.exitCode);
    p.child.once("exit", (c) => resolve(c));
    p.child.stdin!.end();
  });
}

const runtimes: RuntimeName[] = ["node", "deno", "bun"];
const start = (cfg: Parameters<typeof Chirp.start>[0] = {}): Promise<Chirp> => Chirp.start({ port: 0, bindV6: null, ...cfg });

for (const mode of ["sync", "async"]) {
  test(`${mode}: a Bun publisher with Deno and Node subscribers: prefixes, unsubscribe, a subscriber that goes away`, async () => {
    const pub = await peer("bun", mode, "publisher");
    const procs: Proc[] = [pub];
    try {
      const dsub = await peer("deno", mode, "subscriber", pub.port, "a.");
      const nsub = await peer("node", mode, "subscriber", pub.port, "", "b.");
      procs.push(dsub, nsub);
      say(pub, "subscribers");
      assert.match(await line(pub, /^subscribers/), /^subscribers 2$/);
      let n = pub.lines.length;
      say(pub, "publish a.one first");
      assert.match(await line(pub, /^published/, n), /^published 2 $/);
      assert.is(await line(dsub, /^got a\.one/), "got a.one first");
      assert.is(await line(nsub, /^got a\.one/), "got a.one first");
      n = pub.lines.length;
      say(pub, "publish b.two second");
      assert.match(await line(pub, /^published/, n), /^published 1 $/, "only the Node subscriber wants b.");
      assert.is(await line(nsub, /^got b\.two/), "got b.two second");
      // Node drops its catch-all; it keeps "b.".
      const m = nsub.lines.length;
      say(nsub, "unsubscribe ");
      await line(nsub, /^unsubscribed/, m);
      n = pub.lines.length;
      say(pub, "publish a.three third");
      assert.match(await line(pub, /^published/, n), /^published 1 $/, "now only Deno wants a.");
      await line(dsub, /^got a\.three/);
      // Deno goes away: the publisher drops it on the next failed send.
      assert.is(await stop(dsub), 0);
      n = pub.lines.length;
      say(pub, "publish a.four fourth");
      assert.match(await line(pub, /^published/, n), new RegExp(`^published 0 ${dsub.key.replace(/\./g, "\\.")}$`));
      n = pub.lines.length;
      say(pub, "subscribers");
      assert.match(await line(pub, /^subscribers/, n), /^subscribers 1$/);
      assert.not.ok(nsub.lines.some((l) => l.startsWith("got a.three")), "Node unsubscribed from a.");
    } finally {
      for (const p of procs) await stop(p);
    }
  });

  test(`${mode}: request/reply, push/pull and survey from Node to Node, Deno and Bun processes`, async () => {
    const procs: Proc[] = [];
    const me = await start({ synchronous: mode === "sync" });
    try {
      const responders = await Promise.all(runtimes.map((rt) => peer(rt, mode, "responder")));
      const pullers = await Promise.all(runtimes.map((rt) => peer(rt, mode, "puller")));
      const respondents = await Promise.all(runtimes.map((rt) => peer(rt, mode, "respondent")));
      procs.push(...responders, ...pullers, ...respondents);
      for (const r of responders) assert.is((await request(me, r.key, "ping")).text(), `${r.rt}:ping`);
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
      for (const p of procs) await stop(p);
    }
  });
}

test("bus across runtimes: Node knows Deno and Bun; they learn Node from its message", async () => {
  const procs: Proc[] = [];
  const me = await start();
  const got: string[] = [];
  try {
    const d = await peer("deno", "sync", "bus");
    const b = await peer("bun", "sync", "bus");
    procs.push(d, b);
    const mine = bus(me, (m) => got.push(m.text()), { peers: [d.key, b.key] });
    assert.is((await mine.send("hello bus")).delivered, 2);
    await line(d, /^got hello bus$/);
    await line(b, /^got hello bus$/);
    say(d, "send from deno");
    assert.is(await line(d, /^sent/), "sent 1", "Deno learned Node only");
    await until(() => got.includes("from deno"), 10000, "Deno's message");
  } finally {
    await me.close();
    for (const p of procs) await stop(p);
  }
});

test("pair across runtimes: Bun pairs with Deno; Node is refused", async () => {
  const procs: Proc[] = [];
  const me = await start();
  try {
    const d = await peer("deno", "sync", "pair");
    const b = await peer("bun", "sync", "pair", d.port);
    procs.push(d, b);
    say(b, "send hi from bun");
    assert.is(await line(b, /^(sent|error)/), "sent");
    await line(d, /^got hi from bun$/);
    const err = await pair(me, () => {}, { peer: d.key }).send("me too").then(() => null, (e) => e);
    assert.instance(err, PairRefusedError);
    assert.match(err.message, new RegExp(`already paired with ${b.key.replace(/\./g, "\\.")}`));
  } finally {
    await me.close();
    for (const p of procs) await stop(p);
  }
});

test.run();
