// Timers: `tick` reports expired connect/handshake, send (ACK) and write timeouts, the end of
// reconnect delays and garbage collection; `nextDeadline` tells the host when to call it
// (protocol.md §1.4, §4.3, §4.5, §5.5). The GC schedule and cursors are assigned only here.
import {
  CONN_FREE, CONN_READY, E_ACK_TIMEOUT, E_CONNECT_TIMEOUT, E_HANDSHAKE_TIMEOUT, E_WRITE_TIMEOUT,
  EV_CAP, EV_GC_CONN, EV_GC_REMOTE, EV_RETRY, EV_SIZE, EV_TIMEOUT, REMOTE_FREE,
} from "./abi";
import { evClear, evFinish, evOther } from "./events";
import { configured, evBase, reuseMs } from "./globals";
import { randUnit } from "./prng";
import {
  C_ACTIVITY, C_GEN, C_HSDEADLINE, C_OUTGOING, C_REMOTE, C_STATE, C_WRITEDEADLINE, R_ACTIVITY,
  R_CONN, R_DEBOUNCE, R_DIALING, R_SENDDEADLINE, R_STATE, R_WAITCONN, R_WAITGEN, connHigh, connPtr,
  connsInUse, earliest, remoteHigh, remotePtr, remotesInUse, setEarliest,
} from "./records";
import { ackTimedOut, ackWaiting, remoteDelayEnded, remoteInDelay } from "./state";

let gcNext: f64 = 0;
let gcRunning: bool = false;
let gcConnCursor: i32 = 0;
let gcRemoteCursor: i32 = 0;

/** GC interval: uniform in [R/2, R) (protocol.md §5.5, §6). */
function gcInterval(): f64 {
  return reuseMs * 0.5 + randUnit() * reuseMs * 0.5;
}

/** The first record came into use: the next GC run is one interval from now. */
export function gcArm(now: f64): void {
  gcNext = now + gcInterval();
  gcRunning = false;
  gcConnCursor = 0;
  gcRemoteCursor = 0;
}

/**
 * tick(now): runs expired timers, each reported once. If the event area fills up, the rest
 * stays due (nextDeadline() <= now) and the next tick continues, GC included.
 */
export function tick(now: f64): i32 {
  evClear();
  if (!configured) return 0;
  let ev = evBase;
  const end = evBase + <usize>EV_CAP * EV_SIZE;

  for (let i = 0; i < connHigh; i++) {
    const c = connPtr(i);
    if (load<i32>(c, C_STATE) == CONN_FREE) continue;
    if (load<f64>(c, C_HSDEADLINE) <= now) {
      if (ev >= end) return evFinish(ev);
      store<f64>(c, Infinity, C_HSDEADLINE);
      const code = load<i32>(c, C_OUTGOING) != 0 ? E_CONNECT_TIMEOUT : E_HANDSHAKE_TIMEOUT;
      ev = evOther(ev, EV_TIMEOUT, i, load<i32>(c, C_GEN), load<i32>(c, C_REMOTE), code, 0, 0);
    }
    if (load<f64>(c, C_WRITEDEADLINE) <= now) {
      if (ev >= end) return evFinish(ev);
      store<f64>(c, Infinity, C_WRITEDEADLINE);
      ev = evOther(ev, EV_TIMEOUT, i, load<i32>(c, C_GEN), load<i32>(c, C_REMOTE), E_WRITE_TIMEOUT, 0, 0);
    }
  }
  for (let i = 0; i < remoteHigh; i++) {
    const r = remotePtr(i);
    if (load<i32>(r, R_STATE) == REMOTE_FREE) continue;
    if (ackWaiting(r) && load<f64>(r, R_SENDDEADLINE) <= now) {
      if (ev >= end) return evFinish(ev);
      // The waiting messages stay recorded: connClose of their connection reports them abandoned.
      ackTimedOut(r);
      ev = evOther(ev, EV_TIMEOUT, load<i32>(r, R_WAITCONN), load<i32>(r, R_WAITGEN), i, E_ACK_TIMEOUT, 0, 0);
    }
    if (remoteInDelay(r) && load<f64>(r, R_DEBOUNCE) <= now) {
      if (ev >= end) return evFinish(ev);
      remoteDelayEnded(r, now);
      // The host redials on EV_RETRY (sends wait for it): that is activity, so the GC run
      // below in this same tick must not collect the remote with its queue (§5.5).
      store<f64>(r, now, R_ACTIVITY);
      ev = evOther(ev, EV_RETRY, -1, 0, i, 0, 0, 0);
    }
  }

  if (connsInUse + remotesInUse == 0) {
    gcRunning = false;
  } else if (gcRunning || now >= gcNext) {
    // §5.5: old connections and remotes idle for more than R.
    let ci = gcRunning ? gcConnCursor : 0;
    let ri = gcRunning ? gcRemoteCursor : 0;
    for (; ci < connHigh; ci++) {
      const c = connPtr(ci);
      if (load<i32>(c, C_STATE) != CONN_READY) continue;
      const remote = load<i32>(c, C_REMOTE);
      if (remote >= 0 && load<i32>(remotePtr(remote), R_CONN) == ci) continue;
      if (now - load<f64>(c, C_ACTIVITY) <= reuseMs) continue;
      if (ev >= end) return gcPause(ev, ci, ri);
      ev = evOther(ev, EV_GC_CONN, ci, load<i32>(c, C_GEN), remote, 0, 0, 0);
    }
    for (; ri < remoteHigh; ri++) {
      const r = remotePtr(ri);
      // Not a remote with work pending: an ACK awaited, a dial in progress (§5.5).
      if (load<i32>(r, R_STATE) == REMOTE_FREE || ackWaiting(r) || load<i32>(r, R_DIALING) >= 0) continue;
      if (now < load<f64>(r, R_DEBOUNCE)) continue;
      if (now - load<f64>(r, R_ACTIVITY) <= reuseMs) continue;
      if (ev >= end) return gcPause(ev, ci, ri);
      ev = evOther(ev, EV_GC_REMOTE, -1, 0, ri, 0, 0, 0);
    }
    gcArm(now);
  }
  setEarliest(scanDeadlines()); // every due timer was reported: the bound is exact again
  return evFinish(ev);
}

/** The event area is full mid-GC: the run resumes at these cursors on the next tick. */
function gcPause(ev: usize, ci: i32, ri: i32): i32 {
  gcRunning = true;
  gcConnCursor = ci;
  gcRemoteCursor = ri;
  return evFinish(ev);
}

/** nextDeadline(): the earliest time tick may have something to do, Infinity if nothing: a
 * lower bound, O(1) (records.ts earliest); a tick at a deadline cleared meanwhile finds
 * nothing and makes it exact. */
export function nextDeadline(): f64 {
  if (!configured) return Infinity;
  if (connsInUse + remotesInUse > 0) return min<f64>(earliest, gcNext);
  return earliest;
}

/** The earliest armed deadline, by a scan of every record in use (the end of a tick). */
function scanDeadlines(): f64 {
  let d: f64 = Infinity;
  for (let i = 0; i < connHigh; i++) {
    const c = connPtr(i);
    if (load<i32>(c, C_STATE) == CONN_FREE) continue;
    d = min<f64>(d, min<f64>(load<f64>(c, C_HSDEADLINE), load<f64>(c, C_WRITEDEADLINE)));
  }
  for (let i = 0; i < remoteHigh; i++) {
    const r = remotePtr(i);
    if (load<i32>(r, R_STATE) == REMOTE_FREE) continue;
    if (ackWaiting(r)) d = min<f64>(d, load<f64>(r, R_SENDDEADLINE));
    if (remoteInDelay(r)) d = min<f64>(d, load<f64>(r, R_DEBOUNCE));
  }
  return d;
}
