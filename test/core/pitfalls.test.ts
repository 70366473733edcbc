// The spec's §10 pitfalls, the reader rules and the OUT rule, on one core or on a pair of
// cores (test/core/pair.ts): handshake buffering, slots and pausing, streaming, size and type
// checks, stale ACKs, duplicate connections, stale releases, the ACK queue.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { EV, ST } from "../../adapters/core/core.ts";
import { EMPTY, HS_PEER, ID_A, ID_B, MIB100, ackFrame, ascii, concat, fill16, frame, toHex } from "./wire.ts";
import { Pair, Side, accept, dialAndAccept, feedOnce, kinds, mkCore, openRemote, readyIncoming, readyOutgoing } from "./pair.ts";

// ── pair harness ─────────────────────────────────────────────────────────────────────────────

test("pair: handshake both ways, sync message A→B, release → ACK → EV_ACK", () => {
  const p = new Pair({ synchronous: true }, { synchronous: true });
  const hsA = p.a.evs.find((e) => e.kind === EV.HANDSHAKE)!;
  const hsB = p.b.evs.find((e) => e.kind === EV.HANDSHAKE)!;
  assert.is(hsA.port, 2997);
  assert.is(toHex(hsA.id), toHex(ID_B));
  assert.is(hsA.remote, p.ra);
  assert.is(hsB.port, 31000);
  assert.is(toHex(hsB.id), toHex(ID_A));
  assert.ok(hsB.remote >= 0, "B's core filed the incoming connection itself");
  assert.is(p.a.core.x.remoteConn(p.ra), p.a.conn);
  assert.is(p.b.core.x.remoteConn(p.b.remote), p.b.conn);
  assert.is(p.b.core.x.connRemote(p.b.conn), p.b.remote);

  p.b.autoRelease = false;
  const id = fill16(0x11);
  assert.is(p.a.send(id, ascii("h"), ascii("payload"), 1), 27);
  p.a.core.x.writeStart(p.a.conn, 1);
  p.a.core.x.writeDone(p.a.conn, 1, 1);
  p.pump(2);
  assert.is(p.b.msgs.length, 1);
  assert.is(p.b.msgs[0].type, 1);
  assert.is(new TextDecoder().decode(p.b.msgs[0].data), "payload");
  assert.is(p.a.core.x.remoteWaiting(p.ra), 1);
  assert.not.ok(p.a.evs.some((e) => e.kind === EV.ACK));
  assert.is(p.b.releaseOne(), 1);
  p.pump(4);
  const ack = p.a.evs.find((e) => e.kind === EV.ACK)!;
  assert.ok(ack);
  assert.is(toHex(ack.id), toHex(id));
  assert.is(p.a.core.x.remoteWaiting(p.ra), 0);
  // B's ACK serial follows B's remote counter; B's reply uses the next one.
  const sB = p.b.core.x.remoteSerial(p.b.remote) >>> 0;
  assert.is(p.b.send(fill16(0x22), EMPTY, ascii("reply"), 5), 27);
  p.pump(6);
  assert.is(p.a.msgs.at(-1)!.serial, (sB + 1) >>> 0);
});

test("pair: async 16 slots, 20 pipelined → 16 deliveries, then one per release (§3.2)", () => {
  const p = new Pair({ synchronous: false, maxSlots: 16 }, { synchronous: false, maxSlots: 16 });
  p.b.autoRelease = false;
  for (let i = 0; i < 20; i++) {
    const data = new Uint8Array(16).fill(i);
    assert.ok(p.a.send(fill16(i), EMPTY, data, 1) >= 0);
  }
  const bytes = p.a.core.takeOut();
  assert.is(bytes.length, 20 * 43);
  p.b.push(bytes, 2);
  assert.is(p.b.msgs.length, 16);
  assert.is(p.b.core.x.connPaused(p.b.conn), 1);
  assert.is(p.b.pending.length, 4 * 43 - 27, "the 17th header is consumed and remembered");
  for (let k = 0; k < 4; k++) {
    assert.is(p.b.releaseOne(), 2, "no ACK; the connection is paused: feed it again");
    p.b.run(3);
    assert.is(p.b.msgs.length, 17 + k);
  }
  assert.is(p.b.core.x.connPaused(p.b.conn), 0);
  assert.is(p.b.pending.length, 0);
  p.b.msgs.forEach((m, i) => {
    assert.is(m.data[0], i);
    assert.is(m.type, 0);
  });
  // Serials of one sender increase by one.
  for (let i = 1; i < 20; i++) assert.is(p.b.msgs[i].serial, (p.b.msgs[0].serial + i) >>> 0);
});

test("paused zero-length message is delivered by feed(conn, 0)", () => {
  const { core, x, conn } = readyIncoming({ synchronous: false, maxSlots: 1 });
  const f1 = frame(fill16(1), 1, 0, EMPTY, ascii("x"));
  const f2 = frame(fill16(2), 2, 0, EMPTY, EMPTY);
  const r1 = feedOnce(core, conn, concat(f1, f2));
  assert.is(r1.used, f1.length + 27);
  assert.equal(kinds(r1.evs), [EV.MSG]);
  assert.is(x.connPaused(conn), 1);
  const r2 = feedOnce(core, conn, EMPTY);
  assert.is(r2.used, 0);
  assert.equal(r2.evs, []);
  assert.is(x.release(conn, x.connGen(conn), 0), 2, "RELEASE_RESUME: feed again");
  assert.is(x.connPaused(conn), 1, "stays paused until the host feeds again");
  const r3 = feedOnce(core, conn, EMPTY);
  assert.equal(kinds(r3.evs), [EV.MSG]);
  assert.is(r3.evs[0].dl, 0);
  assert.is(toHex(r3.evs[0].id), toHex(fill16(2)));
  assert.is(x.connPaused(conn), 0);
});

test("a message larger than IN streams as BEGIN, CHUNKs, END", () => {
  const { core, conn } = readyIncoming({ synchronous: false, maxSlots: 2 });
  const hdr = new Uint8Array(700).map((_, i) => i & 0xff);
  const data = new Uint8Array(3000).map((_, i) => (i * 7) & 0xff);
  const side = new Side(core, conn, true);
  side.push(frame(fill16(9), 99, 0, hdr, data), 0);
  assert.is(side.msgs.length, 1);
  assert.equal(side.msgs[0].hdr, hdr);
  assert.equal(side.msgs[0].data, data);
  const k = kinds(side.evs);
  assert.is(k[0], EV.BEGIN);
  assert.is(k.at(-1), EV.END);
  assert.ok(k.filter((x) => x === EV.CHUNK).length >= 4);
});

// ── §10 pitfalls and reader rules ───────────────────────────────────────────────────────────

test("§10.1 split handshake (10 + 8 bytes) is buffered", () => {
  const core = mkCore();
  const conn = accept(core);
  core.takeOut();
  const a = feedOnce(core, conn, HS_PEER.subarray(0, 10));
  assert.is(a.used, 10);
  assert.equal(a.evs, []);
  assert.is(core.x.connState(conn), 1);
  const b = feedOnce(core, conn, HS_PEER.subarray(10));
  assert.is(b.used, 8);
  assert.equal(kinds(b.evs), [EV.HANDSHAKE]);
  assert.is(b.evs[0].port, 2997);
  assert.is(core.x.connState(conn), 2);
});

test("handshake + frames in one read: parsed in one call, the frames already filed under the remote", () => {
  const core = mkCore({ synchronous: false, maxSlots: 4 });
  const conn = accept(core);
  core.takeOut();
  const f = frame(fill16(3), 5, 0, EMPTY, ascii("abc"));
  const a = feedOnce(core, conn, concat(HS_PEER, f));
  assert.is(a.used, 18 + f.length);
  assert.equal(kinds(a.evs), [EV.HANDSHAKE, EV.MSG]);
  assert.is(a.evs[1].remote, a.evs[0].remote);
  assert.ok(a.evs[0].remote >= 0);
  // Outgoing: the same.
  const core2 = mkCore({ synchronous: false, maxSlots: 4 });
  const r2 = openRemote(core2, 2997);
  const c2 = core2.x.remoteDial(r2, 0);
  core2.takeOut();
  const c = feedOnce(core2, c2, concat(HS_PEER, f));
  assert.is(c.used, 18 + f.length);
  assert.equal(kinds(c.evs), [EV.HANDSHAKE, EV.MSG]);
  assert.is(c.evs[1].remote, r2);
});

test("incoming peer with the remote table full of idle remotes: the oldest idle one is evicted for it", () => {
  const core = mkCore({ maxRemotes: 2 });
  const old = openRemote(core, 1, 0);
  openRemote(core, 2, 5);
  const conn = accept(core, 10);
  core.takeOut();
  const r = feedOnce(core, conn, HS_PEER, 10);
  assert.equal(kinds(r.evs), [EV.HANDSHAKE]);
  assert.is(r.evs[0].remote, old, "the least recently active remote's record");
  assert.is(core.x.connState(conn), 2);
  // remoteOpen evicts the same way (port 2's remote, the only idle one); a remote the host
  // keeps (sends queued for it) and one with a connection are never evicted.
  const third = openRemote(core, 3, 20);
  assert.ok(third >= 0);
  assert.is(core.x.remoteKeep(third, 1), 0);
  assert.is(openRemote(core, 4, 20), -ST.FULL);
  assert.is(core.x.remoteKeep(third, 0), 0);
  assert.is(openRemote(core, 4, 20), third);
});

test("a handshake announcing port 0 is BAD_HANDSHAKE: the connection failed, no remote made", () => {
  const core = mkCore({ maxRemotes: 1 });
  const conn = accept(core);
  core.takeOut();
  const r = feedOnce(core, conn, concat(new Uint8Array(2), ID_B));
  assert.is(r.used, 18);
  assert.equal(kinds(r.evs), [EV.ERROR]);
  assert.is(r.evs[0].code, ST.BAD_HANDSHAKE);
  assert.is(core.x.connState(conn), 3);
  assert.is(openRemote(core, 5), 0, "the one remote record is still free");
});

test("incoming peer with every remote busy (kept by the host): EV_ERROR FULL, the connection failed", () => {
  const core = mkCore({ maxRemotes: 1 });
  const kept = openRemote(core, 1);
  assert.is(core.x.remoteKeep(kept, 1), 0);
  const conn = accept(core);
  core.takeOut();
  const r = feedOnce(core, conn, HS_PEER);
  assert.is(r.used, 18);
  assert.equal(kinds(r.evs), [EV.ERROR]);
  assert.is(r.evs[0].code, ST.FULL);
  assert.is(core.x.connState(conn), 3);
});

test("§3.5/§10.7 size check in 64 bits: header_len=1, data_len=0xFFFFFFFF → TOO_BIG", () => {
  const { core, x, conn } = readyIncoming();
  const bad = frame(fill16(1), 1, 0, EMPTY, EMPTY, 0xffffffff, 1);
  const r = feedOnce(core, conn, concat(bad, new Uint8Array(5)));
  assert.equal(kinds(r.evs), [EV.ERROR]);
  assert.is(r.evs[0].code, ST.TOO_BIG);
  assert.is(x.connState(conn), 3);
  const again = feedOnce(core, conn, new Uint8Array(10));
  assert.is(again.used, 0);
  assert.equal(again.evs, []);
});

test("exactly maxMsgSize is accepted, one more byte is TOO_BIG", () => {
  {
    const { core, conn } = readyIncoming({ maxMsgSize: 100, synchronous: false, maxSlots: 2 });
    const ok = frame(fill16(1), 1, 0, new Uint8Array(40), new Uint8Array(60));
    assert.equal(kinds(feedOnce(core, conn, ok).evs), [EV.MSG]);
    const big = frame(fill16(1), 1, 0, new Uint8Array(40), new Uint8Array(61));
    const r = feedOnce(core, conn, big);
    assert.equal(kinds(r.evs), [EV.ERROR]);
    assert.is(r.evs[0].code, ST.TOO_BIG);
  }
  {
    const { core, x, conn } = readyIncoming();
    const r = feedOnce(core, conn, frame(fill16(1), 1, 0, EMPTY, EMPTY, MIB100));
    assert.equal(kinds(r.evs), [EV.BEGIN], "100 MiB accepted, waiting for payload");
    assert.is(x.connState(conn), 2);
  }
  {
    const { core, conn } = readyIncoming();
    const r = feedOnce(core, conn, frame(fill16(1), 1, 0, EMPTY, EMPTY, MIB100 + 1));
    assert.equal(kinds(r.evs), [EV.ERROR]);
  }
});

test("§2.2 ACK with payload, type 0x03, type 0x05 → BAD_FRAME", () => {
  for (const f of [
    frame(fill16(1), 1, 2, EMPTY, new Uint8Array(1)),
    frame(fill16(1), 1, 2, new Uint8Array(1), EMPTY),
    frame(fill16(1), 1, 3, EMPTY, EMPTY),
    frame(fill16(1), 1, 5, EMPTY, EMPTY),
    frame(fill16(0), 1, 4, EMPTY, new Uint8Array(2)),
  ]) {
    const { core, x, conn } = readyIncoming();
    const r = feedOnce(core, conn, f);
    assert.equal(kinds(r.evs), [EV.ERROR]);
    assert.is(r.evs[0].code, ST.BAD_FRAME);
    assert.is(x.connState(conn), 3);
  }
});

test("§2.2 0x06 counts as a NOOP (not an ACK); 0x08 is delivered with its raw type", () => {
  const { core, x, remote, conn } = readyOutgoing({ synchronous: true });
  const id = fill16(0x42);
  core.mem.set(id, core.idPtr);
  assert.ok(x.send(conn, 0, 0, 1, 0) >= 0);
  core.takeOut();
  const r = feedOnce(core, conn, frame(id, 1, 6, EMPTY, EMPTY));
  assert.is(r.used, 27);
  assert.equal(kinds(r.evs), [], "a NOOP: no event");
  assert.is(x.remoteWaiting(remote), 1, "0x06 is not an ACK");
  const d = feedOnce(core, conn, frame(fill16(7), 2, 8, ascii("h"), ascii("d")));
  assert.equal(kinds(d.evs), [EV.MSG]);
  assert.is(d.evs[0].type, 8);
  const d2 = feedOnce(core, conn, frame(fill16(7), 2, 0xf8, ascii("h"), ascii("d")));
  assert.equal(kinds(d2.evs), [], "slot is busy: paused");
  assert.is(x.connPaused(conn), 1);
});

test("§2.6 stale ACK ignored; ACK on another connection of the remote counts (§5.4)", () => {
  const { core, x, remote, conn } = readyOutgoing({ synchronous: true });
  const id = fill16(0x42);
  core.mem.set(id, core.idPtr);
  assert.ok(x.send(conn, 0, 3, 1, 0) >= 0);
  core.takeOut();
  const stale = feedOnce(core, conn, ackFrame(fill16(0x43), 9));
  assert.equal(stale.evs, []);
  assert.is(stale.used, 27);
  assert.is(x.remoteWaiting(remote), 1);
  // The peer dials us too (§5.4 duplicate connections): filed under the same remote, it
  // becomes current; the ACK arrives on it.
  const c2 = accept(core, 1);
  core.takeOut();
  const hs = feedOnce(core, c2, HS_PEER, 1);
  assert.is(hs.evs[0].remote, remote);
  assert.is(x.remoteConn(remote), c2);
  const ok = feedOnce(core, c2, ackFrame(id, 10), 2);
  assert.equal(kinds(ok.evs), [EV.ACK]);
  assert.is(x.remoteWaiting(remote), 0);
  const dup = feedOnce(core, conn, ackFrame(id, 11), 3);
  assert.equal(dup.evs, [], "a second ACK is stale");
});

/** A remote with an outgoing connection c1, then an incoming one c2 from the same peer. */
function twoConnections() {
  const core = mkCore({ synchronous: true });
  const x = core.x;
  const remote = openRemote(core, 2997);
  const { c1, c2 } = dialAndAccept(core, remote, 0, 1);
  return { core, x, remote, c1, c2 };
}

test("§10.10 closing an old duplicate connection keeps the current one's waiting message", () => {
  const { core, x, remote, c1, c2 } = twoConnections();
  assert.is(x.remoteConn(remote), c2, "last handshaken wins");
  core.mem.set(fill16(0x77), core.idPtr);
  assert.ok(x.send(c2, 0, 0, 1, 2) >= 0);
  core.takeOut();
  assert.is(x.connClose(c1, 3), 0);
  assert.is(x.remoteWaiting(remote), 1);
  assert.is(x.remoteConn(remote), c2);
  assert.is(x.connClose(c2, 4), 1);
  assert.is(x.remoteConn(remote), -1);
  assert.is(x.remoteWaiting(remote), 0);
});

test("closing the current connection leaves the remote without one (no promotion)", () => {
  const { x, remote, c1, c2 } = twoConnections();
  assert.is(x.connClose(c2, 2), 0);
  assert.is(x.remoteConn(remote), -1);
  assert.is(x.connState(c1), 2);
});

test("stale release after connClose is ignored (generation)", () => {
  const { core, x, conn } = readyIncoming({ synchronous: true });
  const r = feedOnce(core, conn, frame(fill16(1), 1, 1, EMPTY, ascii("x")));
  const gen = r.evs[0].gen;
  assert.is(gen, x.connGen(conn));
  assert.is(x.connClose(conn, 1), 0);
  assert.is(x.release(conn, gen, 0), -ST.STALE);
  const again = accept(core, 3);
  assert.is(again, conn, "index reused");
  assert.is.not(x.connGen(again), gen);
  assert.is(x.release(conn, gen, 0), -ST.STALE);
  assert.is(x.release(conn, x.connGen(conn), 0), -ST.STALE, "unused slot");
  assert.is(x.release(conn, x.connGen(conn), 5), -ST.ARG, "slot out of range");
});

test("release: no ACK for a failed connection; ACK queue full → SPACE without freeing", () => {
  const { core, x, conn } = readyIncoming({ synchronous: false, maxSlots: 4 });
  const gen = x.connGen(conn);
  const req = (i: number) => frame(fill16(i), i, 1, EMPTY, EMPTY);
  let queued = 0;
  for (let round = 0; round < 2; round++) {
    const r = feedOnce(core, conn, concat(req(4 * round), req(4 * round + 1), req(4 * round + 2), req(4 * round + 3)));
    assert.is(r.evs.length, 4);
    for (const e of r.evs) { assert.is(x.release(conn, gen, e.slot), 1); queued++; }
  }
  assert.is(queued, 8);
  const r = feedOnce(core, conn, req(8));
  assert.is(x.release(conn, gen, r.evs[0].slot), -ST.SPACE);
  assert.is(x.flush(conn), 8 * 27);
  const out = core.takeOut();
  for (let i = 0; i < 8; i++) {
    assert.is(out[i * 27 + 26], 2);
    assert.is(out[i * 27], i, "ACKs in release order with the message identity");
  }
  assert.is(x.release(conn, gen, r.evs[0].slot), 1);
  // A failing connection gets no ACK.
  const r2 = feedOnce(core, conn, concat(req(20), frame(fill16(1), 1, 3, EMPTY, EMPTY)));
  assert.equal(kinds(r2.evs), [EV.MSG, EV.ERROR]);
  assert.is(x.release(conn, gen, r2.evs[0].slot), 0);
});

test("OUT area: one connection at a time (another's command is a host bug: STATE), SPACE leaves OUT unchanged", () => {
  const core = mkCore({ synchronous: false, maxSlots: 2 });
  const x = core.x;
  const remote = openRemote(core, 2997);
  const c1 = x.remoteDial(remote, 0);
  assert.is(accept(core), -ST.STATE, "OUT holds c1's handshake");
  core.takeOut();
  assert.is(x.remoteDial(remote, 0), -ST.LATER, "c1 is being dialled");
  const c2 = accept(core);
  assert.is(x.outConn(), c2);
  core.mem.set(fill16(1), core.idPtr);
  assert.is(x.send(c1, 0, 0, 1, 0), -ST.NOT_READY, "handshake not received");
  feedOnce(core, c1, HS_PEER);
  assert.is(x.send(c1, 0, 0, 1, 0), -ST.STATE, "OUT holds c2's handshake");
  core.takeOut();
  let n = 0;
  while (x.send(c1, 0, 100, 1, 0) >= 0) n++;
  assert.is(n, Math.floor(core.outCap / 127));
  const len = x.outLen();
  assert.is(x.send(c1, 0, 100, 1, 0), -ST.SPACE);
  assert.is(x.outLen(), len);
  assert.is(x.send(c1, 0, 100000, 1, 0), -ST.SPACE);
  core.takeOut();
  assert.is(x.send(c1, 0, 100000, 0, 0), 27, "not inline: only the header; the payload goes after OUT");
  assert.is(x.outLen(), 27);
  assert.is(x.send(c1, 70000, 0, 0, 0), -ST.ARG);
  // Closing a connection discards its OUT bytes.
  x.connClose(c1, 1);
  assert.is(x.outLen(), 0);
  assert.is(x.outConn(), -1);
  assert.is(x.send(c1, 0, 0, 1, 0), -ST.STALE);
});

test.run();
