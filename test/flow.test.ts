// Flow control: slots, backpressure and ACK-on-release (protocol.md §3.2, §3.6, §4.2).
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { Message } from "../adapters/index.ts";
import { node } from "./support/nodes.ts";
import { sleep, until, stateAfter } from "./support/wait.ts";
import { RawPeer } from "./support/raw-peer.ts";
import { handshake, frame } from "./support/wire.ts";

test("sync: the send settles only when the receiver releases (ACK on release)", async () => {
  const held: Message[] = [];
  const b = await node({ onMessage: (m) => held.push(m) });
  const a = await node();
  const p = a.send(`127.0.0.1:${b.port}`, "hold me");
  await until(() => held.length === 1);
  assert.is(await stateAfter(p, 300), "pending");
  held[0].release();
  await p;
  await a.close();
  await b.close();
});

test("sync: one unacknowledged message per remote; the next goes after the release", async () => {
  const held: Message[] = [];
  const b = await node({ onMessage: (m) => held.push(m) });
  const a = await node();
  const p1 = a.send(`127.0.0.1:${b.port}`, "1");
  const p2 = a.send(`127.0.0.1:${b.port}`, "2");
  await until(() => held.length === 1);
  await sleep(200);
  assert.is(held.length, 1, "second message must wait for the first ACK");
  held[0].release();
  await p1;
  await until(() => held.length === 2);
  assert.is(held[1].text(), "2");
  held[1].release();
  await p2;
  await a.close();
  await b.close();
});

test("async: a receiver that does not release gets exactly maxSlots messages, then one per release", async () => {
  const held: Message[] = [];
  const b = await node({ synchronous: false, maxSlots: 4, onMessage: (m) => held.push(m) });
  const a = await node({ synchronous: false });
  for (let i = 0; i < 20; i++) a.send(`127.0.0.1:${b.port}`, `m${i}`).catch(() => {});
  await until(() => held.length === 4);
  await sleep(200);
  assert.is(held.length, 4);
  held[0].release();
  await until(() => held.length === 5);
  await sleep(100);
  assert.is(held.length, 5);
  for (const m of held.slice(1)) m.release();
  await until(() => held.length === 9);
  while (held.length < 20) {
    for (const m of held) m.release();
    await sleep(10);
  }
  assert.equal(held.map((m) => m.text()), Array.from({ length: 20 }, (_, i) => `m${i}`));
  await a.close();
  await b.close();
});

test("async: a stalled receiver stalls the sender through TCP, and it resumes after releases", async () => {
  const held: Message[] = [];
  const b = await node({ synchronous: false, maxSlots: 1, onMessage: (m) => held.push(m) });
  const a = await node({ synchronous: false, timeout: 30 });
  const chunk = new Uint8Array(256 * 1024);
  const sends: Promise<unknown>[] = [];
  let settled = 0;
  for (let i = 0; i < 200; i++) sends.push(a.send(`127.0.0.1:${b.port}`, chunk).then(() => settled++));
  await until(() => held.length === 1);
  await sleep(500);
  // 50 MiB cannot all fit in socket buffers: the sender must be held back.
  assert.ok(settled < 200, `sender was not stalled: ${settled} of 200 sends settled`);
  assert.is(held.length, 1);
  const end = Date.now() + 20000;
  while (held.length < 200 && Date.now() < end) {
    for (const m of held) m.release();
    await sleep(5);
  }
  assert.is(held.length, 200);
  held[199].release();
  await Promise.all(sends);
  await a.close();
  await b.close();
});

test("sync: a raw peer sees an ACK with the message identity only after release", async () => {
  const held: Message[] = [];
  const b = await node({ onMessage: (m) => held.push(m) });
  const peer = await RawPeer.connect(b.port);
  peer.write(handshake(1));
  const id = crypto.getRandomValues(new Uint8Array(16));
  peer.write(frame({ identity: id, type: 1, data: new Uint8Array([1, 2, 3]) }));
  await until(() => held.length === 1);
  await sleep(100);
  assert.is(peer.frames().length, 0, "no ACK before release");
  held[0].release();
  await peer.until(() => peer.frames().length === 1, 5000, "the ACK");
  const ack = peer.frames()[0];
  assert.is(ack.type, 2);
  assert.equal(ack.identity, id);
  assert.is(ack.data.length, 0);
  peer.close();
  await b.close();
});

for (const synchronous of [true, false]) {
  test(`${synchronous ? "sync" : "async"}: a send beyond maxQueued is refused at once with ENOMEM; the queued ones go on`, async () => {
    const got: string[] = [];
    const b = await node({ synchronous, onMessage: (m) => { got.push(m.text()); m.release(); } });
    const a = await node({ synchronous, maxQueued: 3 });
    const to = `127.0.0.1:${b.port}`;
    const queued = [a.send(to, "1"), a.send(to, "2"), a.send(to, "3")];
    const refused = a.send(to, "4");
    assert.is(await stateAfter(refused, 0), "rejected");
    const err = await refused.catch((e) => e);
    assert.is(err.code, "ENOMEM");
    assert.match(err.message, /maxQueued 3/);
    await Promise.all(queued);
    await a.send(to, "5"); // the queue drained: room again
    await until(() => got.length === 4);
    assert.equal(got, ["1", "2", "3", "5"]);
    assert.equal(a.stats().sendErrors, { ENOMEM: 1 });
    await a.close();
    await b.close();
  });
}

test("maxQueued is validated", async () => {
  for (const bad of [0, -1, 1.5, 2 ** 25]) {
    const e = await node({ maxQueued: bad }).then(() => null, (x) => x);
    assert.is(e?.code, "VALUE_ERROR", `maxQueued ${bad}`);
    assert.match(e.message, /maxQueued/);
  }
});

test("async mode sends no ACK for type-0 messages", async () => {
  const b = await node({ synchronous: false, onMessage: (m) => m.release() });
  const peer = await RawPeer.connect(b.port);
  peer.write(handshake(1));
  for (let i = 0; i < 3; i++) peer.write(frame({ type: 0, data: new Uint8Array([i]) }));
  await sleep(200);
  assert.is(peer.frames().length, 0);
  peer.close();
  await b.close();
});

test("async: a burst of queued sends over many OUT areas (written several areas per write) arrives in order with every byte", async () => {
  // Sends over ACCEPT_MAX wait in the queue; a batch gathers several full OUT areas before one
  // socket write (engine/send-queue.ts). A small bufferSize makes many areas per batch.
  for (const bufferSize of [65536, 4096]) {
    const got: Uint8Array[] = [];
    const b = await node({ synchronous: false, onMessage: (m) => { got.push(m.data.slice()); m.release(); } });
    const a = await node({ synchronous: false, bufferSize });
    const N = 3000;
    const sent: Uint8Array[] = [];
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < N; i++) {
      const data = new Uint8Array(300 + ((i * 37) % 2500)).map((_, k) => (i * 31 + k) & 0xff);
      new DataView(data.buffer).setUint32(0, i);
      sent.push(data);
      sends.push(a.send(`127.0.0.1:${b.port}`, data));
    }
    await Promise.all(sends);
    await until(() => got.length === N, 10000, `${N} messages (bufferSize ${bufferSize})`);
    for (let i = 0; i < N; i++) {
      if (got[i].length !== sent[i].length || got[i].some((v, k) => v !== sent[i][k])) {
        assert.unreachable(`bufferSize ${bufferSize}: message ${i} differs (${got[i].length} B, want ${sent[i].length} B)`);
      }
    }
    assert.is(a.stats().messagesOut, N);
    await a.close();
    await b.close();
  }
});

test.run();
