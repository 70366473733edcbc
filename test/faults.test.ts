// Faults: timeouts, refused ports, silent and vanishing peers, garbage and oversized frames.
// A bad connection gets a clear error and costs only itself (protocol.md §1.5, §3.5, §4.3, §10).
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { Message } from "../adapters/index.ts";
import { node } from "./support/nodes.ts";
import { sleep, until, codeOf } from "./support/wait.ts";
import { RawPeer, silentServer, refusedPort } from "./support/raw-peer.ts";
import { handshake, frame, text } from "./support/wire.ts";

test("sync send to a receiver that never releases fails with TIMEOUT", async () => {
  const b = await node({ onMessage: () => {} });
  const a = await node({ timeout: 0.3 });
  const t0 = Date.now();
  assert.is(await codeOf(a.send(`127.0.0.1:${b.port}`, "x")), "TIMEOUT");
  assert.ok(Date.now() - t0 >= 250);
  await a.close();
  await b.close();
});

test("send timeout is not cancelled by an interleaved ACK (libchirp §4.3 bug fixed)", async () => {
  // b holds a's message (so a's send waits), while b keeps sending to a so that a writes ACKs
  // on the same connection. a's send must still fail with TIMEOUT, not hang until GC.
  const b = await node({ onMessage: () => {} });
  const a = await node({ timeout: 0.5, onMessage: (m) => m.release() });
  const p = codeOf(a.send(`127.0.0.1:${b.port}`, "held"));
  await sleep(50);
  for (let i = 0; i < 5; i++) {
    await b.send(`127.0.0.1:${a.port}`, `tick${i}`);
    await sleep(50);
  }
  assert.is(await p, "TIMEOUT");
  await a.close();
  await b.close();
});

test("refused port fails with CANNOT_CONNECT", async () => {
  const a = await node();
  const port = await refusedPort();
  assert.is(await codeOf(a.send(`127.0.0.1:${port}`, "x")), "CANNOT_CONNECT");
  await a.close();
});

test("a peer that accepts and never speaks: connect TIMEOUT after min(2T, 60)", async () => {
  const srv = await silentServer();
  const a = await node({ timeout: 0.2 });
  const t0 = Date.now();
  assert.is(await codeOf(a.send(`127.0.0.1:${srv.port}`, "x")), "TIMEOUT");
  assert.ok(Date.now() - t0 >= 350, "connect timeout is 2·T");
  await a.close();
  await srv.close();
});

test("a silent incoming connection is closed after the handshake timeout (libchirp keeps it)", async () => {
  const b = await node({ timeout: 0.2 });
  const peer = await RawPeer.connect(b.port);
  await peer.until(() => peer.buf.length >= 18, 2000, "b's handshake");
  await peer.until(() => peer.closed, 3000, "b to close the silent connection");
  assert.is(b.connectionCount, 0);
  await b.close();
});

test("a handshake split across reads is accepted (libchirp closes)", async () => {
  const got: Message[] = [];
  const b = await node({ synchronous: false, onMessage: (m) => { got.push(m); m.release(); } });
  const peer = await RawPeer.connect(b.port);
  const hs = handshake(4000);
  peer.write(hs.subarray(0, 10));
  await sleep(100);
  peer.write(hs.subarray(10));
  await sleep(50);
  const f = frame({ data: text("after split") });
  peer.write(f.subarray(0, 5));
  await sleep(50);
  peer.write(f.subarray(5));
  await until(() => got.length === 1);
  assert.is(got[0].text(), "after split");
  assert.is(got[0].port, 4000);
  assert.is(peer.closed, false);
  peer.close();
  await b.close();
});

for (const [name, bytes, code] of [
  ["an ACK with a payload", frame({ type: 2, data: text("x") }), "PROTOCOL_ERROR"],
  ["type 0x03 (ACK with REQ_ACK)", frame({ type: 3 }), "PROTOCOL_ERROR"],
  ["a NOOP with a header", frame({ type: 4, header: text("h") }), "PROTOCOL_ERROR"],
  ["an oversized frame (data_len > maxMsgSize)", frame({ dataLen: 5000 }), "ENOMEM"],
  ["header_len + data_len that wraps at 2^32", frame({ headerLen: 1, dataLen: 0xffffffff }), "ENOMEM"],
] as const) {
  test(`${name}: that connection closes with ${code}; other connections carry on`, async () => {
    const errors: Error[] = [];
    const got: Message[] = [];
    const b = await node({ maxMsgSize: 4096, onMessage: (m) => { got.push(m); m.release(); }, onError: (e) => errors.push(e) });
    const a = await node();
    await a.send(`127.0.0.1:${b.port}`, "before");
    const peer = await RawPeer.connect(b.port);
    peer.write(handshake(1));
    peer.write(bytes);
    await peer.until(() => peer.closed, 3000, "b to close the bad connection");
    await until(() => errors.length === 1);
    assert.is((errors[0] as { code?: string }).code, code);
    await a.send(`127.0.0.1:${b.port}`, "after");
    assert.equal(got.map((m) => m.text()), ["before", "after"]);
    await a.close();
    await b.close();
  });
}

test("exactly maxMsgSize is accepted", async () => {
  const got: Message[] = [];
  const b = await node({ maxMsgSize: 4096, onMessage: (m) => { got.push(m); m.release(); } });
  const a = await node();
  await a.send(`127.0.0.1:${b.port}`, new Uint8Array(4000), { header: new Uint8Array(96) });
  assert.is(got[0].data.length, 4000);
  await a.close();
  await b.close();
});

test("unknown type bits are ignored and delivered raw; 0x06 counts as a NOOP", async () => {
  const got: Message[] = [];
  const b = await node({ synchronous: false, onMessage: (m) => { got.push(m); m.release(); } });
  const peer = await RawPeer.connect(b.port);
  peer.write(handshake(1));
  peer.write(frame({ type: 6, identity: new Uint8Array(16) }));
  peer.write(frame({ type: 0x08, data: text("bits") }));
  await until(() => got.length === 1);
  assert.is(got[0].type, 0x08);
  assert.is(got[0].text(), "bits");
  assert.is(peer.closed, false);
  peer.close();
  await b.close();
});

test("a peer that vanishes before acknowledging fails the sync send with PROTOCOL_ERROR", async () => {
  const a = await node({ timeout: 5 });
  // b holds the message, then goes away without releasing it: a sees the connection close.
  const held: Message[] = [];
  const b = await node({ onMessage: (m) => held.push(m) });
  const p = codeOf(a.send(`127.0.0.1:${b.port}`, "doomed"));
  await until(() => held.length === 1);
  await b.close();
  assert.is(await p, "PROTOCOL_ERROR");
  await a.close();
});

test("garbage right after the handshake from many peers does not disturb a busy exchange", async () => {
  const got: Message[] = [];
  const b = await node({ synchronous: false, maxMsgSize: 1 << 16, onMessage: (m) => { got.push(m); m.release(); } });
  const a = await node({ synchronous: false });
  const sends: Promise<unknown>[] = [];
  for (let i = 0; i < 500; i++) sends.push(a.send(`127.0.0.1:${b.port}`, `n${i}`));
  const peers: RawPeer[] = [];
  for (let i = 0; i < 20; i++) {
    const p = await RawPeer.connect(b.port);
    p.write(handshake(1));
    p.write(crypto.getRandomValues(new Uint8Array(200)));
    peers.push(p);
  }
  await Promise.all(sends);
  await until(() => got.length === 500);
  for (let i = 0; i < 500; i++) assert.is(got[i].text(), `n${i}`);
  for (const p of peers) p.close();
  await a.close();
  await b.close();
});

test.run();
