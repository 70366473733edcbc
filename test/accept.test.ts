// Asynchronous sends that resolve when accepted (protocol.md §4.2, README "What a settled send
// guarantees"): an `await send()` loop keeps every message in order and delivered, waits when
// the peer stops reading (memory stays bounded), and a send that fails after it resolved is
// counted and reported to onError.
import * as net from "node:net";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { node, to } from "./support/nodes.ts";
import { sleep, until } from "./support/wait.ts";
import { handshake } from "./support/wire.ts";

test("an await send() loop: every message arrives, in order", async () => {
  const got: number[] = [];
  const b = await node({ synchronous: false, onMessage: (m) => { got.push(new DataView(m.data.buffer, m.data.byteOffset).getUint32(0)); m.release(); } });
  const a = await node({ synchronous: false });
  const N = 20000;
  const buf = new Uint8Array(16);
  for (let i = 0; i < N; i++) {
    new DataView(buf.buffer).setUint32(0, i);
    await a.send(to(b), buf); // the payload is copied at send: the loop may reuse its buffer
  }
  await until(() => got.length === N, 10000, `${N} messages`);
  for (let i = 0; i < N; i++) if (got[i] !== i) assert.unreachable(`message ${i} arrived as ${got[i]}`);
  assert.is(a.stats().sendErrors.SHUTDOWN ?? 0, 0);
  await a.close();
  await b.close();
});

test("sends encoded at send time: two peers in turn, small and large mixed, each in order with every byte", async () => {
  // Small sends go into the core's OUT area as they are made (one connection's bytes at a
  // time): turning between peers, and larger sends that queue, must keep each peer's order.
  const got = new Map<string, Uint8Array[]>();
  const recv = (name: string) => (m: { data: Uint8Array; release(): void }) => {
    const list = got.get(name) ?? [];
    list.push(m.data.slice());
    got.set(name, list);
    m.release();
  };
  const b = await node({ synchronous: false, onMessage: recv("b") });
  const c = await node({ synchronous: false, onMessage: recv("c") });
  const a = await node({ synchronous: false });
  await a.send(to(b), "hello");
  await a.send(to(c), "hello");
  const N = 6000;
  const sent = new Map<string, Uint8Array[]>([["b", []], ["c", []]]);
  let bytes = 10;
  let last: Promise<unknown> = Promise.resolve();
  for (let i = 0; i < N; i++) {
    const peer = i % 3 === 0 ? "c" : "b";
    const size = i % 97 === 0 ? 3000 : (i * 7) % 240; // 3000: not accepted, queued behind
    const data = new Uint8Array(size).map((_, k) => (i + k) & 0xff);
    if (size >= 4) new DataView(data.buffer).setUint32(0, i);
    sent.get(peer)!.push(data);
    bytes += size;
    last = a.send(to(peer === "b" ? b : c), data);
    if (i % 500 === 499) await last;
  }
  await last;
  await until(() => (got.get("b")?.length ?? 0) + (got.get("c")?.length ?? 0) === N + 2, 10000, `${N} messages`);
  for (const peer of ["b", "c"]) {
    const want = sent.get(peer)!;
    const have = got.get(peer)!.slice(1); // after "hello"
    assert.is(have.length, want.length, `${peer}: count`);
    for (let i = 0; i < want.length; i++) {
      if (have[i].length !== want[i].length || have[i].some((v, k) => v !== want[i][k])) {
        assert.unreachable(`${peer}: message ${i} differs (${have[i].length} B, want ${want[i].length} B)`);
      }
    }
  }
  const st = a.stats();
  assert.is(st.messagesOut, N + 2, "each message of a batch is counted");
  assert.is(st.bytesOut, bytes);
  await a.close();
  await b.close();
  await c.close();
});

test("an await send() loop to a peer that stops reading waits, with a bounded queue", async () => {
  // A raw peer that handshakes and then never reads: TCP pushes back.
  const socks: net.Socket[] = [];
  const srv = net.createServer((s) => {
    socks.push(s);
    s.on("error", () => {});
    s.write(handshake(port));
    s.pause();
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as net.AddressInfo).port;
  const a = await node({ synchronous: false, timeout: 30 });
  let resolved = 0;
  let stop = false;
  const loop = (async () => {
    const data = new Uint8Array(200); // accepted (up to 256 bytes are)
    while (!stop) {
      await a.send(`127.0.0.1:${port}`, data);
      resolved++;
    }
  })().catch(() => {});
  // Wait until the loop stalls: no send resolved for 500 ms.
  let last = -1;
  for (let i = 0; i < 60 && resolved !== last; i++) {
    last = resolved;
    await sleep(500);
  }
  assert.is(resolved, last, "the loop stalled (a pending promise)");
  const queued = a.stats().queued;
  // At most 256 KiB of accepted frames (227 bytes each) plus the one send that waits (Deno's
  // and Bun's transports hold up to 1 MiB more in their own write queue, write-queue.ts).
  assert.ok(queued <= Math.ceil((256 * 1024) / 227) + 2, `queued sends: ${queued}`);
  assert.ok(resolved > 0, "some sends resolved before the kernel buffers filled");
  stop = true;
  await a.close({ drain: false });
  await loop;
  for (const s of socks) s.destroy();
  await new Promise<void>((r) => srv.close(() => r()));
});

test("accepted sends that cannot be written are counted and reported to onError", async () => {
  const errors: Error[] = [];
  const b = await node({ synchronous: false, onMessage: (m) => m.release() });
  const a = await node({ synchronous: false, onError: (e) => errors.push(e) });
  await a.send(to(b), "connect"); // no connection yet: resolves when written
  const ps: Promise<unknown>[] = [];
  for (let i = 0; i < 10; i++) ps.push(a.send(to(b), `m${i}`));
  // In the same synchronous run, so still unwritten (the pump writes them in a microtask
  // later): close without draining.
  const closing = a.close({ drain: false });
  const states = await Promise.all(ps.map((p) => p.then(() => "resolved", () => "rejected")));
  assert.equal(states, Array(10).fill("resolved"), "accepted: resolved at once");
  await closing;
  await until(() => errors.length > 0, 2000, "the onError report");
  assert.is(errors.length, 1, errors.map(String).join("\n"));
  const e = errors[0] as Error & { code?: string };
  assert.is(e.code, "SHUTDOWN");
  assert.match(e.message, /10 asynchronous sends to 127\.0\.0\.1:\d+ resolved when accepted but were not delivered/);
  assert.is(a.stats().sendErrors.SHUTDOWN, 10);
  await b.close();
});

test.run();
