// Monitoring: stats() counters per remote and in total, connection events (open, close,
// identity), the Prometheus rendering and serveMetrics over real HTTP.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { renderPrometheus, type ChirpEvents, type ChirpStats, type Message } from "../adapters/index.ts";
import { serveMetrics } from "../adapters/monitor/http.ts";
import { toHex as hex } from "../adapters/monitor/stats.ts";
import { node } from "./support/nodes.ts";
import { until } from "./support/wait.ts";
import { RawPeer, refusedPort } from "./support/raw-peer.ts";
import { handshake } from "./support/wire.ts";


function recorder(n: Awaited<ReturnType<typeof node>>): { [K in keyof ChirpEvents]: ChirpEvents[K][] } {
  const seen = { open: [] as ChirpEvents["open"][], close: [] as ChirpEvents["close"][], identity: [] as ChirpEvents["identity"][] };
  n.on("open", (e) => seen.open.push(e));
  n.on("close", (e) => seen.close.push(e));
  n.on("identity", (e) => seen.identity.push(e));
  return seen;
}

test("sync: counters follow messages, slots, queue, ACK round trip, per remote and in total", async () => {
  const held: Message[] = [];
  const b = await node({ synchronous: true, onMessage: (m) => held.push(m) });
  const a = await node({ synchronous: true });
  const to = `127.0.0.1:${b.port}`;
  const sends = [a.send(to, "abcd", { header: "H" }), a.send(to, "efgh", { header: "H" }), a.send(to, "ijkl", { header: "H" })];
  await until(() => held.length === 1, 5000, "first message");
  const bs = b.stats();
  assert.is(bs.messagesIn, 1);
  assert.is(bs.bytesIn, 5);
  assert.is(bs.slotsInUse, 1);
  assert.is(bs.connections, 1);
  assert.is(bs.perRemote.length, 1);
  assert.is(bs.perRemote[0].port, a.port);
  assert.is(bs.perRemote[0].identity, hex(a.identity));
  assert.is(bs.perRemote[0].slotsInUse, 1);
  const as = a.stats();
  assert.is(as.unacked, 1);
  assert.is(as.queued, 2);
  assert.is(as.messagesOut, 1);
  assert.is(as.perRemote[0].identity, hex(b.identity));
  assert.is(as.lastAckRttMs, null);
  for (let i = 0; i < 3; i++) {
    await until(() => held.length > i, 5000, `message ${i}`);
    held[i].release();
  }
  await Promise.all(sends);
  const a2 = a.stats();
  const b2 = b.stats();
  assert.is(a2.messagesOut, 3);
  assert.is(a2.bytesOut, 15);
  assert.is(a2.unacked, 0);
  assert.is(a2.queued, 0);
  assert.ok(typeof a2.lastAckRttMs === "number" && a2.lastAckRttMs >= 0);
  assert.is(a2.perRemote[0].lastAckRttMs, a2.lastAckRttMs);
  assert.is(b2.messagesIn, 3);
  assert.is(b2.bytesIn, 15);
  assert.is(b2.slotsInUse, 0);
  assert.equal(a2.sendErrors, {});
  assert.is(a2.identity, hex(a.identity));
  assert.is(a2.port, a.port);
  assert.is(a2.synchronous, true);
  assert.is(a2.coreMemoryBytes, a.coreMemoryBytes);
  await a.close();
  await b.close();
});

test("async: counters of a burst and of replies both ways", async () => {
  const b = await node({ synchronous: false, onMessage: (m) => { m.release(); void m.reply(m.data).catch(() => {}); } });
  let replies = 0;
  const a = await node({ synchronous: false, onMessage: (m) => { replies++; m.release(); } });
  const to = `127.0.0.1:${b.port}`;
  await Promise.all(Array.from({ length: 200 }, (_, i) => a.send(to, new Uint8Array(i % 7))));
  await until(() => replies === 200, 5000, "replies");
  const bytes = Array.from({ length: 200 }, (_, i) => i % 7).reduce((x, y) => x + y, 0);
  const as = a.stats();
  const bs = b.stats();
  assert.is(as.messagesOut, 200);
  assert.is(as.bytesOut, bytes);
  assert.is(as.messagesIn, 200);
  assert.is(as.bytesIn, bytes);
  await until(() => b.stats().messagesOut === 200, 5000, "replies written");
  assert.is(b.stats().bytesOut, bytes);
  assert.is(bs.messagesIn, 200);
  assert.is(as.unacked, 0);
  assert.is(as.lastAckRttMs, null);
  await a.close();
  await b.close();
});

test("errors by code and close events: refused dial, garbage from a peer", async () => {
  const b = await node({ onMessage: (m) => m.release() });
  const seenB = recorder(b);
  const a = await node({});
  const seenA = recorder(a);
  const port = await refusedPort();
  const failed = await a.send(`127.0.0.1:${port}`, "x").then(() => "resolved", (e) => e.code);
  assert.is(failed, "CANNOT_CONNECT");
  const as = a.stats();
  assert.equal(as.sendErrors, { CANNOT_CONNECT: 1 });
  assert.equal(as.connectionErrors, { CANNOT_CONNECT: 1 });
  const r = as.perRemote.find((x) => x.port === port)!;
  assert.equal(r.sendErrors, { CANNOT_CONNECT: 1 });
  assert.is(r.identity, null);
  assert.is(seenA.close.length, 1);
  assert.is(seenA.close[0].code, "CANNOT_CONNECT");
  assert.is(seenA.close[0].opened, false);
  assert.is(seenA.close[0].port, port);
  assert.is(seenA.open.length, 0);

  const raw = await RawPeer.connect(b.port);
  raw.write(handshake(4321));
  raw.write(new Uint8Array(27).fill(0xff)); // header with an impossible length: invalid frame
  await raw.until(() => raw.closed, 5000, "b closes the garbage connection");
  await until(() => seenB.close.length === 1, 5000, "close event");
  assert.is(seenB.open.length, 1);
  assert.is(seenB.open[0].port, 4321);
  assert.is(seenB.open[0].outgoing, false);
  assert.ok(seenB.close[0].code === "PROTOCOL_ERROR" || seenB.close[0].code === "ENOMEM", String(seenB.close[0].code));
  const code = seenB.close[0].code!;
  assert.equal(b.stats().connectionErrors, { [code]: 1 });
  // The node still works.
  await a.send(`127.0.0.1:${b.port}`, "still fine");
  assert.is(b.stats().messagesIn, 1);
  await a.close();
  await b.close();
});

test("events: open on both sides, orderly close, identity change when a peer restarts", async () => {
  const b = await node({ onMessage: (m) => m.release() });
  const port = b.port;
  const seenB = recorder(b);
  const a = await node({});
  const seenA = recorder(a);
  const stop = a.on("open", () => {});
  stop();
  await a.send(`127.0.0.1:${port}`, "1");
  await until(() => seenB.open.length === 1 && seenA.open.length === 1, 5000, "open events");
  assert.equal(seenA.open[0], { type: "open", address: "127.0.0.1", port, outgoing: true, identity: hex(b.identity) });
  assert.equal(seenB.open[0], { type: "open", address: "127.0.0.1", port: a.port, outgoing: false, identity: hex(a.identity) });
  const oldIdentity = hex(b.identity);
  await b.close();
  await until(() => seenA.close.length === 1, 5000, "a sees the close");
  assert.is(seenA.close[0].code, null);
  assert.is(seenA.close[0].opened, true);
  const b2 = await node({ port, onMessage: (m) => m.release() });
  await a.send(`127.0.0.1:${port}`, "2");
  await until(() => seenA.identity.length === 1, 5000, "identity event");
  assert.equal(seenA.identity[0], { type: "identity", address: "127.0.0.1", port, previous: oldIdentity, current: hex(b2.identity) });
  assert.is(a.stats().perRemote.find((r) => r.port === port)!.identity, hex(b2.identity));
  assert.throws(() => a.on("nope" as "open", () => {}), /unknown event/);
  await a.close();
  await b2.close();
});

/** Parses Prometheus text: every sample line, with # HELP/# TYPE before each family. */
function parseProm(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  const typed = new Set<string>();
  for (const line of text.trimEnd().split("\n")) {
    const t = /^# TYPE (\w+) (counter|gauge)$/.exec(line);
    if (t) {
      typed.add(t[1]);
      continue;
    }
    if (line.startsWith("# HELP ")) continue;
    const m = /^(\w+)(\{[^}]*\})? (-?[\d.e+-]+|NaN)$/.exec(line);
    assert.ok(m, `not a sample line: ${line}`);
    assert.ok(typed.has(m![1]), `sample before its # TYPE: ${line}`);
    samples.set(m![1] + (m![2] ?? ""), Number(m![3]));
  }
  return samples;
}

test("Prometheus text and serveMetrics over HTTP (/metrics, /stats, 404)", async () => {
  const b = await node({ synchronous: true, onMessage: (m) => m.release() });
  const a = await node({ synchronous: true });
  for (let i = 0; i < 4; i++) await a.send(`127.0.0.1:${b.port}`, "12345678");
  await a.send(`127.0.0.1:${await refusedPort()}`).catch(() => {});
  const s = a.stats();
  const prom = parseProm(renderPrometheus(s));
  assert.is(prom.get("chirp_messages_out_total"), 4);
  assert.is(prom.get("chirp_bytes_out_total"), 32);
  assert.is(prom.get(`chirp_remote_messages_out_total{remote="127.0.0.1:${b.port}"}`), 4);
  assert.is(prom.get('chirp_send_errors_total{code="CANNOT_CONNECT"}'), 1);
  assert.is(prom.get("chirp_core_memory_bytes"), a.coreMemoryBytes);
  assert.ok(prom.get("chirp_last_ack_rtt_seconds")! >= 0);
  assert.ok(parseProm(renderPrometheus(s, "x")).has("x_remotes"));

  const server = await serveMetrics(b);
  try {
    const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    assert.is(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /text\/plain; version=0\.0\.4/);
    const served = parseProm(await res.text());
    assert.is(served.get("chirp_messages_in_total"), 4);
    assert.is(served.get(`chirp_remote_bytes_in_total{remote="127.0.0.1:${a.port}"}`), 32);
    const json = (await (await fetch(`http://127.0.0.1:${server.port}/stats`)).json()) as ChirpStats;
    assert.is(json.messagesIn, 4);
    assert.is(json.identity, hex(b.identity));
    assert.is(json.perRemote[0].port, a.port);
    const missing = await fetch(`http://127.0.0.1:${server.port}/nope`);
    assert.is(missing.status, 404);
    await missing.text();
  } finally {
    await server.close();
  }
  await a.close();
  await b.close();
});

test.run();
