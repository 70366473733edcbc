// Chirp.start's `signal` (issue 14): aborted before start resolves, start rejects with ABORTED
// and leaves nothing listening; aborted later, the node closes as close() does, draining.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Chirp } from "../adapters/index.ts";
import { node, to } from "./support/nodes.ts";
import { failure, until } from "./support/wait.ts";
import { refusedPort } from "./support/raw-peer.ts";

test("an aborted signal: start rejects with ABORTED, the signal's reason as cause", async () => {
  const ac = new AbortController();
  ac.abort(new Error("not wanted"));
  const f = await failure(Chirp.start({ port: 0, signal: ac.signal }));
  assert.is(f.code, "ABORTED");
  const e = await Chirp.start({ port: 0, signal: ac.signal }).catch((x) => x as Error);
  assert.is(((e as Error).cause as Error).message, "not wanted");
});

test("aborted while it binds: start rejects with ABORTED and the port is free again", async () => {
  const port = await refusedPort();
  const ac = new AbortController();
  const starting = Chirp.start({ port, bindV6: null, signal: ac.signal });
  ac.abort();
  assert.is((await failure(starting)).code, "ABORTED");
  const again = await Chirp.start({ port, bindV6: null }); // EADDRINUSE if a listener stayed
  assert.is(again.port, port);
  await again.close();
});

test("aborted after start: the node closes, delivering what it accepted first", async () => {
  let got = 0;
  const b = await node({ onMessage: (m) => { got++; m.release(); } });
  const ac = new AbortController();
  const a = await Chirp.start({ port: 0, bindV6: null, signal: ac.signal });
  const port = a.port;
  const sent = a.send(to(b), "before the abort");
  ac.abort();
  await sent; // drained, not failed with SHUTDOWN
  assert.is((await failure(a.send(to(b), "after"))).code, "SHUTDOWN");
  await until(() => got === 1);
  await a.close(); // the same close: resolves once every socket is closed
  const again = await Chirp.start({ port, bindV6: null });
  await again.close();
  await b.close();
});

test("a signal that is not an AbortSignal is refused with VALUE_ERROR", async () => {
  const f = await failure(Chirp.start({ port: 0, signal: {} as AbortSignal }));
  assert.is(f.code, "VALUE_ERROR");
  assert.match(f.message, /signal/);
});

test.run();
