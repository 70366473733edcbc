// The connection and remote records: their field offsets (internal to the core, not ABI),
// pointers to them, which ones are in use (counts and high-water marks, assigned only here)
// and the 16-byte identity/address helpers.
import { CONN_FREE, REMOTE_FREE } from "./abi";
import { configured, connBase, connStride, maxConns, maxRemotes, remoteBase, remoteStride } from "./globals";
import { gcArm } from "./timers";

// ── connection record ─────────────────────────────────────────────────────────────────────
export const C_STATE: usize = 0; //     i32 CONN_* (state.ts)
export const C_GEN: usize = 4; //       i32 generation, +1 on close
export const C_REMOTE: usize = 8; //    i32 remote index or -1
export const C_OUTGOING: usize = 12; // i32
export const C_PAUSED: usize = 16; //   i32 1 while a data header waits for a slot
export const C_RSTATE: usize = 20; //   i32 reader state RS_* (reader.ts)
export const C_HDRLEN: usize = 24; //   i32 header bytes buffered in C_HDRBUF
export const C_HSLEN: usize = 28; //    i32 handshake bytes buffered in C_HSBUF
export const C_USED: usize = 32; //     u32 slot in-use bitmask
export const C_REQACK: usize = 36; //   u32 slot REQ_ACK bitmask
export const C_CURSLOT: usize = 40; //  i32 slot of the message being streamed (RS_BODY)
export const C_CURTYPE: usize = 44; //  i32
export const C_CURSERIAL: usize = 48; // u32
export const C_CURHL: usize = 52; //    u32
export const C_CURDL: usize = 56; //    u32
export const C_BODYDONE: usize = 60; // u32 bytes of header‖data already announced
export const C_ACKHEAD: usize = 64; //  i32 ACK queue ring head
export const C_ACKCOUNT: usize = 68; // i32 ACK queue length
export const C_SERIAL: usize = 72; //   u32 serial counter used only while not filed under a remote
export const C_PORT: usize = 76; //     i32 handshake port of the peer
export const C_HSDEADLINE: usize = 80; //    f64 connect/handshake timer (Infinity = off)
export const C_WRITEDEADLINE: usize = 88; // f64 write timer
export const C_ACTIVITY: usize = 96; //      f64 last activity (protocol.md §5.5)
export const C_HDRBUF: usize = 104; //  27 bytes: partial or remembered frame header
export const C_HSBUF: usize = 132; //   18 bytes: partial handshake
export const C_ADDR: usize = 152; //    16 bytes: peer address (incoming: to find its remote)
export const C_FIXED: usize = 168; //   slot identities (maxSlots × 16), then ACK queue (ackCap × 16)

// ── remote record ─────────────────────────────────────────────────────────────────────────
export const R_STATE: usize = 0; //     i32 REMOTE_* (state.ts)
export const R_SERIAL: usize = 4; //    u32 last serial used (protocol.md §2.3)
export const R_CONN: usize = 8; //      i32 current connection or -1 (protocol.md §5.4)
export const R_ACK: usize = 12; //      i32 ACK_* (state.ts): sync messages wait for their ACKs
export const R_WAITCONN: usize = 16; // i32 connection those messages were written on
export const R_WAITGEN: usize = 20; //  i32 its generation
export const R_DIALING: usize = 24; //  i32 outgoing connection waiting for its handshake, or -1
export const R_PORT: usize = 28; //     i32 the peer's port
export const R_ACTIVITY: usize = 32; // f64
export const R_SENDDEADLINE: usize = 40; // f64 send (ACK) timer: the earliest entry's (Infinity = off)
export const R_DEBOUNCE: usize = 48; // f64 reconnect allowed from this time (protocol.md §4.5)
export const R_UNACKED: usize = 56; //  i32 synchronous messages waiting for their ACKs: entries 0 .. R_UNACKED - 1
export const R_WINDOW: usize = 60; //   i32 1: this remote's window fell back to one (an ACK timeout, §4.7); 0: the configured one
export const R_ADDR: usize = 72; //     16 bytes peer address
export const R_KEEP: usize = 88; //     i32 bit 0: the host has work for it (remoteKeep); bit 1: scratch of evictRemote
export const REMOTE_SIZE: usize = 96; // synchronous mode: then `window` entries of W_SIZE (protocol.md §4.7)
// ── entry of an unacknowledged message (after its remote record) ─────────────────────────────
export const W_ID: usize = 0; //        16 bytes identity of an unacknowledged message
export const W_DEADLINE: usize = 16; // f64 its send (ACK) timer
export const W_SIZE: usize = 24;

/** A lower bound of every armed deadline (connect/handshake, write, send, reconnect delay):
 * each one set lowers it (noteDeadline); a cleared one leaves it, so nextDeadline() may be
 * early, never late; tick's full scan makes it exact again (timers.ts). So nextDeadline() is
 * O(1) with 10,000 connections, and the O(records) scans run only when a timer fires. */
export let earliest: f64 = Infinity;
@inline export function noteDeadline(t: f64): void {
  if (t < earliest) earliest = t;
}
export function setEarliest(t: f64): void {
  earliest = t;
}

export let connsInUse: i32 = 0;
export let remotesInUse: i32 = 0;
export let connHigh: i32 = 0; // every used connection index is < connHigh
export let remoteHigh: i32 = 0; // every used remote index is < remoteHigh

@inline export function connPtr(conn: i32): usize {
  return connBase + <usize>conn * connStride;
}

@inline export function remotePtr(remote: i32): usize {
  return remoteBase + <usize>remote * remoteStride;
}

/** A connection index that names a record in use, or 0. */
export function liveConn(conn: i32): usize {
  if (!configured || conn < 0 || conn >= maxConns) return 0;
  const c = connPtr(conn);
  return load<i32>(c, C_STATE) != CONN_FREE ? c : 0;
}

/** A remote index that names a record in use, or 0. */
export function liveRemote(remote: i32): usize {
  if (!configured || remote < 0 || remote >= maxRemotes) return 0;
  const r = remotePtr(remote);
  return load<i32>(r, R_STATE) != REMOTE_FREE ? r : 0;
}

/** A free connection index, or -1. */
export function freeConn(): i32 {
  for (let i = 0; i < maxConns; i++) if (load<i32>(connPtr(i), C_STATE) == CONN_FREE) return i;
  return -1;
}

/** A free remote index, or -1. */
export function freeRemote(): i32 {
  for (let i = 0; i < maxRemotes; i++) if (load<i32>(remotePtr(i), R_STATE) == REMOTE_FREE) return i;
  return -1;
}

/** The remote in use for (address at addr, port), or -1 (protocol.md §5.1: a remote is one peer). */
export function findRemote(addr: usize, port: i32): i32 {
  const a0 = load<u64>(addr);
  const a1 = load<u64>(addr, 8);
  for (let i = 0; i < remoteHigh; i++) {
    const r = remotePtr(i);
    if (load<i32>(r, R_STATE) == REMOTE_FREE || load<i32>(r, R_PORT) != port) continue;
    if (load<u64>(r, R_ADDR) == a0 && load<u64>(r, R_ADDR + 8) == a1) return i;
  }
  return -1;
}

/** Book-keeping when a record comes into use: arms GC when the first one appears. */
export function noteConnUsed(conn: i32, now: f64): void {
  if (connsInUse + remotesInUse == 0) gcArm(now);
  connsInUse++;
  if (conn >= connHigh) connHigh = conn + 1;
}
export function noteConnFreed(conn: i32): void {
  connsInUse--;
  if (conn == connHigh - 1) {
    let h = conn;
    while (h > 0 && load<i32>(connPtr(h - 1), C_STATE) == CONN_FREE) h--;
    connHigh = h;
  }
}
export function noteRemoteUsed(remote: i32, now: f64): void {
  if (connsInUse + remotesInUse == 0) gcArm(now);
  remotesInUse++;
  if (remote >= remoteHigh) remoteHigh = remote + 1;
}
export function noteRemoteFreed(remote: i32): void {
  remotesInUse--;
  if (remote == remoteHigh - 1) {
    let h = remote;
    while (h > 0 && load<i32>(remotePtr(h - 1), R_STATE) == REMOTE_FREE) h--;
    remoteHigh = h;
  }
}

@inline export function copy16(dst: usize, src: usize): void {
  store<u64>(dst, load<u64>(src));
  store<u64>(dst, load<u64>(src, 8), 8);
}

@inline export function zero16(dst: usize): void {
  store<u64>(dst, 0);
  store<u64>(dst, 0, 8);
}

@inline export function eq16(a: usize, b: usize): bool {
  return load<u64>(a) == load<u64>(b) && load<u64>(a, 8) == load<u64>(b, 8);
}
