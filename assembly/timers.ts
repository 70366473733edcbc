// Timers: `tick` reports expired connect/handshake, send (ACK) and write timeouts, debounce
// ends and garbage collection; `nextDeadline` tells the host when to call it (spec §1.4, §4.3,
// §4.5, §5.5).
import {
  C_ACTIVITY, C_GEN, C_HSDEADLINE, C_REMOTE, C_STATE, C_WRITEDEADLINE, CS_FREE, CS_READY,
  EV_CAP, EV_GC_CONN, EV_GC_REMOTE, EV_RETRY, EV_SIZE, EV_TIMEOUT, R_ACTIVITY, R_CONN,
  R_DEBOUNCE, R_INUSE, R_SENDDEADLINE, R_WAITCONN, R_WAITGEN, R_WAITING, R_WANT, TK_CONNECT,
  TK_SEND, TK_WRITE, V_ID, configured, connHigh, connPtr, connsInUse, evBase, evWrite,
  gcConnCursor, gcInterval, gcNext, gcRemoteCursor, gcRunning, remoteHigh, remotePtr,
  remotesInUse, reuseMs, setEvCount, setGc, zero16,
} from "./layout";

let ev: usize = 0;

@inline function emit(kind: i32, conn: i32, slot: i32, aux: u32, gen: i32, remote: i32): void {
  evWrite(ev, kind, conn, slot, 0, 0, 0, 0, 0, 0, aux, gen, remote);
  zero16(ev + V_ID);
  ev += <usize>EV_SIZE;
}

/**
 * tick(now): runs expired timers, each reported once. If the event area fills up, the rest
 * stays due (nextDeadline() <= now) and the next tick continues, GC included.
 */
export function tick(now: f64): i32 {
  setEvCount(0);
  if (!configured) return 0;
  ev = evBase;
  const end = evBase + <usize>(EV_CAP * EV_SIZE);

  for (let i = 0; i < connHigh; i++) {
    const c = connPtr(i);
    if (load<i32>(c, C_STATE) == CS_FREE) continue;
    if (load<f64>(c, C_HSDEADLINE) <= now) {
      if (ev >= end) return finish();
      store<f64>(c, Infinity, C_HSDEADLINE);
      emit(EV_TIMEOUT, i, -1, TK_CONNECT, load<i32>(c, C_GEN), load<i32>(c, C_REMOTE));
    }
    if (load<f64>(c, C_WRITEDEADLINE) <= now) {
      if (ev >= end) return finish();
      store<f64>(c, Infinity, C_WRITEDEADLINE);
      emit(EV_TIMEOUT, i, -1, TK_WRITE, load<i32>(c, C_GEN), load<i32>(c, C_REMOTE));
    }
  }
  for (let i = 0; i < remoteHigh; i++) {
    const r = remotePtr(i);
    if (load<i32>(r, R_INUSE) == 0) continue;
    if (load<i32>(r, R_WAITING) != 0 && load<f64>(r, R_SENDDEADLINE) <= now) {
      if (ev >= end) return finish();
      // The waiting message stays recorded: connClose of its connection reports it abandoned.
      store<f64>(r, Infinity, R_SENDDEADLINE);
      emit(EV_TIMEOUT, load<i32>(r, R_WAITCONN), i, TK_SEND, load<i32>(r, R_WAITGEN), i);
    }
    if (load<i32>(r, R_WANT) != 0 && load<f64>(r, R_DEBOUNCE) <= now) {
      if (ev >= end) return finish();
      store<i32>(r, 0, R_WANT);
      emit(EV_RETRY, -1, i, 0, 0, i);
    }
  }

  if (connsInUse + remotesInUse == 0) {
    setGc(gcNext, false, 0, 0);
  } else if (gcRunning || now >= gcNext) {
    // §5.5: old connections and remotes idle for more than R.
    let ci = gcRunning ? gcConnCursor : 0;
    let ri = gcRunning ? gcRemoteCursor : 0;
    for (; ci < connHigh; ci++) {
      const c = connPtr(ci);
      if (load<i32>(c, C_STATE) != CS_READY) continue;
      const remote = load<i32>(c, C_REMOTE);
      if (remote >= 0 && load<i32>(remotePtr(remote), R_CONN) == ci) continue;
      if (now - load<f64>(c, C_ACTIVITY) <= reuseMs) continue;
      if (ev >= end) {
        setGc(gcNext, true, ci, ri);
        return finish();
      }
      emit(EV_GC_CONN, ci, -1, 0, load<i32>(c, C_GEN), remote);
    }
    for (; ri < remoteHigh; ri++) {
      const r = remotePtr(ri);
      if (load<i32>(r, R_INUSE) == 0 || load<i32>(r, R_WAITING) != 0) continue;
      if (now < load<f64>(r, R_DEBOUNCE)) continue;
      if (now - load<f64>(r, R_ACTIVITY) <= reuseMs) continue;
      if (ev >= end) {
        setGc(gcNext, true, ci, ri);
        return finish();
      }
      emit(EV_GC_REMOTE, -1, ri, 0, 0, ri);
    }
    setGc(now + gcInterval(), false, 0, 0);
  }
  return finish();
}

function finish(): i32 {
  const n = <i32>((ev - evBase) / <usize>EV_SIZE);
  setEvCount(n);
  return n;
}

/** nextDeadline(): the earliest time tick has something to do, Infinity if nothing. */
export function nextDeadline(): f64 {
  if (!configured) return Infinity;
  let d: f64 = Infinity;
  for (let i = 0; i < connHigh; i++) {
    const c = connPtr(i);
    if (load<i32>(c, C_STATE) == CS_FREE) continue;
    d = min<f64>(d, min<f64>(load<f64>(c, C_HSDEADLINE), load<f64>(c, C_WRITEDEADLINE)));
  }
  for (let i = 0; i < remoteHigh; i++) {
    const r = remotePtr(i);
    if (load<i32>(r, R_INUSE) == 0) continue;
    if (load<i32>(r, R_WAITING) != 0) d = min<f64>(d, load<f64>(r, R_SENDDEADLINE));
    if (load<i32>(r, R_WANT) != 0) d = min<f64>(d, load<f64>(r, R_DEBOUNCE));
  }
  if (connsInUse + remotesInUse > 0) d = min<f64>(d, gcNext);
  return d;
}
