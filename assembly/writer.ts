// The writer: encodes the handshake, ACK control frames and data frame headers into the OUT
// area (protocol.md §1.4, §2.1, §2.3, §2.6, §4.1), retires idle connections at a send (§4.6),
// and owns OUT's fill (outLen, outConn).
// OUT holds bytes for one connection at a time: the host takes them (outReset) before a
// command for another connection; such a command before that is a host bug (-E_STATE).
import {
  A_IDENTITY, CF_IDENTITY, CONN_HANDSHAKE, CONN_READY, E_ARG, E_NOT_READY, E_RETIRED, E_SPACE, E_STALE,
  E_STATE, E_WAIT, FRAME_HEADER_SIZE, HEADER_LEN_MAX, TYPE_ACK, TYPE_REQ_ACK,
} from "./abi";
import { ARGS, CONFIG, ackCap, ackOffset, outBase, outCap, ownPort, retireIdleMs, synchronous } from "./globals";
import {
  C_ACKCOUNT, C_ACKHEAD, C_GEN, C_REMOTE, C_SERIAL, C_STATE, R_ACTIVITY, R_CONN, R_SERIAL,
  copy16, liveConn, remotePtr, zero16,
} from "./records";
import { ackMustWait, ackWaits, connRetired } from "./state";

const HDR_LEN: i32 = FRAME_HEADER_SIZE;

export let outLen: i32 = 0;
export let outConn: i32 = -1;

/** Whether OUT may take bytes for `conn` (it is empty or already holds conn's). */
@inline export function outFor(conn: i32): bool {
  return outLen == 0 || outConn == conn;
}

export function outReset(): void {
  outLen = 0;
  outConn = -1;
}

/** connClose: bytes not taken for a closed connection are dropped. */
export function outDrop(conn: i32): void {
  if (outLen != 0 && outConn == conn) outReset();
}

@inline function outSet(len: i32, conn: i32): void {
  outLen = len;
  outConn = len > 0 ? conn : -1;
}

/** The next serial for a frame on this connection: +1 before every frame (§2.3). */
@inline function nextSerial(c: usize): u32 {
  const remote = load<i32>(c, C_REMOTE);
  // A connection not filed under a remote (incoming, before its handshake) uses its own counter.
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

/** Appends our 18-byte handshake (§1.4) to OUT; the caller checked outFor(conn). */
export function putHandshake(conn: i32): void {
  const dst = outBase + <usize>outLen;
  store<u16>(dst, bswap<u16>(<u16>ownPort));
  copy16(dst + 2, CONFIG + CF_IDENTITY);
  outSet(outLen + 18, conn);
}

/** Writes up to `n` queued ACKs of connection c at OUT+outLen; returns how many were written. */
function putAcks(c: usize, n: i32): i32 {
  let head = load<i32>(c, C_ACKHEAD);
  const count = load<i32>(c, C_ACKCOUNT);
  if (n > count) n = count;
  let dst = outBase + <usize>outLen;
  const q = c + ackOffset;
  for (let i = 0; i < n; i++) {
    putHeader(dst, q + (<usize>head << 4), nextSerial(c), 0, 0, TYPE_ACK);
    dst += <usize>HDR_LEN;
    head++;
    if (head == ackCap) head = 0;
  }
  store<i32>(c, head, C_ACKHEAD);
  store<i32>(c, count - n, C_ACKCOUNT);
  return n;
}

/** flush(conn): appends queued ACKs (§4.1) to OUT; outLen(), 0 or -E_SPACE (some left). */
export function flush(conn: i32): i32 {
  const c = liveConn(conn);
  if (c == 0) return -E_STALE;
  const count = load<i32>(c, C_STATE) == CONN_READY ? load<i32>(c, C_ACKCOUNT) : 0;
  const mine = outFor(conn);
  if (count == 0) return mine ? outLen : 0;
  if (!mine) return -E_STATE;
  const room = (outCap - outLen) / HDR_LEN;
  const n = putAcks(c, min<i32>(room, count));
  outSet(outLen + n * HDR_LEN, conn);
  return n < count ? -E_SPACE : outLen;
}

/**
 * send(conn, hl, dl, inline, now): ACKs, then the 27-byte header with the identity of the args
 * record. Returns the OUT offset where the payload (header bytes, then data bytes) goes:
 * inside OUT if `inline`, else = outLen() (the host writes it after OUT). Nothing is written
 * unless everything fits. -E_RETIRED if the remote was idle for more than 0.75·R: the peer's
 * garbage collection may be closing this connection right now (it collects after R idle,
 * §5.5), so the connection stops being the remote's current one and the message goes over a
 * new one (§4.6; libchirp sends a NOOP probe first and loses the message if the probe
 * does not take the failure).
 */
export function send(conn: i32, hl: u32, dl: u32, inline: i32, now: f64): i32 {
  const c = liveConn(conn);
  if (c == 0) return -E_STALE;
  const state = load<i32>(c, C_STATE);
  const remote = load<i32>(c, C_REMOTE);
  if (state == CONN_HANDSHAKE) return -E_NOT_READY;
  if (state != CONN_READY) return -E_STATE; // failed: the host closes it
  if (remote < 0) return -E_NOT_READY; // not filed under a remote (its remote was freed)
  if (hl > <u32>HEADER_LEN_MAX) return -E_ARG;
  if (!outFor(conn)) return -E_STATE;
  const r = remotePtr(remote);
  // One unacknowledged message per remote in synchronous mode, or `window` of them on one
  // connection (§4.1, §4.7, §10.2).
  if (synchronous && ackMustWait(r, conn, load<i32>(c, C_GEN))) return -E_WAIT;
  if (now - load<f64>(r, R_ACTIVITY) > retireIdleMs && load<i32>(r, R_CONN) == conn) {
    connRetired(r);
    return -E_RETIRED;
  }
  const acks = load<i32>(c, C_ACKCOUNT);
  let need = <u64>(HDR_LEN * (acks + 1));
  if (inline != 0) need += <u64>hl + <u64>dl;
  if (<u64>outLen + need > <u64>outCap) return -E_SPACE;

  putAcks(c, acks);
  let at = outLen + acks * HDR_LEN;
  const id = ARGS + A_IDENTITY;
  putHeader(outBase + <usize>at, id, nextSerial(c), dl, hl, synchronous ? TYPE_REQ_ACK : 0);
  at += HDR_LEN;
  const payloadAt = at;
  if (inline != 0) at += <i32>(hl + dl);
  outSet(at, conn);
  if (synchronous) ackWaits(r, conn, load<i32>(c, C_GEN), id, now);
  return payloadAt;
}
