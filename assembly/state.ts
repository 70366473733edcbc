// The connection and remote state machines: every state transition of the core is in the
// tables below (h11's rule: all transitions in one place), and the functions here are the only
// code that changes C_STATE, R_STATE, R_ACK, R_CONN or R_DIALING. Other files call them.
//
// connection (C_STATE)       OPEN        HANDSHAKE   FAULT     CLOSE
//   FREE                     HANDSHAKE   -           -         -
//   HANDSHAKE                -           READY       FAILED    FREE
//   READY                    -           -           FAILED    FREE
//   FAILED                   -           -           -         FREE
//   (paused for a slot is a flag of READY, C_PAUSED, kept by the reader)
//
// remote (R_STATE)  OPEN  DIAL     WANT   DELAY_END UP         DIAL_LOST  DOWN  DOWN_DIALING FREE
//   FREE            IDLE  -        -      -         -          -          -     -            -
//   IDLE            -     DIALING  DELAY  -         CONNECTED  -          -     -            FREE
//   DELAY           -     -        DELAY  IDLE      CONNECTED  -          -     -            FREE
//   DIALING         -     -        -      -         CONNECTED  IDLE       -     -            FREE
//   CONNECTED       -     -        -      -         CONNECTED  CONNECTED  IDLE  DIALING      FREE
//   DIAL: an outgoing connection opened (R_DIALING); WANT: remoteDial during the reconnect
//   delay (§4.5); DELAY_END: tick, EV_RETRY; UP: a connection of it completed its handshake and
//   is now current (§5.4: the last one wins); DIAL_LOST: the dialled connection closed before
//   its handshake; DOWN: the current connection closed (no promotion of an older one, §5.4) or
//   was retired at a send after 0.75·R idle (§4.6).
//
// ACK (R_ACK)       SEND     ACK    ABANDON  SEND_MORE  ACK_SOME
//   NONE            WAITING  -      -        -          -
//   WAITING         -        NONE   NONE     WAITING    WAITING
//   (ABANDON: its connection closed, §10.10; SEND_MORE, ACK_SOME: with a window > 1, a
//   message joins the unacknowledged ones, or one of several is acknowledged, §4.7)
//
// A transition the table does not allow is a core bug: it traps (the fuzzer looks for them).
import { CONN_FREE, E_FULL, REMOTE_DELAY, REMOTE_FREE, REMOTE_IDLE } from "./abi";
import { ackWindow, connectTimeoutMs, remoteStride, timeoutMs } from "./globals";
import { rand32 } from "./prng";
import {
  C_ACTIVITY, C_ADDR, C_FIXED, C_GEN, C_HSDEADLINE, C_OUTGOING, C_PORT, C_REMOTE, C_SERIAL,
  C_STATE, C_WRITEDEADLINE, R_ACK, R_ACTIVITY, R_ADDR, R_CONN, R_DEBOUNCE, R_DIALING,
  R_KEEP, R_PORT, R_SENDDEADLINE, R_SERIAL, R_STATE, R_UNACKED, R_WAITCONN, R_WAITGEN, R_WINDOW,
  REMOTE_SIZE, W_DEADLINE, W_ID, W_SIZE, connHigh, connPtr, copy16, eq16, findRemote,
  freeRemote, liveRemote, noteConnFreed, noteConnUsed, noteDeadline, noteRemoteFreed,
  noteRemoteUsed, remoteHigh, remotePtr,
} from "./records";

const X: u8 = 0xFF;
const CE_OPEN = 0, CE_HANDSHAKE = 1, CE_FAULT = 2, CE_CLOSE = 3;
const CONN_EVENTS = 4;
// prettier-ignore
const CONN_NEXT: usize = memory.data<u8>([
  1, X, X, X, // FREE
  X, 2, 3, 0, // HANDSHAKE
  X, X, 3, 0, // READY
  X, X, X, 0, // FAILED
]);

const RE_OPEN = 0, RE_DIAL = 1, RE_WANT = 2, RE_DELAY_END = 3, RE_UP = 4, RE_DIAL_LOST = 5;
const RE_DOWN = 6, RE_DOWN_DIALING = 7, RE_FREE = 8;
const REMOTE_EVENTS = 9;
// prettier-ignore
const REMOTE_NEXT: usize = memory.data<u8>([
  1, X, X, X, X, X, X, X, X, // FREE
  X, 3, 2, X, 4, X, X, X, 0, // IDLE
  X, X, 2, 1, 4, X, X, X, 0, // DELAY
  X, X, X, X, 4, 1, X, X, 0, // DIALING
  X, X, X, X, 4, 4, 1, 3, 0, // CONNECTED
]);

export const ACK_NONE = 0, ACK_WAITING = 1;
const AE_SEND = 0, AE_ACK = 1, AE_ABANDON = 2, AE_SEND_MORE = 3, AE_ACK_SOME = 4;
const ACK_EVENTS = 5;
// prettier-ignore
const ACK_NEXT: usize = memory.data<u8>([
  1, X, X, X, X, // NONE
  X, 0, 0, 1, 1, // WAITING
]);

@inline function next(table: usize, events: i32, state: i32, event: i32): i32 {
  const n = load<u8>(table + <usize>(state * events + event));
  if (n == X) unreachable(); // not in the table: a core bug
  return <i32>n;
}
@inline function connTo(c: usize, event: i32): void {
  store<i32>(c, next(CONN_NEXT, CONN_EVENTS, load<i32>(c, C_STATE), event), C_STATE);
}
@inline function remoteTo(r: usize, event: i32): void {
  store<i32>(r, next(REMOTE_NEXT, REMOTE_EVENTS, load<i32>(r, R_STATE), event), R_STATE);
}
@inline function ackTo(r: usize, event: i32): void {
  store<i32>(r, next(ACK_NEXT, ACK_EVENTS, load<i32>(r, R_ACK), event), R_ACK);
}

// ── connections ───────────────────────────────────────────────────────────────────────────

/**
 * OPEN: a free record becomes a connection waiting for the peer's handshake, with the
 * connect/handshake timeout armed (§1.4; incoming too, §10.6). Outgoing ones are the remote's
 * dial (DIAL); incoming ones keep the peer address (`addr`) to find their remote later.
 */
export function connOpened(conn: i32, remote: i32, addr: usize, now: f64): void {
  const c = connPtr(conn);
  const gen = load<i32>(c, C_GEN);
  memory.fill(c, 0, C_FIXED);
  store<i32>(c, gen, C_GEN);
  connTo(c, CE_OPEN);
  store<i32>(c, remote, C_REMOTE);
  store<i32>(c, remote >= 0 ? 1 : 0, C_OUTGOING);
  store<u32>(c, rand32(), C_SERIAL);
  store<f64>(c, now + connectTimeoutMs, C_HSDEADLINE);
  noteDeadline(now + connectTimeoutMs);
  store<f64>(c, Infinity, C_WRITEDEADLINE);
  store<f64>(c, now, C_ACTIVITY);
  if (remote >= 0) {
    const r = remotePtr(remote);
    remoteTo(r, RE_DIAL);
    store<i32>(r, conn, R_DIALING);
    copy16(c + C_ADDR, r + R_ADDR);
  } else {
    copy16(c + C_ADDR, addr);
  }
  noteConnUsed(conn, now);
}

/**
 * HANDSHAKE: the peer's handshake arrived (§1.4). An outgoing connection stays filed under
 * the remote it dialled (whatever port the peer announces; libchirp strands the queue, §10.4);
 * an incoming one is filed under the remote for (peer address, announced port), found or made
 * (§5.1). Either becomes the remote's current connection (UP, §5.4). Returns the remote, or
 * -E_FULL if an incoming connection found no free remote record (the connection then FAULTs).
 */
export function connHandshaken(conn: i32, port: i32, now: f64): i32 {
  const c = connPtr(conn);
  store<i32>(c, port, C_PORT);
  store<f64>(c, Infinity, C_HSDEADLINE);
  store<f64>(c, now, C_ACTIVITY);
  let remote = load<i32>(c, C_REMOTE);
  if (load<i32>(c, C_OUTGOING) == 0) {
    remote = findRemote(c + C_ADDR, port);
    if (remote < 0) {
      remote = freeRemote();
      if (remote < 0) remote = evictRemote();
      if (remote < 0) {
        connTo(c, CE_FAULT);
        return -E_FULL;
      }
      remoteOpened(remote, c + C_ADDR, port, now);
    }
    store<i32>(c, remote, C_REMOTE);
  }
  connTo(c, CE_HANDSHAKE);
  const r = liveRemote(remote);
  if (r == 0) return -1; // outgoing, and the host freed its remote meanwhile
  remoteTo(r, RE_UP);
  store<i32>(r, conn, R_CONN);
  if (load<i32>(r, R_DIALING) == conn) store<i32>(r, -1, R_DIALING);
  // Activity (§5.5): a GC run must not report a remote whose new connection is still unused.
  store<f64>(r, now, R_ACTIVITY);
  return remote;
}

/** FAULT: the peer broke the protocol; the host closes the connection. */
export function connFailed(c: usize): void {
  connTo(c, CE_FAULT);
}

/**
 * CLOSE: frees the record (generation + 1, so late releases are ignored) and detaches it from
 * its remote: DOWN if it was current (no promotion, §5.4), DIAL_LOST if it was being dialled;
 * a message waiting for its ACK on it is ABANDONed (bit 0 of the result; one waiting on
 * another connection is kept, §10.10); the reconnect delay of 50–549 ms starts (§4.5).
 */
export function connClosed(conn: i32, now: f64): i32 {
  const c = connPtr(conn);
  let flags = 0;
  const r = liveRemote(load<i32>(c, C_REMOTE));
  if (r != 0) {
    if (load<i32>(r, R_DIALING) == conn) {
      store<i32>(r, -1, R_DIALING);
      remoteTo(r, RE_DIAL_LOST);
    }
    if (load<i32>(r, R_CONN) == conn) {
      store<i32>(r, -1, R_CONN);
      remoteTo(r, load<i32>(r, R_DIALING) >= 0 ? RE_DOWN_DIALING : RE_DOWN);
    }
    if (load<i32>(r, R_ACK) == ACK_WAITING && load<i32>(r, R_WAITCONN) == conn) {
      ackTo(r, AE_ABANDON);
      store<i32>(r, 0, R_UNACKED);
      store<f64>(r, Infinity, R_SENDDEADLINE);
      flags |= 1;
    }
    store<f64>(r, now + <f64>(50 + rand32() % 500), R_DEBOUNCE);
  }
  const gen = (load<i32>(c, C_GEN) + 1) & 0x7FFFFFFF;
  connTo(c, CE_CLOSE);
  memory.fill(c, 0, C_FIXED);
  store<i32>(c, gen, C_GEN);
  noteConnFreed(conn);
  return flags;
}

/**
 * DOWN without a close: the remote's current connection is retired (send after 0.75·R idle,
 * §4.6). It stays open for what the peer still sends on it and for its queued ACKs, as an old
 * connection that GC closes once idle (§5.4, §5.5); no reconnect delay starts, so the host
 * dials at once.
 */
export function connRetired(r: usize): void {
  store<i32>(r, -1, R_CONN);
  remoteTo(r, load<i32>(r, R_DIALING) >= 0 ? RE_DOWN_DIALING : RE_DOWN);
}

// ── remotes ───────────────────────────────────────────────────────────────────────────────

/** OPEN: a free record becomes the remote for (address, port), serials from a random start
 * (§2.3). */
export function remoteOpened(remote: i32, addr: usize, port: i32, now: f64): void {
  const r = remotePtr(remote);
  memory.fill(r, 0, remoteStride);
  remoteTo(r, RE_OPEN);
  store<u32>(r, rand32(), R_SERIAL);
  store<i32>(r, -1, R_CONN);
  store<i32>(r, -1, R_DIALING);
  store<i32>(r, -1, R_WAITCONN);
  store<i32>(r, port, R_PORT);
  copy16(r + R_ADDR, addr);
  store<f64>(r, now, R_ACTIVITY);
  store<f64>(r, Infinity, R_SENDDEADLINE);
  store<f64>(r, -Infinity, R_DEBOUNCE);
  noteRemoteUsed(remote, now);
}

/** FREE: forget it; connections still filed under it are detached. */
export function remoteFreed(remote: i32): void {
  const r = remotePtr(remote);
  for (let i = 0; i < connHigh; i++) {
    const c = connPtr(i);
    if (load<i32>(c, C_STATE) != CONN_FREE && load<i32>(c, C_REMOTE) == remote) store<i32>(c, -1, C_REMOTE);
  }
  remoteTo(r, RE_FREE);
  memory.fill(r, 0, remoteStride);
  noteRemoteFreed(remote);
}

/**
 * The table is full: frees the remote idle longest (least recent R_ACTIVITY) among those with
 * no work, and returns its index, or -1 if every remote is busy. No work: IDLE (no current or
 * dialled connection, no reconnect delay), no ACK awaited, no connection filed under it, and
 * not kept by the host (remoteKeep: sends queued). GC would collect it later anyway (§5.5);
 * evicting it at once keeps dead peers from locking out live ones (protocol.md §5.1).
 */
export function evictRemote(): i32 {
  const high = remoteHigh;
  for (let i = 0; i < connHigh; i++) {
    const c = connPtr(i);
    const remote = load<i32>(c, C_REMOTE);
    if (load<i32>(c, C_STATE) == CONN_FREE || remote < 0) continue;
    const r = remotePtr(remote);
    store<i32>(r, load<i32>(r, R_KEEP) | 2, R_KEEP);
  }
  let best = -1;
  let oldest: f64 = Infinity;
  for (let i = 0; i < high; i++) {
    const r = remotePtr(i);
    const s = load<i32>(r, R_STATE);
    if (s == REMOTE_FREE) continue;
    const keep = load<i32>(r, R_KEEP);
    if (keep & 2) store<i32>(r, keep & ~2, R_KEEP);
    if (s != REMOTE_IDLE || keep != 0 || ackWaiting(r)) continue;
    const seen = load<f64>(r, R_ACTIVITY);
    if (seen < oldest) {
      oldest = seen;
      best = i;
    }
  }
  if (best >= 0) remoteFreed(best);
  return best;
}

/** Whether remoteDial may open a connection now; WANT (-> DELAY) if the reconnect delay runs. */
export function remoteMayDial(r: usize, now: f64): bool {
  const s = load<i32>(r, R_STATE);
  if (s == REMOTE_IDLE && now >= load<f64>(r, R_DEBOUNCE)) return true;
  if (s == REMOTE_IDLE || s == REMOTE_DELAY) {
    remoteTo(r, RE_WANT);
    noteDeadline(load<f64>(r, R_DEBOUNCE)); // the reconnect delay is a deadline now (DELAY)
  }
  return false;
}

/** DELAY_END: tick found the reconnect delay over; true if EV_RETRY is due. */
export function remoteDelayEnded(r: usize, now: f64): bool {
  if (load<i32>(r, R_STATE) != REMOTE_DELAY || now < load<f64>(r, R_DEBOUNCE)) return false;
  remoteTo(r, RE_DELAY_END);
  return true;
}

/** Whether the remote's reconnect delay is what it waits for (tick, nextDeadline). */
@inline export function remoteInDelay(r: usize): bool {
  return load<i32>(r, R_STATE) == REMOTE_DELAY;
}

/** The entry of a remote's k-th unacknowledged message (after its record, globals.ts). */
@inline function ackEntry(r: usize, k: i32): usize {
  return r + REMOTE_SIZE + <usize>k * W_SIZE;
}

/** SEND: a synchronous message now waits for its ACK; the send timer T belongs to it, not to
 * the connection's writes (fixes §4.3). It joins the remote's entries (R_UNACKED of them, up
 * to the window, on one connection); R_SENDDEADLINE is the earliest of their timers. */
export function ackWaits(r: usize, conn: i32, gen: i32, id: usize, now: f64): void {
  const deadline = now + timeoutMs;
  noteDeadline(deadline);
  const n = load<i32>(r, R_UNACKED);
  ackTo(r, n == 0 ? AE_SEND : AE_SEND_MORE);
  const e = ackEntry(r, n);
  copy16(e + W_ID, id);
  store<f64>(e, deadline, W_DEADLINE);
  store<i32>(r, n + 1, R_UNACKED);
  if (n > 0) return; // the earlier ones' connection and timer stand
  store<i32>(r, conn, R_WAITCONN);
  store<i32>(r, gen, R_WAITGEN);
  store<f64>(r, deadline, R_SENDDEADLINE);
}

/** Whether a synchronous send on `conn` must wait (-E_WAIT): the window is full, or its
 * unacknowledged messages went over another connection (they are acknowledged, or abandoned
 * with it, first: one connection's ACKs, §10.10). */
export function ackMustWait(r: usize, conn: i32, gen: i32): bool {
  if (!ackWaiting(r)) return false;
  const window = load<i32>(r, R_WINDOW) == 1 ? 1 : ackWindow;
  if (load<i32>(r, R_UNACKED) >= window) return true;
  return load<i32>(r, R_WAITCONN) != conn || load<i32>(r, R_WAITGEN) != gen;
}

/** ACK: the waiting message with identity `id` was acknowledged (§2.6), in any order; false if
 * none waits with it (a stale ACK, ignored). */
export function ackReceived(r: usize, id: usize): bool {
  const n = load<i32>(r, R_UNACKED);
  for (let k = 0; k < n; k++) {
    const e = ackEntry(r, k);
    if (!eq16(e + W_ID, id)) continue;
    const last = ackEntry(r, n - 1);
    if (e != last) memory.copy(e, last, W_SIZE);
    store<i32>(r, n - 1, R_UNACKED);
    ackTo(r, n == 1 ? AE_ACK : AE_ACK_SOME);
    let d = Infinity;
    for (let j = 0; j < n - 1; j++) d = min<f64>(d, load<f64>(ackEntry(r, j), W_DEADLINE));
    store<f64>(r, d, R_SENDDEADLINE);
    return true;
  }
  return false;
}

/** The send timer fired (EV_TIMEOUT, the host closes the connection): no timer of the
 * waiting messages fires again; connClose reports them abandoned. The remote's window falls
 * back to one for as long as the remote is known: the peer lost an ACK of pipelined messages
 * (libchirp, §10.9) or replied before it released with fewer slots (§10.2), and one message
 * at a time is what both handle. */
export function ackTimedOut(r: usize): void {
  store<f64>(r, Infinity, R_SENDDEADLINE);
  store<i32>(r, 1, R_WINDOW);
  const n = load<i32>(r, R_UNACKED);
  for (let j = 0; j < n; j++) store<f64>(ackEntry(r, j), Infinity, W_DEADLINE);
}

@inline export function ackWaiting(r: usize): bool {
  return load<i32>(r, R_ACK) == ACK_WAITING;
}
