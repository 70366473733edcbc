// The host's commands on connections and remotes, and its write notifications: argument
// checks, then the state transitions of state.ts and the encoding of writer.ts
// (assembly/ABI.md "Commands").
import {
  A_ADDRESS, CONN_READY, E_ARG, E_FULL, E_LATER, E_SPACE, E_STALE, E_STATE, RELEASE_RESUME,
  REMOTE_CONNECTED,
} from "./abi";
import { ARGS, ackCap, ackOffset, configured, maxSlots, timeoutMs } from "./globals";
import {
  C_ACKCOUNT, C_ACKHEAD, C_ACTIVITY, C_FIXED, C_GEN, C_PAUSED, C_REMOTE, C_REQACK, C_STATE, C_USED,
  C_WRITEDEADLINE, R_ACTIVITY, R_KEEP, R_STATE, copy16, findRemote, freeConn, freeRemote, liveConn,
  liveRemote, noteDeadline,
} from "./records";
import { connClosed, connOpened, evictRemote, remoteFreed, remoteMayDial, remoteOpened } from "./state";
import { outDrop, outFor, putHandshake } from "./writer";

/** connAccept(now): an accepted socket from the address in the args record; appends our
 * handshake (§1.4) to OUT. */
export function connAccept(now: f64): i32 {
  if (!configured || !outFor(-1)) return -E_STATE;
  const conn = freeConn();
  if (conn < 0) return -E_FULL;
  connOpened(conn, -1, ARGS + A_ADDRESS, now);
  putHandshake(conn);
  return conn;
}

/** connClose(conn, now): the host closed (or is closing) the socket (state.ts connClosed). */
export function connClose(conn: i32, now: f64): i32 {
  if (liveConn(conn) == 0) return -E_STALE;
  outDrop(conn);
  return connClosed(conn, now);
}

/** remoteOpen(port, now): the remote for (args address, port), found or made (§5.1). */
export function remoteOpen(port: i32, now: f64): i32 {
  if (!configured) return -E_STATE;
  if (port < 0 || port > 65535) return -E_ARG;
  const found = findRemote(ARGS + A_ADDRESS, port);
  if (found >= 0) return found;
  let remote = freeRemote();
  if (remote < 0) remote = evictRemote();
  if (remote < 0) return -E_FULL;
  remoteOpened(remote, ARGS + A_ADDRESS, port, now);
  return remote;
}

/** remoteKeep(remote, keep): the host has work queued for the remote (1), so evictRemote
 * leaves it alone, or no more (0). */
export function remoteKeep(remote: i32, keep: i32): i32 {
  const r = liveRemote(remote);
  if (r == 0) return -E_STALE;
  store<i32>(r, keep != 0 ? 1 : 0, R_KEEP);
  return 0;
}

/** remoteFree(remote): forget it; connections still filed under it are detached. */
export function remoteFree(remote: i32): i32 {
  if (liveRemote(remote) == 0) return -E_STALE;
  remoteFreed(remote);
  return 0;
}

/**
 * remoteDial(remote, now): a new outgoing connection to dial now (our handshake in OUT), or
 * -E_LATER while one is being dialled or the reconnect delay runs (§4.5: then EV_RETRY comes
 * when it ends). -E_STATE if the remote is connected (use remoteConn).
 */
export function remoteDial(remote: i32, now: f64): i32 {
  const r = liveRemote(remote);
  if (r == 0) return -E_STALE;
  if (load<i32>(r, R_STATE) == REMOTE_CONNECTED || !outFor(-1)) return -E_STATE;
  if (!remoteMayDial(r, now)) return -E_LATER;
  const conn = freeConn();
  if (conn < 0) return -E_FULL;
  connOpened(conn, remote, 0, now);
  putHandshake(conn);
  return conn;
}

/**
 * release(conn, gen, slot): the application released the message in `slot`; queues an ACK if
 * it had REQ_ACK and its connection is ready (§3.6). Result flags: RELEASE_ACK_QUEUED (flush
 * and write), RELEASE_RESUME (the connection is paused for a slot: feed it again).
 */
export function release(conn: i32, gen: i32, slot: i32): i32 {
  const c = liveConn(conn);
  if (c == 0 || load<i32>(c, C_GEN) != gen) return -E_STALE;
  if (slot < 0 || slot >= maxSlots) return -E_ARG;
  const bit = <u32>1 << <u32>slot;
  const used = load<u32>(c, C_USED);
  if ((used & bit) == 0) return -E_STALE; // released already
  let result = 0;
  if ((load<u32>(c, C_REQACK) & bit) != 0 && load<i32>(c, C_STATE) == CONN_READY) {
    const count = load<i32>(c, C_ACKCOUNT);
    if (count >= ackCap) return -E_SPACE;
    let tail = load<i32>(c, C_ACKHEAD) + count;
    if (tail >= ackCap) tail -= ackCap;
    copy16(c + ackOffset + (<usize>tail << 4), c + C_FIXED + (<usize>slot << 4));
    store<i32>(c, count + 1, C_ACKCOUNT);
    result = 1;
  }
  store<u32>(c, used & ~bit, C_USED);
  store<u32>(c, load<u32>(c, C_REQACK) & ~bit, C_REQACK);
  if (load<i32>(c, C_PAUSED) != 0) result |= RELEASE_RESUME;
  return result;
}

/** writeStart(conn, now): bytes were handed to the socket; arms the write timeout T. */
export function writeStart(conn: i32, now: f64): void {
  const c = liveConn(conn);
  if (c == 0) return;
  if (load<f64>(c, C_WRITEDEADLINE) == Infinity) {
    store<f64>(c, now + timeoutMs, C_WRITEDEADLINE);
    noteDeadline(now + timeoutMs);
  }
}

/** writeDone(conn, idle, now): a write completed: activity (§5.5), write timer off or re-armed. */
export function writeDone(conn: i32, idle: i32, now: f64): void {
  const c = liveConn(conn);
  if (c == 0) return;
  store<f64>(c, idle != 0 ? Infinity : now + timeoutMs, C_WRITEDEADLINE);
  if (idle == 0) noteDeadline(now + timeoutMs);
  store<f64>(c, now, C_ACTIVITY);
  const r = liveRemote(load<i32>(c, C_REMOTE));
  if (r != 0) store<f64>(r, now, R_ACTIVITY);
}
