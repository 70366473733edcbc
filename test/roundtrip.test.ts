// Two nodes on 127.0.0.1 / ::1 exchange messages in synchronous and asynchronous mode.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Chirp, ChirpError, type Message } from "../adapters/index.ts";
import { node } from "./support/nodes.ts";
import { sleep, until } from "./support/wait.ts";
import { RawPeer } from "./support/raw-peer.ts";
import { handshake, frame, text } from "./support/wire.ts";

for (const synchronous of [true, false]) {
  const mode = synchronous ? "sync" : "async";

  test(`${mode}: round trip with header and data, fields as sent`, async () => {
    const got: Message[] = [];
    const b = await node({ synchronous, onMessage: (m) => { got.push(m); m.release(); } });
    const a = await node({ synchronous });
    const identity = crypto.getRandomValues(new Uint8Array(16));
    const id = await a.send(`127.0.0.1:${b.port}`, "hello", { header: "HDR", identity });
    assert.equal(id, identity);
    await until(() => got.length === 1);
    const m = got[0];
    assert.equal(m.text(), "hello");
    assert.equal(new TextDecoder().decode(m.header), "HDR");
    assert.equal(m.identity, identity);
    assert.is(m.type, synchronous ? 1 : 0);
    assert.is(m.requiresAck, synchronous);
    assert.is(m.address, "127.0.0.1");
    assert.is(m.port, a.port);
    assert.equal(m.remoteIdentity, a.identity);
    await a.close();
    await b.close();
  });

  test(`${mode}: reply goes back with the request's identity`, async () => {
    const b = await node({ synchronous, onMessage: (m) => { m.release(); m.reply(m.text().toUpperCase()).catch(() => {}); } });
    const replies: Message[] = [];
    const a = await node({ synchronous, onMessage: (m) => { replies.push(m); m.release(); } });
    const id = await a.send({ address: "127.0.0.1", port: b.port }, "ping");
    await until(() => replies.length === 1);
    assert.is(replies[0].text(), "PING");
    assert.equal(replies[0].identity, id);
    assert.is(replies[0].port, b.port);
    await a.close();
    await b.close();
  });

  test(`${mode}: many messages, empty and 1 MiB payloads arrive intact and in order`, async () => {
    const got: Message[] = [];
    const b = await node({ synchronous, onMessage: (m) => { got.push(m); m.release(); } });
    const a = await node({ synchronous });
    const big = crypto.getRandomValues(new Uint8Array(65536));
    const mib = new Uint8Array(1 << 20);
    for (let i = 0; i < mib.length; i += 65536) mib.set(big, i);
    const sends: Promise<unknown>[] = [];
    sends.push(a.send(`127.0.0.1:${b.port}`));
    for (let i = 0; i < 300; i++) sends.push(a.send(`127.0.0.1:${b.port}`, `m${i}`));
    sends.push(a.send(`127.0.0.1:${b.port}`, mib, { header: new Uint8Array(65535).fill(3) }));
    await Promise.all(sends);
    await until(() => got.length === 302);
    assert.is(got[0].data.length, 0);
    for (let i = 0; i < 300; i++) assert.is(got[i + 1].text(), `m${i}`);
    assert.equal(got[301].data, mib);
    assert.is(got[301].header.length, 65535);
    await a.close();
    await b.close();
  });
  test(`${mode}: with the smallest bufferSize, payloads of every size up to 64 KiB arrive`, async () => {
    // 1 KiB buffers: a payload under the inline limit may still not fit the core's OUT area
    // beside its header, so it is written from its own buffer (no FATAL "no room" error).
    const got: Message[] = [];
    const b = await node({ synchronous, bufferSize: 1024, onMessage: (m) => { got.push(m); m.release(); } });
    const a = await node({ synchronous, bufferSize: 1024 });
    const sizes = [0, 1, 1000, 3000, 3100, 5000, 8000, 16384, 65536];
    const payloads = sizes.map((n) => new Uint8Array(n).map((_, i) => (i * 7 + n) & 0xff));
    await Promise.all(payloads.map((p) => a.send(`127.0.0.1:${b.port}`, p)));
    await until(() => got.length === sizes.length);
    got.forEach((m, i) => assert.equal(m.data, payloads[i], `${sizes[i]} bytes`));
    await a.close();
    await b.close();
  });
}

test("reply travels over the connection the request came in on (no new connection)", async () => {
  const b = await node({ onMessage: (m) => { m.release(); m.reply("pong").catch(() => {}); } });
  const peer = await RawPeer.connect(b.port);
  // Announce a port where nothing listens: a reply can only come back on this socket.
  peer.write(handshake(1));
  peer.write(frame({ type: 1, data: text("ping") }));
  await peer.until(() => peer.frames().some((f) => f.type === 1 && new TextDecoder().decode(f.data) === "pong"), 5000, "the reply");
  const fr = peer.frames();
  const reply = fr.find((f) => f.data.length > 0)!;
  assert.equal(reply.identity, new Uint8Array(16).fill(0xaa));
  // The raw peer must ACK the sync reply, else b's send would time out; do it and check b is happy.
  peer.write(frame({ type: 2, identity: reply.identity }));
  await sleep(50);
  assert.is(peer.closed, false);
  peer.close();
  await b.close();
});

test("IPv6 loopback round trip (skipped when ::1 is unavailable)", async () => {
  let b: Chirp;
  const got: Message[] = [];
  try {
    b = await node({ bindV4: null, bindV6: "::1", onMessage: (m) => { got.push(m); m.release(); } });
  } catch (e) {
    console.log("  (no IPv6 here: skipped)", (e as Error).message);
    return;
  }
  const a = await node({ bindV4: null, bindV6: "::1" });
  await a.send(`[::1]:${b.port}`, "v6");
  await until(() => got.length === 1);
  assert.is(got[0].address, "::1");
  assert.is(got[0].text(), "v6");
  await a.close();
  await b.close();
});

test("async iteration receives messages; release frees the slot", async () => {
  const b = await node({ synchronous: false, maxSlots: 2 });
  const a = await node({ synchronous: false });
  for (let i = 0; i < 5; i++) a.send(`127.0.0.1:${b.port}`, `n${i}`).catch(() => {});
  const seen: string[] = [];
  for await (const m of b) {
    seen.push(m.text());
    m.release();
    if (seen.length === 5) break;
  }
  assert.equal(seen, ["n0", "n1", "n2", "n3", "n4"]);
  await a.close();
  await b.close();
});

test("await using closes the node", async () => {
  let port = 0;
  {
    await using n = await node();
    port = n.port;
    assert.ok(port > 0);
  }
  // The port is free again: a new node can take it.
  const again = await Chirp.start({ port });
  await again.close();
});

test("invalid config is refused with VALUE_ERROR naming the field and range", async () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ port: 80 }, /config\.port = 80 .*1025 to 65535/],
    [{ timeout: 0 }, /config\.timeout = 0 .*0\.1 to 1200/],
    [{ reuseTime: 99999 }, /config\.reuseTime/],
    [{ synchronous: false, maxSlots: 33 }, /config\.maxSlots = 33 .*1 to 32/],
    [{ maxSlots: 4 }, /config\.maxSlots = 4 .*1 in synchronous mode.*synchronous: false/],
    [{ bufferSize: 10 }, /config\.bufferSize = 10 .*1024/],
    [{ identity: "xyz" }, /config\.identity/],
    [{ bindV4: "1.2.3" }, /config\.bindV4/],
    [{ colour: "red" }, /config\.colour .*not a known option/],
  ];
  for (const [cfg, re] of cases) {
    try {
      await Chirp.start(cfg as never);
      assert.unreachable(`accepted ${JSON.stringify(cfg)}`);
    } catch (e) {
      assert.instance(e, ChirpError);
      assert.is((e as ChirpError).code, "VALUE_ERROR");
      assert.match((e as Error).message, re);
    }
  }
});

test("EADDRINUSE when the port is taken", async () => {
  const a = await node();
  try {
    await Chirp.start({ port: a.port });
    assert.unreachable("second node started on a taken port");
  } catch (e) {
    assert.is((e as ChirpError).code, "EADDRINUSE");
  }
  await a.close();
});

test("bad targets and payloads are refused with VALUE_ERROR (a host name is a target: names.test.ts)", async () => {
  const a = await node();
  for (const t of ["nohost", "bad_host!:3000", "1.2.3:3000", "127.0.0.1:0", "127.0.0.1:70000"]) {
    const e = await a.send(t, "x").catch((x) => x);
    assert.is(e.code, "VALUE_ERROR", t);
  }
  const e = await a.send("127.0.0.1:3000", "x", { header: new Uint8Array(70000) }).catch((x) => x);
  assert.is(e.code, "VALUE_ERROR");
  await a.close();
});

test.run();
