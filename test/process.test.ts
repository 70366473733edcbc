// Nodes in separate processes: a real second Node process echoes, and a peer killed with
// SIGKILL mid-message fails the send with an error (nothing is lost silently).
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { Message } from "../adapters/index.ts";
import { node } from "./support/nodes.ts";
import { until, codeOf } from "./support/wait.ts";
import { startPeer } from "./support/process.ts";

for (const mode of ["sync", "async"]) {
  test(`${mode}: request/reply with an echo node in another process`, async () => {
    const peer = await startPeer({ synchronous: mode === "sync", policy: "echo" });
    const replies: Message[] = [];
    const a = await node({ synchronous: mode === "sync", onMessage: (m) => { replies.push(m); m.release(); } });
    const ids: Uint8Array[] = [];
    for (let i = 0; i < 100; i++) ids.push(await a.send(`127.0.0.1:${peer.port}`, `req ${i}`, { header: "H" }));
    const big = new Uint8Array(1 << 20).map((_, i) => (i * 7919) >>> 3);
    ids.push(await a.send(`127.0.0.1:${peer.port}`, big));
    await until(() => replies.length === 101, 10000, "101 replies");
    for (let i = 0; i < 100; i++) {
      assert.is(replies[i].text(), `req ${i}`);
      assert.equal(replies[i].identity, ids[i]);
      assert.is(new TextDecoder().decode(replies[i].header), "H");
    }
    assert.equal(replies[100].data, big);
    await a.close();
    assert.is(await peer.stop(), 0, "the peer closed cleanly");
  });
}

test("sync: a peer killed with SIGKILL mid-message fails the send (PROTOCOL_ERROR), then sends fail fast", async () => {
  const peer = await startPeer({ synchronous: true, policy: "hold" });
  const a = await node({ timeout: 5 });
  const p = codeOf(a.send(`127.0.0.1:${peer.port}`, new Uint8Array(4 << 20)));
  await until(() => peer.events.some((e) => e.ev === "recv"), 10000, "the peer to receive");
  peer.kill("SIGKILL");
  assert.is(await p, "PROTOCOL_ERROR");
  const code = await codeOf(a.send(`127.0.0.1:${peer.port}`, "anyone?"));
  assert.ok(code === "CANNOT_CONNECT", `after the kill: ${code}`);
  await a.close();
});

test("async: a peer killed mid-stream: every send settles, none stays pending", async () => {
  const peer = await startPeer({ synchronous: false, policy: "hold" });
  const a = await node({ synchronous: false, timeout: 1 });
  const outcomes: string[] = [];
  const sends: Promise<unknown>[] = [];
  for (let i = 0; i < 200; i++) {
    sends.push(a.send(`127.0.0.1:${peer.port}`, new Uint8Array(64 * 1024)).then(() => outcomes.push("ok"), (e) => outcomes.push(e.code)));
  }
  await until(() => peer.events.some((e) => e.ev === "recv"), 10000, "the peer to receive");
  peer.kill("SIGKILL");
  await until(() => outcomes.length === 200, 30000, "every send to settle");
  assert.ok(outcomes.every((o) => ["ok", "PROTOCOL_ERROR", "CANNOT_CONNECT", "TIMEOUT", "SHUTDOWN"].includes(o)), outcomes.join());
  assert.ok(outcomes.some((o) => o !== "ok"), "some sends must fail");
  await a.close();
});

test.run();
