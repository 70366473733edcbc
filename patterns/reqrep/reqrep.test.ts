// Request/reply: replies matched by identity (protocol.md §2.5), deadlines, abort, remote errors,
// late replies, a libchirp-style echo node in another process, and the §10.2 rule
// (release before reply) in synchronous mode.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Chirp, type Message } from "../../adapters/index.ts";
import { request, responder } from "./reqrep.ts";
import { Router, attach, routerOf } from "../router.ts";
import { OP, PATTERN, RemoteError, decodeHeader, text } from "../header.ts";
import { node4, to } from "../../test/support/nodes.ts";
import { sleep, until } from "../../test/support/wait.ts";
import { refusedPort } from "../../test/support/raw-peer.ts";
import { startPeer } from "../../test/support/process.ts";


for (const mode of ["sync", "async"] as const) {
  const synchronous = mode === "sync";

  test(`${mode}: request resolves with the reply carrying the request's identity and header`, async () => {
    const ids: Uint8Array[] = [];
    const server = await node4({ synchronous, onMessage: responder(async (req, header) => {
      ids.push(req.identity);
      await sleep(5);
      return { data: `${text(header)}:${req.text().toUpperCase()}`, header: "rep-h" };
    }) });
    const client = await node4({ synchronous });
    try {
      const reply = await request(client, to(server), "hello", { header: "req-h" });
      assert.is(reply.text(), "req-h:HELLO");
      assert.equal(reply.identity, ids[0], "the reply carries the request's identity");
      const h = decodeHeader(reply.header)!;
      assert.is(h.pattern, PATTERN.REQREP);
      assert.is(h.op, OP.REQREP.REPLY);
      assert.is(text(h.body), "rep-h");
      assert.ok(reply.released, "auto-released");
    } finally {
      await client.close();
      await server.close();
    }
  });

  test(`${mode}: 200 concurrent requests each get their own reply`, async () => {
    const server = await node4({ synchronous, onMessage: responder((req) => `re:${req.text()}`) });
    const client = await node4({ synchronous });
    try {
      const replies = await Promise.all(Array.from({ length: 200 }, (_, i) => request(client, to(server), `m${i}`)));
      replies.forEach((r, i) => assert.is(r.text(), `re:m${i}`));
      assert.is(routerOf(client).waiting, 0, "no waiter left behind");
    } finally {
      await client.close();
      await server.close();
    }
  });

  test(`${mode}: against a libchirp-style echo node in another process`, async () => {
    const peer = await startPeer({ synchronous, policy: "echo" });
    const client = await node4({ synchronous });
    try {
      for (const payload of ["one", "two", new Uint8Array(100_000).fill(7)]) {
        const reply = await request(client, `127.0.0.1:${peer.port}`, payload);
        assert.equal(reply.data, typeof payload === "string" ? new TextEncoder().encode(payload) : payload);
        // The echo copies our header back: still matched as the reply, by identity.
        assert.is(decodeHeader(reply.header)?.op, OP.REQREP.REQUEST);
      }
      const many = await Promise.all(Array.from({ length: 50 }, (_, i) => request(client, `127.0.0.1:${peer.port}`, `x${i}`)));
      many.forEach((r, i) => assert.is(r.text(), `x${i}`));
    } finally {
      await client.close();
      assert.is(await peer.stop(), 0);
    }
  });
}

test("the deadline defaults to the node's config.timeout and rejects with TIMEOUT", async () => {
  const server = await node4({ onMessage: responder(() => new Promise<never>(() => {})) });
  const client = await node4({ timeout: 0.3 });
  try {
    const t0 = Date.now();
    const err = await request(client, to(server), "x").then(() => null, (e) => e);
    const ms = Date.now() - t0;
    assert.is(err?.code, "TIMEOUT");
    assert.ok(ms >= 250 && ms < 3000, `took ${ms} ms`);
    const err2 = await request(client, to(server), "x", { timeout: 0.1 }).then(() => null, (e) => e);
    assert.is(err2?.code, "TIMEOUT");
  } finally {
    await client.close();
    await server.close();
  }
});

test("a late reply is released and dropped, not delivered as a new message", async () => {
  const server = await node4({ onMessage: responder(async (r) => {
    await sleep(300);
    return r.data;
  }) });
  const client = await node4();
  const router = routerOf(client);
  const other: Message[] = [];
  router.use((m) => {
    other.push(m);
    return false;
  });
  try {
    const err = await request(client, to(server), "slow", { timeout: 0.1 }).then(() => null, (e) => e);
    assert.is(err?.code, "TIMEOUT");
    await until(() => router.late === 1, 3000, "the late reply");
    assert.is(other.length, 0, "no handler saw it");
    assert.is(router.unhandled, 0);
  } finally {
    await client.close();
    await server.close();
  }
});

test("AbortSignal: rejects with the signal's reason; an aborted signal sends nothing", async () => {
  let seen = 0;
  const server = await node4({ onMessage: responder(async () => {
    seen++;
    await sleep(500);
    return "late";
  }) });
  const client = await node4();
  try {
    const ac = new AbortController();
    const p = request(client, to(server), "x", { signal: ac.signal });
    await until(() => seen === 1, 3000, "the request to arrive");
    ac.abort();
    const err = await p.then(() => null, (e) => e);
    assert.is(err?.name, "AbortError");
    const mine = new Error("changed my mind");
    const ac2 = new AbortController();
    const p2 = request(client, to(server), "y", { signal: ac2.signal });
    ac2.abort(mine);
    assert.is(await p2.then(() => null, (e) => e), mine, "rejects with the reason given to abort()");
    await sleep(100);
    const countAfter = seen;
    const err3 = await request(client, to(server), "z", { signal: AbortSignal.abort() }).then(() => null, (e) => e);
    assert.is(err3?.name, "AbortError");
    await sleep(200);
    assert.is(seen, countAfter, "z was never sent");
  } finally {
    await client.close();
    await server.close();
  }
});

test("a handler that throws makes the request reject with RemoteError", async () => {
  const server = await node4({ onMessage: responder((req) => {
    if (req.text() === "bad") throw new Error("no such thing");
    return "ok";
  }) });
  const client = await node4();
  try {
    const err = await request(client, to(server), "bad").then(() => null, (e) => e);
    assert.instance(err, RemoteError);
    assert.is(err.code, "REMOTE_ERROR");
    assert.match(err.message, /no such thing/);
    assert.is((await request(client, to(server), "good")).text(), "ok", "the responder goes on");
  } finally {
    await client.close();
    await server.close();
  }
});

test("an unreachable responder rejects with the send's error (CANNOT_CONNECT)", async () => {
  const client = await node4();
  try {
    const err = await request(client, `127.0.0.1:${await refusedPort()}`, "x").then(() => null, (e) => e);
    assert.is(err?.code, "CANNOT_CONNECT");
  } finally {
    await client.close();
  }
});

test("responder answers plain messages (no pattern header) too, with the same identity", async () => {
  const server = await node4({ onMessage: responder((req, header) => `${text(header)}/${req.text()}`) });
  const got: Message[] = [];
  const client = await node4({ onMessage: (m) => {
    m.release();
    got.push(m);
  } });
  try {
    const id = await client.send(to(server), "plain", { header: "libchirp" });
    await until(() => got.length === 1, 3000, "the reply");
    assert.equal(got[0].identity, id);
    assert.is(got[0].text(), "libchirp/plain");
  } finally {
    await client.close();
    await server.close();
  }
});

test("a node with its own onMessage: Router + attach, requests and serving on one node", async () => {
  const router = new Router([responder((r) => `b:${r.text()}`)]);
  const b = await node4({ onMessage: router.dispatch });
  attach(b, router);
  const a = await node4();
  routerOf(a).use(responder((r) => `a:${r.text()}`));
  try {
    assert.is((await request(a, to(b), "1")).text(), "b:1");
    assert.is((await request(b, to(a), "2")).text(), "a:2");
    assert.is((await request(a, to(a), "self")).text(), "a:self", "a request to ourselves");
  } finally {
    await a.close();
    await b.close();
  }
});

test("sync mode, §10.2: a sync responder and requester never deadlock (1000 sequential requests)", async () => {
  const server = await node4({ onMessage: responder(async (r) => r.data) });
  const client = await node4({ timeout: 2 });
  try {
    const t0 = Date.now();
    for (let i = 0; i < 1000; i++) await request(client, to(server), `n${i}`);
    assert.ok(Date.now() - t0 < 20000, "well under one timeout per request");
  } finally {
    await client.close();
    await server.close();
  }
});

test.run();
