// The writer: encodes the handshake, ACK/NOOP control frames and data frame headers into the
// OUT area for one connection at a time (spec §1.4, §2.1, §2.3, §2.6, §4.1, §4.6).
import {
  C_ACKCOUNT, C_ACKHEAD, C_REMOTE, C_SERIAL, C_STATE, CS_HANDSHAKE, CS_READY, E_BUSY, E_EMPTY,
  E_SPACE, E_VALUE, HDR_LEN, IDENTITY, R_NOOPSENT, R_ACTIVITY, R_SENDDEADLINE, R_SERIAL,
  R_WAITCONN, R_WAITGEN, R_WAITID, R_WAITING, SCRATCH, T_ACK, T_NOOP, T_REQ_ACK, C_GEN, ackCap,
  ackOffset, copy16, liveConn, noopIdleMs, outBase, outCap, outConn, outLen, ownPort, remotePtr,
  setOut, synchronous, timeoutMs, zero16,
} from "./layout";

/** The next serial for a frame on this connection: +1 before every frame (§2.3). */
@inline function nextSerial(c: usize): u32 {
  const remote = load<i32>(c, C_REMOTE);
  // A connection not filed under a remote (incoming, before connAttach) uses its own counter.
  const holder = remote >= 0 ? remotePtr(remote) + R_SERIAL : c + C_SERIAL;
  const s = load<u32>(holder) + 1;
  store<u32>(holder, s);
  return s;
}

/** Writes a 27-byte frame header at dst (§2.1). idPtr 0 = 16 zero bytes. */
@inline function putHeader(dst: usize, idPtr: usize, serial: u32, dl: u32, hl: u32, type: i32): void {
  if (idPtr != 0) copy16(dst, idPtr);
  else zero16(dst);
  store<u32>(dst, bswap<u32>(serial), 16);
  store<u32>(dst, bswap<u32>(dl), 20);
  store<u16>(dst, bswap<u16>(<u16>hl), 24);
  store<u8>(dst, <u8>type, 26);
}

/** Appends our 18-byte handshake (§1.4) to OUT; the caller checked that OUT is free. */
export function putHandshake(conn: i32): void {
  const dst = outBase + <usize>outLen;
  store<u16>(dst, bswap<u16>(<u16>ownPort));
  copy16(dst + 2, IDENTITY);
  setOut(outLen + 18, conn);
}

/** Writes up to `n` queued ACKs of connection c at OUT+outLen; returns how many were written. */
function putAcks(c: usize, n: i32): i32 {
  let head = load<i32>(c, C_ACKHEAD);
  const count = load<i32>(c, C_ACKCOUNT);
  if (n > count) n = count;
  let dst = outBase + <usize>outLen;
  const q = c + ackOffset;
  for (let i = 0; i < n; i++) {
    putHeader(dst, q + (<usize>head << 4), nextSerial(c), 0, 0, T_ACK);
    dst += <usize>HDR_LEN;
    head++;
    if (head == ackCap) head = 0;
  }
  store<i32>(c, head, C_ACKHEAD);
  store<i32>(c, count - n, C_ACKCOUNT);
  return n;
}

/** flush(conn, now): appends queued control frames (ACKs, §4.1) to OUT. */
export function flush(conn: i32, now: f64): i32 {
  const c = liveConn(conn);
  if (c == 0) return -E_VALUE;
  const count = load<i32>(c, C_STATE) == CS_READY ? load<i32>(c, C_ACKCOUNT) : 0;
  const mine = outLen == 0 || outConn == conn;
  if (count == 0) return mine ? outLen : 0;
  if (!mine) return -E_BUSY;
  const room = (outCap - outLen) / HDR_LEN;
  const n = putAcks(c, min<i32>(room, count));
  setOut(outLen + n * HDR_LEN, conn);
  return n < count ? -E_SPACE : outLen;
}

/**
 * dataFrame(conn, hl, dl, inline, now): ACKs, then a NOOP probe if the remote was idle for
 * more than 0.75·R (§4.6), then the 27-byte header with the identity at SCRATCH. Returns the
 * OUT offset of that header. Nothing is written unless everything fits.
 */
export function dataFrame(conn: i32, hl: u32, dl: u32, inline: i32, now: f64): i32 {
  const c = liveConn(conn);
  if (c == 0) return -E_VALUE;
  const state = load<i32>(c, C_STATE);
  const remote = load<i32>(c, C_REMOTE);
  if (state == CS_HANDSHAKE) return -E_EMPTY;
  if (state != CS_READY) return -E_VALUE; // failed: the host closes it
  if (remote < 0) return -E_EMPTY; // incoming and not attached yet
  if (hl > 0xFFFF) return -E_VALUE;
  if (outLen != 0 && outConn != conn) return -E_BUSY;
  const r = remotePtr(remote);
  // One unacknowledged message per remote in synchronous mode (§4.1, §10.2).
  if (synchronous && load<i32>(r, R_WAITING) != 0) return -E_BUSY;
  const acks = load<i32>(c, C_ACKCOUNT);
  const seen = max<f64>(load<f64>(r, R_ACTIVITY), load<f64>(r, R_NOOPSENT));
  const noop = now - seen > noopIdleMs;
  let need = <u64>(HDR_LEN * (acks + (noop ? 2 : 1)));
  if (inline != 0) need += <u64>hl + <u64>dl;
  if (<u64>outLen + need > <u64>outCap) return -E_SPACE;

  putAcks(c, acks);
  let at = outLen + acks * HDR_LEN;
  if (noop) {
    putHeader(outBase + <usize>at, 0, nextSerial(c), 0, 0, T_NOOP);
    store<f64>(r, now, R_NOOPSENT);
    at += HDR_LEN;
  }
  const headerAt = at;
  putHeader(outBase + <usize>at, SCRATCH, nextSerial(c), dl, hl, synchronous ? T_REQ_ACK : 0);
  at += HDR_LEN;
  if (inline != 0) at += <i32>(hl + dl);
  setOut(at, conn);
  if (synchronous) {
    // The send timer belongs to this message, not to the connection's writes (fixes §4.3).
    store<i32>(r, 1, R_WAITING);
    store<i32>(r, conn, R_WAITCONN);
    store<i32>(r, load<i32>(c, C_GEN), R_WAITGEN);
    copy16(r + R_WAITID, SCRATCH);
    store<f64>(r, now + timeoutMs, R_SENDDEADLINE);
  }
  return headerAt;
}
