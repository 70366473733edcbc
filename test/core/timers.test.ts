// The core's timers on a simulated clock: handshake/connect, send (ACK) and write timeouts,
// the reconnect delay (one remoteDial call, EV_RETRY), garbage collection, and what happens
// when the event area fills; a pair driven from deadline to deadline (test/core/pair.ts).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { EV, REMOTE, ST } from "../../adapters/core/core.ts";
import { EMPTY, HS_PEER, ascii, concat, fill16, frame, noopFrame } from "./wire.ts";
import { Pair, R, Side, T, accept, dialAndAccept, events, feedOnce, kinds, mkCore, openRemote, readyIncoming, readyOutgoing } from "./pair.ts";

test("§10.6 incoming handshake timeout fires via tick, once", () => {
  const core = mkCore({ timeoutMs: 1000 });
  const conn = accept(core, 100);
  core.takeOut();
  assert.ok(core.x.nextDeadline() <= 100 + 2000);
  assert.is(core.x.tick(100 + 1999), 0);
  assert.is(core.x.tick(100 + 2000), 1);
  const e = events(core)[0];
  assert.is(e.kind, EV.TIMEOUT);
  assert.is(e.code, ST.HANDSHAKE_TIMEOUT);
  assert.is(e.conn, conn);
  assert.is(e.gen, core.x.connGen(conn));
  assert.is(core.x.tick(100 + 2001), 0);
  // connect timeout is capped at 60 s
  const slow = mkCore({ timeoutMs: 100000, reuseMs: 300000 });
  const r = openRemote(slow, 2997);
  const c = slow.x.remoteDial(r, 0);
  assert.is(slow.x.nextDeadline(), 60000);
  slow.x.tick(60000);
  const t = events(slow).find((x) => x.kind === EV.TIMEOUT)!;
  assert.equal([t.code, t.conn, t.remote], [ST.CONNECT_TIMEOUT, c, r]);
});

/** A ready outgoing synchronous connection with one message (identity 0x51 × 16, 1 byte)
 * sent and written at time 0: its ACK deadline is T. */
function syncSentAt0(): ReturnType<typeof readyOutgoing> {
  const ready = readyOutgoing({ synchronous: true });
  const { core, x, conn } = ready;
  core.mem.set(fill16(0x51), core.idPtr);
  assert.ok(x.send(conn, 0, 1, 1, 0) >= 0);
  core.takeOut();
  x.writeStart(conn, 0);
  x.writeDone(conn, 1, 0);
  return ready;
}

test("nextDeadline is a lower bound: a cleared deadline leaves it early; a tick there reports nothing and makes it exact", () => {
  const { core, x, remote, conn } = syncSentAt0();
  assert.is(x.nextDeadline(), T, "the send (ACK) deadline");
  // The ACK arrives: the deadline is cleared, the bound stays.
  feedOnce(core, conn, frame(fill16(0x51), 9, 2, EMPTY, EMPTY), 10);
  assert.is(x.remoteWaiting(remote), 0);
  assert.is(x.nextDeadline(), T, "still T: early, never late");
  assert.is(x.tick(T), 0, "nothing due at T");
  const gcOnly = x.nextDeadline();
  assert.ok(gcOnly > T && gcOnly < T + R, `exact again: the GC run at ${gcOnly}`);
  // A deadline set later lowers it at once.
  core.mem.set(fill16(0x52), core.idPtr);
  assert.ok(x.send(conn, 0, 1, 1, T + 1) >= 0);
  assert.is(x.nextDeadline(), Math.min(gcOnly, T + 1 + T));
});

test("§4.3/§10.3 send timeout is not cancelled by an interleaved ACK/NOOP write", () => {
  const { core, x, remote, conn } = syncSentAt0();
  // The peer sends a REQ_ACK message; we release it and write the ACK.
  const r = feedOnce(core, conn, frame(fill16(0x61), 1, 1, EMPTY, ascii("q")), 100);
  assert.equal(kinds(r.evs), [EV.MSG]);
  assert.is(x.release(conn, x.connGen(conn), 0), 1);
  assert.is(x.flush(conn), 27);
  core.takeOut();
  x.writeStart(conn, 200);
  x.writeDone(conn, 1, 210);
  // A NOOP from the peer too.
  feedOnce(core, conn, noopFrame(5), 300);
  assert.ok(x.nextDeadline() <= T);
  assert.is(x.tick(T - 1), 0);
  assert.is(x.tick(T), 1);
  const e = events(core)[0];
  assert.is(e.kind, EV.TIMEOUT);
  assert.is(e.code, ST.ACK_TIMEOUT);
  assert.is(e.conn, conn);
  assert.is(e.remote, remote);
  assert.is(x.tick(T + 1), 0, "reported once");
  assert.is(x.connClose(conn, T + 1) & 1, 1, "the waiting message is abandoned");
  assert.is(x.remoteWaiting(remote), 0);
});

test("write timeout: armed by writeStart, refreshed/disarmed by writeDone, reported once", () => {
  const { core, x, conn, remote } = readyOutgoing({ synchronous: false, maxSlots: 2 });
  x.writeStart(conn, 10);
  x.writeStart(conn, 500); // already armed
  assert.is(x.tick(10 + T - 1), 0);
  x.writeDone(conn, 0, 20); // more pending: re-armed from 20
  assert.is(x.tick(10 + T), 0);
  assert.is(x.tick(20 + T), 1);
  const e = events(core)[0];
  assert.equal([e.kind, e.code, e.conn, e.remote], [EV.TIMEOUT, ST.WRITE_TIMEOUT, conn, remote]);
  assert.is(x.tick(20 + T + 5), 0);
  x.writeStart(conn, 2000);
  x.writeDone(conn, 1, 2001);
  assert.is(x.tick(2000 + T + 1), 0);
});

test("reconnect delay: remoteDial after a close says LATER, EV_RETRY once when it ends, then dials", () => {
  const { core, x, conn, remote } = readyOutgoing();
  assert.is(x.remoteState(remote), REMOTE.CONNECTED);
  assert.is(x.remoteDial(remote, 0), -ST.STATE, "connected: use remoteConn");
  x.connClose(conn, 1000);
  assert.is(x.remoteState(remote), REMOTE.IDLE);
  const d = x.remoteDelay(remote, 1000);
  assert.ok(d >= 50 && d < 550, `delay ${d}`);
  assert.is(x.remoteDial(remote, 1000), -ST.LATER);
  assert.is(x.remoteState(remote), REMOTE.DELAY);
  assert.ok(x.nextDeadline() <= 1000 + d);
  x.tick(1000 + d - 1);
  assert.not.ok(events(core).some((e) => e.kind === EV.RETRY));
  x.tick(1000 + d);
  const ev = events(core).filter((e) => e.kind === EV.RETRY);
  assert.is(ev.length, 1);
  assert.is(ev[0].remote, remote);
  assert.is(ev[0].conn, -1);
  x.tick(1000 + d + 1);
  assert.not.ok(events(core).some((e) => e.kind === EV.RETRY));
  const again = x.remoteDial(remote, 1000 + d + 1);
  assert.ok(again >= 0, "the delay is over: a connection to dial");
  assert.is(x.remoteState(remote), REMOTE.DIALING);
  core.takeOut();
  // Delay values spread over [50, 550).
  x.connClose(again, 2000);
  const seen = new Set<number>();
  for (let i = 0, t = 5000; i < 200; i++, t += 1000) {
    const c = x.remoteDial(remote, t);
    assert.ok(c >= 0);
    core.takeOut();
    x.connClose(c, t);
    const v = x.remoteDelay(remote, t);
    assert.ok(v >= 50 && v < 550 && Number.isInteger(v));
    seen.add(v);
  }
  assert.ok(seen.size > 100);
});

test("GC: idle remote collected after R..2R; old connection collected, current kept", () => {
  const core = mkCore();
  const x = core.x;
  assert.is(x.nextDeadline(), Infinity);
  const remote = openRemote(core, 2997);
  const first = x.nextDeadline();
  assert.ok(first >= R / 2 && first < R, `gc at ${first}`);
  let t = 0;
  let found = -1;
  for (let i = 0; i < 10 && found < 0; i++) {
    t = x.nextDeadline();
    x.tick(t);
    const gc = events(core).filter((e) => e.kind === EV.GC_REMOTE);
    if (gc.length) { assert.is(gc[0].remote, remote); found = t; }
  }
  assert.ok(found > R && found < 2 * R, `collected at ${found}`);
  assert.is(x.remoteFree(remote), 0);
  assert.is(x.remoteFree(remote), -ST.STALE);
  assert.is(x.nextDeadline(), Infinity, "no GC while nothing is in use");

  // Old vs current connection: c1 dialled, c2 the peer's connection to us (current).
  const r2 = openRemote(core, 2997, 10000);
  const { c1, c2 } = dialAndAccept(core, r2, 10000);
  assert.is(x.remoteConn(r2), c2);
  const gcConns: number[] = [];
  for (let now = 10000; now < 10000 + 4 * R; now += 100) {
    x.writeDone(c2, 1, now); // c2 and the remote stay active
    x.tick(now);
    for (const e of events(core)) {
      assert.is.not(e.kind, EV.GC_REMOTE);
      if (e.kind === EV.GC_CONN) gcConns.push(e.conn);
    }
  }
  assert.ok(gcConns.length >= 1);
  assert.ok(gcConns.every((c) => c === c1));
});

test("GC skips a remote waiting for an ACK or in its reconnect delay", () => {
  const { core, x, remote, conn } = readyOutgoing({ synchronous: true });
  core.mem.set(fill16(5), core.idPtr);
  x.send(conn, 0, 0, 1, 0);
  core.takeOut();
  for (let now = 0; now < 5 * R; now += 250) {
    x.tick(now);
    assert.not.ok(events(core).some((e) => e.kind === EV.GC_REMOTE));
  }
  x.connClose(conn, 5 * R);
  const d = x.remoteDelay(remote, 5 * R);
  x.tick(5 * R + d - 1);
  assert.not.ok(events(core).some((e) => e.kind === EV.GC_REMOTE));
});

test("GC skips a remote whose reconnect delay ends in the same tick, or that is dialling", () => {
  // The slow-handler sequence (issue 14): the idle connection closes, a send wants a redial
  // during the reconnect delay, and the host's next tick comes late, past the delay's end and a
  // GC run at once. The retry counts as activity: the remote and its queue survive.
  const { core, x, remote, conn } = readyOutgoing({ synchronous: false });
  const t0 = 4 * R;
  x.connClose(conn, t0);
  assert.is(x.remoteDial(remote, t0), -ST.LATER);
  const late = t0 + 3 * R;
  x.tick(late);
  let evs = events(core);
  assert.ok(evs.some((e) => e.kind === EV.RETRY && e.remote === remote), "EV_RETRY");
  assert.not.ok(evs.some((e) => e.kind === EV.GC_REMOTE), "not collected with its redial pending");
  // The redial is in progress: a GC run during it (the connect timeout fires too) keeps it.
  const c = x.remoteDial(remote, late);
  assert.ok(c >= 0);
  core.takeOut();
  x.tick(late + 3 * R);
  evs = events(core);
  assert.not.ok(evs.some((e) => e.kind === EV.GC_REMOTE), "not collected while dialling");
  assert.ok(evs.some((e) => e.kind === EV.TIMEOUT && e.conn === c));
  // Once the dial is over and the remote idle, GC collects it as before.
  x.connClose(c, late + 3 * R);
  let collected = false;
  for (let now = late + 4 * R; now < late + 12 * R && !collected; now += R / 4) {
    x.tick(now);
    collected = events(core).some((e) => e.kind === EV.GC_REMOTE && e.remote === remote);
  }
  assert.ok(collected);
});

test("tick with more expired timers than EV_CAP continues on the next call", () => {
  const core = mkCore({ maxConns: 3000 });
  const x = core.x;
  for (let i = 0; i < 2500; i++) { assert.is(accept(core), i); core.takeOut(); }
  const n1 = x.tick(5000);
  assert.is(n1, 2048);
  assert.ok(x.nextDeadline() <= 5000);
  const n2 = x.tick(5000);
  const timeouts = events(core).filter((e) => e.kind === EV.TIMEOUT).length;
  assert.is(timeouts, 2500 - 2048);
  assert.ok(n2 >= timeouts);
});

test("feed stops when the event area is nearly full and continues", () => {
  const { core, conn } = readyIncoming({ synchronous: false, maxSlots: 32, bufSize: 262144 });
  const side = new Side(core, conn, true);
  const frames: Uint8Array[] = [];
  for (let i = 0; i < 5000; i++) frames.push(frame(fill16(i & 255), i, 0, EMPTY, EMPTY));
  side.push(concat(...frames), 0);
  assert.is(side.msgs.length, 5000);
  assert.ok(side.feeds >= 3);
});

test("pair on a simulated clock: a held sync message times out, idle pair is collected, no livelock", () => {
  const p = new Pair({ synchronous: true }, { synchronous: true });
  p.b.autoRelease = false;
  assert.ok(p.a.send(fill16(0x31), EMPTY, ascii("x"), p.now) >= 0);
  p.a.core.x.writeStart(p.a.conn, p.now);
  p.a.core.x.writeDone(p.a.conn, 1, p.now);
  const seen = p.drive(T);
  const to = seen.a.find((e) => e.kind === EV.TIMEOUT);
  assert.ok(to, "A's send timed out at T");
  assert.is(to!.code, ST.ACK_TIMEOUT);
  assert.is(p.now, T);
  // The hosts close on the timeout; both sides then sit idle until GC collects their remotes.
  assert.is(p.a.core.x.connClose(p.a.conn, p.now) & 1, 1);
  assert.is(p.b.core.x.connClose(p.b.conn, p.now), 0);
  const later = p.drive(p.now + 3 * R);
  assert.ok(later.a.some((e) => e.kind === EV.GC_REMOTE && e.remote === p.ra));
  assert.ok(later.b.some((e) => e.kind === EV.GC_REMOTE && e.remote === p.b.remote));
  // A GC'd remote left in the table is reported again each run: drive still ends.
  p.drive(p.now + 10 * R);
});

test("pair: drive's step bound reports a pair that never goes quiet", () => {
  const p = new Pair({ synchronous: true }, { synchronous: true });
  // Remotes in use keep GC runs coming every R/2..R: a far horizon takes more than 5 steps.
  let threw = "";
  try {
    p.drive(1e9, 5);
  } catch (e) {
    threw = (e as Error).message;
  }
  assert.match(threw, /livelock/);
});

test.run();
