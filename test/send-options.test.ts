// send's cancellation and size rules (issue 14): an AbortSignal rejects with ABORTED (a queued
// send is never written; a written synchronous one's late ACK is ignored and still holds the
// next send, protocol.md §4.1); a message over maxSendSize (default maxMsgSize) is refused
// before sending; a connection dropped under a frame over 100 MiB says so.
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { Message } from "../adapters/index.ts";
import { ChirpError, STATUS } from "../adapters/index.ts";
import { node, to } from "./support/nodes.ts";
import { failure, sleep, until } from "./support/wait.ts";

test("ABORTED has a status outside libchirp's range", () => {
  assert.is(STATUS.ABORTED, 100);
  assert.is(new ChirpError("ABORTED", "x").status, 100);
});

test("a queued send aborted by its signal rejects at once with ABORTED and is never written", async () => {
  const held: Message[] = [];
  const b = await node({ onMessage: (m) => held.push(m) });
  const a = await node();
  const first = a.send(to(b), "first");
  await until(() => held.length === 1);
  const ac = new AbortController();
  const second = a.send(to(b), "second", { signal: ac.signal });
  const third = a.send(to(b), "third");
  ac.abort(new Error("changed my mind"));
  const e = await second.then(() => null, (err: ChirpError) => err);
  assert.is(e?.code, "ABORTED");
  assert.is((e?.cause as Error).message, "changed my mind");
  held[0].release();
  await first;
  await until(() => held.length === 2);
  held[1].release();
  await third;
  assert.equal(held.map((m) => m.text()), ["first", "third"]);
  // An already aborted signal: rejected at once.
  assert.is((await failure(a.send(to(b), "x", { signal: AbortSignal.abort() }))).code, "ABORTED");
  await a.close();
  await b.close();
});

test("a written synchronous send aborted rejects at once; the next send still waits for its ACK", async () => {
  const held: Message[] = [];
  const b = await node({ onMessage: (m) => held.push(m) });
  const a = await node();
  const ac = new AbortController();
  const p = a.send(to(b), "one", { signal: ac.signal });
  await until(() => held.length === 1);
  ac.abort();
  assert.is((await failure(p)).code, "ABORTED");
  let secondDone = false;
  const second = a.send(to(b), "two").then(() => { secondDone = true; });
  await sleep(50);
  assert.is(held.length, 1, "one message at a time: 'two' waits for the ACK of 'one'");
  assert.not.ok(secondDone);
  held[0].release(); // the late ACK: ignored by the aborted send, frees the remote
  await until(() => held.length === 2);
  held[1].release();
  await second;
  await a.close();
  await b.close();
});

test("a message over maxSendSize (default maxMsgSize) is refused before sending, naming both sizes", async () => {
  const b = await node({ onMessage: (m) => m.release() });
  const a = await node({ maxMsgSize: 1000 });
  const e = await failure(a.send(to(b), new Uint8Array(1001)));
  assert.is(e.code, "VALUE_ERROR");
  assert.match(e.message, /1001 bytes/);
  assert.match(e.message, /1000/);
  await a.send(to(b), new Uint8Array(1000)); // exactly the limit is fine
  const c = await node({ maxMsgSize: 1000, maxSendSize: 5000 });
  await c.send(to(b), new Uint8Array(4000));
  await Promise.all([a.close(), b.close(), c.close()]);
});

test("the peer drops the connection under a frame over 100 MiB: the sender's error says so", async () => {
  // Synchronous: the send waits for the ACK, so it sees the connection fail (an asynchronous one
  // may settle as soon as the kernel took the frame).
  const b = await node({ onMessage: (m) => m.release() });
  const a = await node({ maxSendSize: 0xffffffff });
  const big = new Uint8Array(100 * 1024 * 1024 + 1);
  const e = await failure(a.send(to(b), big));
  assert.is(e.code, "PROTOCOL_ERROR");
  assert.match(e.message, /104857601-byte message was in flight: the peer's maxMsgSize may be smaller/);
  await a.close();
  await b.close();
});

test.run();
