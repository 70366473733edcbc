// Host names in targets, through the resolver hook (config.resolve, a fake resolver here):
// a send by name reaches the node and is filed under its address (replies, stats with the name
// as a label, one remote for name and address); concurrent sends cause one lookup; several
// addresses are tried in order; a name that does not resolve, or a resolver that never
// answers, fails every queued send with CANNOT_CONNECT naming the host within the connect
// timeout; a result is used for resolveCacheTime, and a name that moved is reached at its new
// address after it; a close fails the sends waiting for a lookup, whose queue is bounded by
// maxQueued. The runtime's own resolver: names-netns.test.ts.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Chirp, type Message } from "../adapters/index.ts";
import { node4, node } from "./support/nodes.ts";
import { failure, sleep, until } from "./support/wait.ts";
import { parseTarget } from "../adapters/target.ts";
import { bus, publisher, puller, pusher, respondent, subscriber, surveyor } from "../patterns/mod.ts";

const text = (m: Message): string => new TextDecoder().decode(m.data);

/** A resolver from a table, counting its calls. */
function fake(table: Record<string, string[] | Error>) {
  const calls: string[] = [];
  const resolve = async (host: string): Promise<string[]> => {
    calls.push(host);
    await sleep(5);
    const v = table[host];
    if (v === undefined) throw new Error(`ENOTFOUND ${host}`);
    if (v instanceof Error) throw v;
    return v;
  };
  return { calls, resolve, table };
}

/** A node that keeps what it receives (released at once). */
async function sink(cfg = {}) {
  const got: Message[] = [];
  const n = await node4({ ...cfg, onMessage: (m) => { got.push(m); m.release(); } });
  return { n, got };
}

test("targets: names parse as names, IP-like and malformed hosts are VALUE_ERROR", () => {
  assert.equal(parseTarget("db.internal:2998"), { address: null, host: "db.internal", port: 2998 });
  assert.equal(parseTarget("my-svc_1.ns.svc.cluster.local.:80"), { address: null, host: "my-svc_1.ns.svc.cluster.local.", port: 80 });
  assert.equal(parseTarget({ address: "db", port: 5 }), { address: null, host: "db", port: 5 });
  assert.equal(parseTarget("localhost:7").address, "127.0.0.1");
  for (const bad of ["1.2.3:5", "300.1.1.1:5", "bad_host!:5", "-lead.example:5", "a..b:5", "db.internal:0"]) {
    assert.throws(() => parseTarget(bad), (e: { code?: string }) => e.code === "VALUE_ERROR", bad);
  }
});

test("config: resolve must be a function, resolveCacheTime 0..86400", async () => {
  for (const cfg of [{ resolve: "dns" }, { resolveCacheTime: -1 }, { resolveCacheTime: 1e6 }]) {
    const f = await failure(Chirp.start({ port: 0, ...(cfg as object) }));
    assert.is(f.code, "VALUE_ERROR", JSON.stringify(cfg));
  }
});

test("a send by name reaches the node; the remote is its address (one remote, replies, stats name)", async () => {
  const { n: b, got } = await sink();
  const r = fake({ "b.test": ["127.0.0.1"] });
  const a = await node4({ resolve: r.resolve });
  const replies: string[] = [];
  await a.send(`b.test:${b.port}`, "one");
  await a.send(`127.0.0.1:${b.port}`, "two");
  await a.send({ address: "b.test", port: b.port }, "three");
  await until(() => got.length === 3, 5000, "three messages");
  assert.equal(got.map(text), ["one", "two", "three"]);
  // One connection, one remote, labelled with the name.
  const per = a.stats().perRemote;
  assert.is(per.length, 1);
  assert.is(per[0].address, "127.0.0.1");
  assert.is(per[0].port, b.port);
  assert.is(per[0].name, "b.test");
  assert.is(per[0].messagesOut, 3);
  assert.is(a.connectionCount, 1);
  // A reply to a message sent by name comes back to the sender.
  const echo = await node4({ onMessage: (m) => { void m.reply(`re:${text(m)}`).catch(() => {}); m.release(); } });
  const viaName = await node4({ resolve: fake({ "echo.test": ["127.0.0.1"] }).resolve, onMessage: (m) => { replies.push(text(m)); m.release(); } });
  await viaName.send(`echo.test:${echo.port}`, "ping");
  await until(() => replies.length === 1, 5000, "the reply");
  assert.equal(replies, ["re:ping"]);
  assert.is(r.calls.length, 1, "one lookup for three sends");
});

test("concurrent sends to an unresolved name: one lookup, every send delivered in order", async () => {
  const { n: b, got } = await sink({ synchronous: false });
  const r = fake({ "burst.test": ["127.0.0.1"] });
  const a = await node4({ resolve: r.resolve, synchronous: false });
  const sends = Array.from({ length: 50 }, (_, i) => a.send(`burst.test:${b.port}`, `m${i}`));
  await Promise.all(sends);
  await until(() => got.length === 50, 5000, "50 messages");
  assert.equal(got.map(text), Array.from({ length: 50 }, (_, i) => `m${i}`));
  assert.equal(r.calls, ["burst.test"]);
});

test("several addresses: tried in order until one connects; the remote is the one that did", async () => {
  // b listens on IPv4 only: ::1 refuses (or is unreachable), 127.0.0.1 answers.
  const { n: b, got } = await sink();
  const r = fake({ "two.test": ["::1", "127.0.0.1"] });
  const a = await node({ resolve: r.resolve, bindV6: null });
  const ids = await Promise.all([a.send(`two.test:${b.port}`, "x"), a.send(`two.test:${b.port}`, "y")]);
  assert.is(ids.length, 2);
  await until(() => got.length === 2, 5000, "two messages");
  assert.equal(got.map(text), ["x", "y"]);
  assert.is(got[0].address, "127.0.0.1");
  const live = a.stats().perRemote.filter((p) => p.connections > 0);
  assert.equal(live.map((p) => [p.address, p.name]), [["127.0.0.1", "two.test"]]);
  // Every address refusing: CANNOT_CONNECT naming the host and its addresses.
  const { n: gone } = await sink();
  const port = gone.port;
  await gone.close();
  const f = await failure(a.send(`two.test:${port}`, "z"));
  assert.is(f.code, "CANNOT_CONNECT");
  assert.match(f.message, /two\.test/);
  assert.match(f.message, /::1, 127\.0\.0\.1/);
});

test("a name that does not resolve: every queued send rejects with CANNOT_CONNECT naming the host and the error", async () => {
  const r = fake({ "nx.test": new Error("ENOTFOUND nx.test (test resolver)") });
  const a = await node4({ resolve: r.resolve });
  const fails = await Promise.all([1, 2, 3].map(() => failure(a.send("nx.test:4000", "x"))));
  for (const f of fails) {
    assert.is(f.code, "CANNOT_CONNECT");
    assert.match(f.message, /cannot resolve host "nx\.test": ENOTFOUND nx\.test \(test resolver\)/);
  }
  assert.is(r.calls.length, 1, "one lookup for the three sends");
  // Not cached: the next send asks again (and a resolver returning junk fails it too).
  r.table["nx.test"] = ["not-an-ip"];
  const g = await failure(a.send("nx.test:4000", "x"));
  assert.is(g.code, "CANNOT_CONNECT");
  assert.match(g.message, /not an IP address/);
  r.table["nx.test"] = [];
  assert.match((await failure(a.send("nx.test:4000", "x"))).message, /no addresses/);
  assert.is(r.calls.length, 3);
});

test("a resolver that never answers: the sends fail within the connect timeout", async () => {
  // timeout 0.2 s: the connect timeout is min(2·0.2, 60) = 0.4 s.
  const a = await node4({ timeout: 0.2, resolve: () => new Promise<string[]>(() => {}) });
  const t0 = performance.now();
  const f = await failure(a.send("hang.test:4000", "x"));
  const ms = performance.now() - t0;
  assert.is(f.code, "CANNOT_CONNECT");
  assert.match(f.message, /cannot resolve host "hang\.test": no answer within 400 ms/);
  assert.ok(ms >= 350, `failed after ${ms.toFixed(0)} ms, before the connect timeout`);
});

test("cache time: a result is reused for resolveCacheTime; a moved name is reached at its new address after it", async () => {
  // Two nodes on the same port: one on 127.0.0.1, one on ::1 (skipped where there is no IPv6).
  const { n: old, got: oldGot } = await sink({ bindV4: "127.0.0.1" });
  let moved: Awaited<ReturnType<typeof sink>> | null = null;
  try {
    moved = await sink({ port: old.port, bindV4: null, bindV6: "::1" });
  } catch (e) {
    console.log(`skipped the move half: no IPv6 listener on ::1 (${(e as Error).message})`);
  }
  const r = fake({ "svc.test": ["127.0.0.1"] });
  const a = await node({ resolve: r.resolve, resolveCacheTime: 0.3 });
  await a.send(`svc.test:${old.port}`, "1");
  await a.send(`svc.test:${old.port}`, "2");
  assert.is(r.calls.length, 1, "reused within the cache time");
  r.table["svc.test"] = moved ? ["::1"] : ["127.0.0.1"];
  await a.send(`svc.test:${old.port}`, "3"); // still cached: the old address
  await sleep(400);
  await a.send(`svc.test:${old.port}`, "4");
  assert.is(r.calls.length, 2, "looked up again after the cache time");
  assert.equal(oldGot.map(text), moved ? ["1", "2", "3"] : ["1", "2", "3", "4"]);
  if (moved) {
    await until(() => moved!.got.length === 1, 5000, "the message at the new address");
    assert.is(text(moved.got[0]), "4");
    assert.is(moved.got[0].address, "::1");
  }
  // resolveCacheTime 0: every send after the last lookup asks again.
  const z = fake({ "svc.test": ["127.0.0.1"] });
  const b = await node4({ resolve: z.resolve, resolveCacheTime: 0 });
  await b.send(`svc.test:${old.port}`, "a");
  await b.send(`svc.test:${old.port}`, "b");
  assert.is(z.calls.length, 2);
});

test("close while a lookup runs: the waiting sends fail with SHUTDOWN at once", async () => {
  const a = await Chirp.start({ port: 0, bindV6: null, resolve: () => new Promise<string[]>(() => {}) });
  const sends = [a.send("slow.test:4000", "x"), a.send("slow.test:4000", "y")].map(failure);
  await sleep(20);
  const t0 = performance.now();
  await a.close();
  const fails = await Promise.all(sends);
  assert.ok(performance.now() - t0 < 1000, "settled with the close");
  assert.equal(fails.map((f) => f.code), ["SHUTDOWN", "SHUTDOWN"]);
  assert.is((await failure(a.send("slow.test:4000", "z"))).code, "SHUTDOWN");
});

test("the per-name queue is bounded by maxQueued while the lookup runs", async () => {
  let answer: (v: string[]) => void = () => {};
  const a = await node4({ maxQueued: 2, resolve: () => new Promise<string[]>((r) => { answer = r; }) });
  const { n: b, got } = await sink();
  const first = [a.send(`q.test:${b.port}`, "1"), a.send(`q.test:${b.port}`, "2")];
  const f = await failure(a.send(`q.test:${b.port}`, "3"));
  assert.is(f.code, "ENOMEM");
  assert.match(f.message, /q\.test/);
  answer(["127.0.0.1"]);
  await Promise.all(first);
  await until(() => got.length === 2, 5000, "the two queued sends");
  assert.equal(got.map(text), ["1", "2"]);
});

test("Chirp.lookup: an address as it is, a name through the resolver, CANNOT_CONNECT for a bad one", async () => {
  assert.equal(await Chirp.lookup("127.0.0.1:5"), [{ address: "127.0.0.1", port: 5 }]);
  assert.equal(await Chirp.lookup("[::1]:6"), [{ address: "::1", port: 6 }]);
  const r = fake({ "x.test": ["10.0.0.1", "0:0:0:0:0:0:0:1", "10.0.0.1"] });
  assert.equal(await Chirp.lookup("x.test:7", r.resolve), [{ address: "10.0.0.1", port: 7 }, { address: "::1", port: 7 }]);
  const f = await failure(Chirp.lookup("y.test:7", r.resolve));
  assert.is(f.code, "CANNOT_CONNECT");
  assert.match(f.message, /cannot resolve host "y\.test": ENOTFOUND y\.test/);
  assert.is((await failure(Chirp.lookup("bad!:7", r.resolve))).code, "VALUE_ERROR");
});

test("patterns with peers by name: answers, members and subscriptions match the name (Chirp.targetOf)", async () => {
  const names: Record<string, string[]> = { "r1.test": ["127.0.0.1"], "r2.test": ["127.0.0.1"], "b.test": ["127.0.0.1"], "pub.test": ["127.0.0.1"] };
  const resolve = fake(names).resolve;
  // Survey: every respondent by name answers, so the survey ends early, each answer under its name.
  const rs = await Promise.all(["r1", "r2"].map((n) => node4({ onMessage: respondent((m) => `${n}:${m.text()}`) })));
  const s0 = await node4({ resolve });
  const sv = surveyor(s0, { respondents: [`r1.test:${rs[0].port}`, `r2.test:${rs[1].port}`], timeout: 5 });
  const t0 = Date.now();
  const result = await sv.survey("up?");
  assert.ok(Date.now() - t0 < 2500, "ended before its deadline: every named respondent answered");
  assert.equal(result.responses.map((r) => r.from).sort(), [`r1.test:${rs[0].port}`, `r2.test:${rs[1].port}`]);
  assert.equal(result.missing, []);
  assert.is(s0.targetOf({ address: "127.0.0.1", port: rs[0].port }), `r1.test:${rs[0].port}`);
  assert.is(s0.targetOf({ address: "::1", port: 9 }), "[::1]:9");
  // Bus: a peer listed by name and the same peer seen as a sender are one member.
  const [a, b] = await Promise.all([node4({ resolve }), node4()]);
  const gotA: string[] = [];
  const A = bus(a, (m) => gotA.push(m.text()), { peers: [`b.test:${b.port}`] });
  const B = bus(b, () => {});
  await A.send("hello");
  await until(() => B.members.length === 1, 3000, "B learns A");
  await B.send("hi");
  await until(() => gotA.length === 1, 3000, "B's message at A");
  assert.equal(A.members, [`b.test:${b.port}`]);
  // Pub/sub: a subscriber that names its publisher gets its deliveries.
  const p = await node4();
  const pub = publisher(p);
  const sn = await node4({ resolve });
  const topics: string[] = [];
  const sub = subscriber(sn, (topic) => topics.push(topic));
  await sub.subscribe(`pub.test:${p.port}`, "news");
  await until(() => pub.subscribers.length === 1, 3000, "the subscription");
  await pub.publish("news.today", "x");
  await until(() => topics.length === 1, 3000, "the delivery");
  assert.equal(topics, ["news.today"]);
  // Push/pull: workers listed by name do the work; results name the worker as given.
  const ws = await Promise.all(["w1", "w2"].map((n) => node4({ onMessage: puller((m: Message) => `${n}:${m.text()}`) })));
  const pn = await node4({ resolve: fake({ "w1.test": ["127.0.0.1"], "w2.test": ["127.0.0.1"] }).resolve });
  const push = pusher(pn, { workers: [`w1.test:${ws[0].port}`, `w2.test:${ws[1].port}`] });
  const results = await Promise.all(Array.from({ length: 6 }, (_, i) => push.push(`i${i}`)));
  assert.equal(new Set(results.map((r) => r.worker)), new Set([`w1.test:${ws[0].port}`, `w2.test:${ws[1].port}`]));
  results.forEach((r, i) => assert.match(new TextDecoder().decode(r.data), new RegExp(`^w[12]:i${i}$`)));
});

test.run();
