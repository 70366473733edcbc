// A synchronous request/reply is two writes per round trip, not four (issue 19): the ACK of a
// released request waits a few microtasks (send-queue.ts flushControlSoon) and goes out in one
// write with the reply made meanwhile, ACK first (protocol.md §4.1, §3.6). The responder runs
// on this runtime's transport wrapped to count its socket writes; a raw requester reads what
// it wrote. An ACK with no reply made still goes out alone.
import * as net from "node:net";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Chirp, type ChirpConfig, type Message, type Socket, type Transport } from "../adapters/index.ts";
import { nodeTransport } from "../adapters/node/transport.ts";
import { denoTransport } from "../adapters/deno/transport.ts";
import { bunTransport } from "../adapters/bun/transport.ts";
import { runtime } from "./support/runtime.ts";
import { until } from "./support/wait.ts";
import { HANDSHAKE_LEN, TYPE, frame, handshake, readFrames, text } from "./support/wire.ts";

/** A raw requester: sends one REQ_ACK message; returns the chunks the node wrote after its
 * handshake (one per read). */
async function exchange(port: number, replyFirst: boolean | null): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  let seen = 0;
  const s = net.connect({ port, host: "127.0.0.1" });
  s.on("error", () => {});
  s.on("data", (d: Uint8Array) => {
    // The node's handshake comes first, at accept (maybe in its own read).
    const skip = Math.max(0, Math.min(d.length, HANDSHAKE_LEN - seen));
    seen += d.length;
    if (d.length > skip) chunks.push(d.subarray(skip));
  });
  await new Promise<void>((r) => s.once("connect", () => r()));
  s.write(handshake(1));
  s.write(frame({ type: TYPE.REQ_ACK, data: text(replyFirst === null ? "no reply" : "ping") }));
  const bytes = (): number => chunks.reduce((n, c) => n + c.length, 0);
  await until(() => bytes() >= (replyFirst === null ? 27 : 27 + 27 + 4), 3000, "the ACK (and the reply)");
  s.destroy();
  return chunks;
}

const base: Transport = { node: nodeTransport, deno: denoTransport, bun: bunTransport }[runtime];
let writes = 0;
/** This runtime's transport, counting the writes of accepted sockets. */
const counting: Transport = {
  ...base,
  listen: (opts, onSocket) => base.listen(opts, (sock: Socket) => {
    const write = sock.write.bind(sock);
    sock.write = (chunks, cb) => {
      writes++;
      return write(chunks, cb);
    };
    onSocket(sock);
  }),
};
const started: Chirp[] = [];
const node = async (cfg: ChirpConfig): Promise<Chirp> => {
  const n = await Chirp.start({ port: 0, bindV6: null, ...cfg }, counting);
  started.push(n);
  return n;
};
test.after(async () => {
  await Promise.all(started.map((n) => n.close({ drain: false })));
});

for (const replyFirst of [false, true]) {
  test(`sync: the request's ACK and the reply arrive in one write (${replyFirst ? "reply, then release" : "release, then reply"})`, async () => {
    const b = await node({
      onMessage: (m: Message) => {
        if (!replyFirst) m.release();
        if (m.text() !== "no reply") void m.reply(m.data).catch(() => {});
        if (replyFirst) m.release();
      },
    });
    writes = 0;
    const chunks = await exchange(b.port, replyFirst);
    assert.is(writes, 2, "the handshake, then the ACK and the reply together");
    const first = readFrames(chunks[0], 0);
    assert.is(first.length, 2, `frames in the first read: ${first.length} (chunks of ${chunks.map((c) => c.length).join(", ")} bytes)`);
    assert.is(first[0].type, TYPE.ACK, "the ACK first");
    assert.is(first[1].type, TYPE.REQ_ACK, "then the reply (synchronous: it asks for an ACK)");
    assert.is(new TextDecoder().decode(first[1].data), "ping");
    await b.close({ drain: false });
  });
}

test("sync: an ACK with no reply made still goes out, alone", async () => {
  const b = await node({ onMessage: (m: Message) => m.release() });
  writes = 0;
  const chunks = await exchange(b.port, null);
  assert.is(writes, 2, "the handshake, then the ACK");
  const frames = readFrames(chunks[0], 0);
  assert.is(frames.length, 1);
  assert.is(frames[0].type, TYPE.ACK);
  await b.close({ drain: false });
});

test.run();
