// Interop across runtimes: Node, Deno and Bun nodes in separate processes exchange messages
// with replies, in synchronous and asynchronous mode, with 16-byte and 1 MiB payloads, in
// every direction (X forwards to Y and relays Y's reply back, for every ordered pair X != Y).
// Runs once, from Node; it starts peers on all three runtimes.
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { Message } from "../adapters/index.ts";
import type { RuntimeName } from "../adapters/runtime.ts";
import { node } from "./support/nodes.ts";
import { until } from "./support/wait.ts";
import { startPeer, type Peer } from "./support/process.ts";
import { hex } from "./support/wire.ts";

const runtimes: RuntimeName[] = ["node", "deno", "bun"];

for (const mode of ["sync", "async"]) {
  test(`${mode}: every runtime to every other, with replies, 16 B and 1 MiB`, async () => {
    const peers = new Map<RuntimeName, Peer>();
    for (const rt of runtimes) peers.set(rt, await startPeer({ synchronous: mode === "sync", policy: "echo" }, rt));
    const replies = new Map<string, Message>();
    const me = await node({ synchronous: mode === "sync", onMessage: (m) => { replies.set(hex(m.identity), m); m.release(); } });
    const mib = new Uint8Array(1 << 20).map((_, i) => (i * 31 + 7) & 0xff);
    const small = new TextEncoder().encode("sixteen bytes!!!");
    try {
      // Direct: this (Node) node to each runtime and back.
      for (const rt of runtimes) {
        for (const payload of [small, mib]) {
          const id = await me.send(`127.0.0.1:${peers.get(rt)!.port}`, payload);
          await until(() => replies.has(hex(id)), 20000, `reply from ${rt}`);
          assert.equal(replies.get(hex(id))!.data, payload, `echo from ${rt}`);
        }
      }
      // Relayed: X forwards to Y, Y echoes to X, X replies to us.
      for (const x of runtimes) {
        for (const y of runtimes) {
          if (x === y) continue;
          for (const payload of [small, mib]) {
            const id = await me.send(`127.0.0.1:${peers.get(x)!.port}`, payload, { header: `fwd:${peers.get(y)!.port}` });
            await until(() => replies.has(hex(id)), 20000, `${x} -> ${y} -> ${x}`);
            const r = replies.get(hex(id))!;
            assert.equal(r.data, payload, `${x} -> ${y} relayed ${payload.length} bytes`);
            assert.match(new TextDecoder().decode(r.header), /^via /);
          }
        }
      }
      // 3 direct and 6 relayed pairs, 2 payloads each.
      assert.is(replies.size, 18);
      console.log(`  ${mode}: ${replies.size} replies: node<->{node,deno,bun} direct, and every ordered relay pair`);
    } finally {
      await me.close();
      for (const [rt, p] of peers) assert.is(await p.stop(), 0, `${rt} peer exit code`);
    }
  });
}

test.run();
