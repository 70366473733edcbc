// The synchronous window (protocol.md §4.7): up to `window` messages per remote wait for their
// ACKs at once, each matched by identity; the send timer is the earliest one's; a close
// abandons them all and an ACK timeout makes the remote's window one; a windowed node receives
// with as many slots.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { EV, ST } from "../../adapters/core/core.ts";
import { EMPTY, HS_PEER, ackFrame, ascii, concat, fill16, frame } from "./wire.ts";
import { T, events, feedOnce, kinds, readyIncoming, readyOutgoing } from "./pair.ts";

/** Sends a 1-byte message with identity fill16(id) at `now` and writes it; the send's result. */
function sendOne(ready: ReturnType<typeof readyOutgoing>, id: number, now: number): number {
  const { core, x, conn } = ready;
  core.mem.set(fill16(id), core.idPtr);
  const at = x.send(conn, 0, 1, 1, now);
  if (at >= 0) {
    core.takeOut();
    x.writeStart(conn, now);
    x.writeDone(conn, 1, now);
  }
  return at;
}

test("window 4: four messages wait at once, the fifth says WAIT; each ACK completes its own message, in any order; a stale one is ignored", () => {
  const ready = readyOutgoing({ synchronous: true, window: 4 });
  const { core, x, conn, remote } = ready;
  for (let k = 0; k < 4; k++) assert.ok(sendOne(ready, 0x70 + k, 0) >= 0, `message ${k}`);
  assert.is(sendOne(ready, 0x74, 0), -ST.WAIT, "the window is full");
  assert.is(x.remoteWaiting(remote), 1);
  let r = feedOnce(core, conn, ackFrame(fill16(0x72), 1), 10);
  assert.equal(kinds(r.evs), [EV.ACK]);
  assert.equal(r.evs[0].id, fill16(0x72));
  assert.is(r.evs[0].remote, remote);
  assert.ok(sendOne(ready, 0x74, 11) >= 0, "one place free again");
  assert.is(sendOne(ready, 0x75, 11), -ST.WAIT);
  r = feedOnce(core, conn, ackFrame(fill16(0x72), 2), 12);
  assert.equal(kinds(r.evs), [], "an ACK for a message already acknowledged is stale");
  r = feedOnce(core, conn, ackFrame(fill16(0x99), 3), 12);
  assert.equal(kinds(r.evs), [], "an ACK for no message is stale");
  r = feedOnce(core, conn, concat(ackFrame(fill16(0x74), 4), ackFrame(fill16(0x70), 5), ackFrame(fill16(0x73), 6), ackFrame(fill16(0x71), 7)), 20);
  assert.equal(kinds(r.evs), [EV.ACK, EV.ACK, EV.ACK, EV.ACK]);
  assert.equal(r.evs.map((e) => e.id[0]), [0x74, 0x70, 0x73, 0x71]);
  assert.is(x.remoteWaiting(remote), 0);
  assert.ok(sendOne(ready, 0x76, 21) >= 0);
});

test("window: the send timer is the earliest unacknowledged message's, fires once; connClose abandons them all; the remote's window then falls back to one", () => {
  const ready = readyOutgoing({ synchronous: true, window: 3 });
  const { core, x, conn, remote } = ready;
  assert.ok(sendOne(ready, 0x41, 0) >= 0);
  assert.ok(sendOne(ready, 0x42, 100) >= 0);
  assert.ok(sendOne(ready, 0x43, 200) >= 0);
  feedOnce(core, conn, ackFrame(fill16(0x41), 1), 50);
  assert.is(x.tick(T), 0, "the first one was acknowledged: no timeout at T");
  assert.ok(x.nextDeadline() <= 100 + T);
  assert.is(x.tick(100 + T - 1), 0);
  assert.is(x.tick(100 + T), 1);
  const e = events(core)[0];
  assert.equal([e.kind, e.code, e.conn, e.remote], [EV.TIMEOUT, ST.ACK_TIMEOUT, conn, remote]);
  assert.is(x.tick(200 + T), 0, "reported once for the connection");
  assert.is(x.connClose(conn, 200 + T) & 1, 1, "the waiting messages are abandoned");
  assert.is(x.remoteWaiting(remote), 0);
  // The remote's window fell back to one (the peer lost an ACK or waits on us, §4.7).
  const t = 200 + T + 2000; // past the reconnect delay
  const c2 = x.remoteDial(remote, t);
  assert.ok(c2 >= 0, `redial ${c2}`);
  core.takeOut();
  assert.equal(kinds(feedOnce(core, c2, HS_PEER, t).evs), [EV.HANDSHAKE]);
  const again = { ...ready, conn: c2 };
  assert.ok(sendOne(again, 0x44, t) >= 0);
  assert.is(sendOne(again, 0x45, t), -ST.WAIT, "one message at a time now");
  feedOnce(core, c2, ackFrame(fill16(0x44), 2), t + 1);
  assert.ok(sendOne(again, 0x45, t + 2) >= 0);
});

test("window 1 (the default) is libchirp's: one message waits, a second says WAIT", () => {
  const ready = readyOutgoing({ synchronous: true });
  assert.ok(sendOne(ready, 0x31, 0) >= 0);
  assert.is(sendOne(ready, 0x32, 0), -ST.WAIT);
  const r = feedOnce(ready.core, ready.conn, ackFrame(fill16(0x31), 1), 5);
  assert.equal(kinds(r.evs), [EV.ACK]);
  assert.ok(sendOne(ready, 0x32, 6) >= 0);
});

test("a synchronous node with window 3 receives with 3 slots: the fourth message waits for a release", () => {
  const { core, x, conn } = readyIncoming({ synchronous: true, window: 3 });
  const msgs = [1, 2, 3, 4].map((k) => frame(fill16(0x10 + k), k, 1, EMPTY, ascii(`m${k}`)));
  let r = feedOnce(core, conn, concat(...msgs), 10);
  assert.equal(kinds(r.evs), [EV.MSG, EV.MSG, EV.MSG]);
  const rest = concat(...msgs).subarray(r.used);
  assert.ok(rest.length > 0, "the fourth frame is held back");
  assert.ok(x.release(conn, x.connGen(conn), r.evs[0].slot) >= 0);
  r = feedOnce(core, conn, rest, 20);
  assert.equal(kinds(r.evs), [EV.MSG]);
  assert.equal(r.evs[0].id, fill16(0x14));
});

test.run();
