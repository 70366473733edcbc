// Connection life cycle: reuse, idle garbage collection, reconnect, simultaneous dials,
// retiring idle connections, shutdown, and the core's fixed memory (protocol.md §4.5, §4.6, §5).
import * as net from "node:net";
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { Message } from "../adapters/index.ts";
import { node } from "./support/nodes.ts";
import { sleep, until, codeOf } from "./support/wait.ts";
import { RawPeer } from "./support/raw-peer.ts";
import { handshake, frame, text } from "./support/wire.ts";

test("a connection is reused for many sends, in both directions", async () => {
  const b = await node({ onMessage: (m) => m.release() });
  const a = await node({ onMessage: (m) => m.release() });
  for (let i = 0; i < 20; i++) await a.send(`127.0.0.1:${b.port}`, "x");
  assert.is(a.connectionCount, 1);
  assert.is(b.connectionCount, 1);
  // b -> a uses the same connection (remote key = a's address and handshake port).
  for (let i = 0; i < 5; i++) await b.send(`127.0.0.1:${a.port}`, "y");
  assert.is(a.connectionCount, 1);
  assert.is(b.connectionCount, 1);
  await a.close();
  await b.close();
});

test("idle connections are garbage-collected after R..2R and the next send reconnects", async () => {
  // R = max(reuseTime, 3·timeout) = 0.6 s
  const got: Message[] = [];
  const b = await node({ timeout: 0.2, reuseTime: 0.6, onMessage: (m) => { got.push(m); m.release(); } });
  const a = await node({ timeout: 0.2, reuseTime: 0.6 });
  await a.send(`127.0.0.1:${b.port}`, "first");
  assert.is(a.connectionCount, 1);
  await until(() => a.connectionCount === 0 && b.connectionCount === 0, 3000, "GC to close the idle connection");
  await a.send(`127.0.0.1:${b.port}`, "second");
  assert.equal(got.map((m) => m.text()), ["first", "second"]);
  await a.close();
  await b.close();
});

test("after the peer restarts on the same port, sends reconnect and see the new identity", async () => {
  const got: Message[] = [];
  let b = await node({ onMessage: (m) => { got.push(m); m.release(); } });
  const port = b.port;
  const replies: Message[] = [];
  const a = await node({ onMessage: (m) => { replies.push(m); m.release(); } });
  await a.send(`127.0.0.1:${port}`, "one");
  const firstId = b.identity;
  await b.close();
  b = await node({ port, onMessage: (m) => { m.release(); m.reply("hi").catch(() => {}); } });
  // The first send after the restart may fail (the old connection's EOF, or the debounce);
  // sends carry on after that.
  let ok = false;
  for (let i = 0; i < 20 && !ok; i++) {
    ok = await a.send(`127.0.0.1:${port}`, "two").then(() => true, () => false);
    if (!ok) await sleep(100);
  }
  assert.ok(ok, "a reconnected to the restarted peer");
  await until(() => replies.length >= 1);
  assert.not.equal(replies[0].remoteIdentity, firstId);
  assert.equal(replies[0].remoteIdentity, b.identity);
  await a.close();
  await b.close();
});

test("simultaneous connects from both sides: every message arrives, both ways", async () => {
  for (const synchronous of [true, false]) {
    const gotA: string[] = [];
    const gotB: string[] = [];
    const a = await node({ synchronous, onMessage: (m) => { gotA.push(m.text()); m.release(); } });
    const b = await node({ synchronous, onMessage: (m) => { gotB.push(m.text()); m.release(); } });
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < 10; i++) {
      sends.push(a.send(`127.0.0.1:${b.port}`, `a${i}`));
      sends.push(b.send(`127.0.0.1:${a.port}`, `b${i}`));
    }
    await Promise.all(sends);
    await until(() => gotA.length === 10 && gotB.length === 10);
    assert.equal(gotB.slice().sort(), Array.from({ length: 10 }, (_, i) => `a${i}`).sort());
    assert.equal(gotA.slice().sort(), Array.from({ length: 10 }, (_, i) => `b${i}`).sort());
    await a.close();
    await b.close();
  }
});

test("a send after 0.75·R idle goes over a new connection, not the one the peer may be collecting (protocol.md §4.6)", async () => {
  // A raw peer that listens (answering each dial with its handshake) and dials b itself,
  // announcing its listening port; b's sends to it use that connection while it is fresh.
  const accepted: RawPeer[] = [];
  const srv = net.createServer((s) => {
    const p = new RawPeer(s);
    accepted.push(p);
    s.write(handshake(port));
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as net.AddressInfo).port;
  const b = await node({ synchronous: false, timeout: 0.2, reuseTime: 1.2, onMessage: (m) => m.release() });
  const peer = await RawPeer.connect(b.port);
  peer.write(handshake(port));
  peer.write(frame({ data: text("hello") }));
  await sleep(100);
  await b.send(`127.0.0.1:${port}`, "early");
  await peer.until(() => peer.frames().length === 1, 2000, "first frame on the peer's connection");
  assert.is(accepted.length, 0, "no dial while the connection is fresh");
  // Idle past 0.75·R = 0.9 s, but not past R = 1.2 s (GC).
  await sleep(1000);
  await b.send(`127.0.0.1:${port}`, "late");
  await until(() => accepted.length === 1 && accepted[0].frames().length === 1, 2000, "the send over a new connection");
  const fr = accepted[0].frames()[0];
  assert.is(fr.type, 0);
  assert.is(new TextDecoder().decode(fr.data), "late");
  assert.is(peer.frames().length, 1, "nothing more on the idle connection (no NOOP either)");
  assert.not.ok(peer.closed, "the idle connection is left to garbage collection, not closed at once");
  // The next send uses the new connection.
  await b.send(`127.0.0.1:${port}`, "again");
  await until(() => accepted[0].frames().length === 2, 2000, "the second send");
  assert.is(accepted.length, 1);
  peer.close();
  for (const p of accepted) p.close();
  await b.close();
  await new Promise<void>((r) => srv.close(() => r()));
});

test("close() drains: in-flight and queued sends settle first, new sends are refused at once", async () => {
  const held: Message[] = [];
  const b = await node({ onMessage: (m) => held.push(m) });
  const a = await node();
  const outcome = (p: Promise<unknown>): Promise<string> => p.then(() => "ok", (e) => e.code);
  const p1 = outcome(a.send(`127.0.0.1:${b.port}`, "in flight"));
  const p2 = outcome(a.send(`127.0.0.1:${b.port}`, "queued"));
  await until(() => held.length === 1);
  let closed = false;
  const closing = a.close().then(() => { closed = true; });
  assert.is(await codeOf(a.send(`127.0.0.1:${b.port}`, "late")), "SHUTDOWN");
  await sleep(50);
  assert.not.ok(closed, "close waits for the unacknowledged send");
  held[0].release(); // b still reads from a while a drains
  await until(() => held.length === 2);
  held[1].release();
  await closing;
  assert.is(await p1, "ok");
  assert.is(await p2, "ok");
  assert.is(a.connectionCount, 0);
  await b.close();
});

// Was "close fails queued sends with SHUTDOWN": close() now drains (issue 14); failing at once is
// close({ drain: false }).
test("close({ drain: false }) fails queued sends with SHUTDOWN, later sends too, and resolves when sockets are closed", async () => {
  const held: Message[] = [];
  const b = await node({ onMessage: (m) => held.push(m) });
  const a = await node();
  const p1 = codeOf(a.send(`127.0.0.1:${b.port}`, "in flight"));
  const p2 = codeOf(a.send(`127.0.0.1:${b.port}`, "queued"));
  await until(() => held.length === 1);
  await a.close({ drain: false });
  assert.is(await p1, "SHUTDOWN");
  assert.is(await p2, "SHUTDOWN");
  assert.is(await codeOf(a.send(`127.0.0.1:${b.port}`, "late")), "SHUTDOWN");
  assert.is(a.connectionCount, 0);
  held[0].release(); // releasing after the connection closed is allowed
  await b.close();
  await b.close(); // idempotent
});

test("the core's wasm memory never grows: heavy traffic, many connections, garbage", async () => {
  const b = await node({ synchronous: false, maxMsgSize: 1 << 21, onMessage: (m) => m.release() });
  const a = await node({ synchronous: false });
  const memA = a.coreMemoryBytes;
  const memB = b.coreMemoryBytes;
  const sends: Promise<unknown>[] = [];
  for (let i = 0; i < 20000; i++) sends.push(a.send(`127.0.0.1:${b.port}`, new Uint8Array(i % 100)));
  for (let i = 0; i < 5; i++) sends.push(a.send(`127.0.0.1:${b.port}`, new Uint8Array(1 << 20)));
  await Promise.all(sends);
  for (let round = 0; round < 5; round++) {
    const nodes = await Promise.all(Array.from({ length: 20 }, () => node({ synchronous: false })));
    await Promise.all(nodes.map((n) => n.send(`127.0.0.1:${b.port}`, "hi")));
    await Promise.all(nodes.map((n) => n.close()));
  }
  for (let i = 0; i < 20; i++) {
    const p = await RawPeer.connect(b.port);
    p.write(handshake(1));
    p.write(crypto.getRandomValues(new Uint8Array(500)));
    await sleep(5);
    p.close();
  }
  await a.send(`127.0.0.1:${b.port}`, "still fine");
  assert.is(a.coreMemoryBytes, memA);
  assert.is(b.coreMemoryBytes, memB);
  await a.close();
  await b.close();
});

test.run();
