// The reader: `feed` parses the peer's handshake and frames from the IN area into event
// records (protocol.md §1.4, §2, §3; assembly/ABI.md "Reader rules"). One call parses every frame
// of one socket read; payload bytes are never copied, events point into IN.
import {
  CONN_FAILED, CONN_FREE, CONN_HANDSHAKE, E_ARG, E_BAD_FRAME, E_BAD_HANDSHAKE, E_FULL, E_STALE, E_TOO_BIG, EV_ACK,
  EV_BEGIN, EV_CAP, EV_CHUNK, EV_END, EV_ERROR, EV_HANDSHAKE, EV_MSG, EV_SIZE, FRAME_HEADER_SIZE,
  HANDSHAKE_SIZE, TYPE_NOOP,
} from "./abi";
import { evClear, evFinish, evMessage, evOther } from "./events";
import { configured, evBase, inBase, inCap, maxConns, maxMsgSize, slotMask } from "./globals";
import {
  C_ACTIVITY, C_BODYDONE, C_CURDL, C_CURHL, C_CURSERIAL, C_CURSLOT, C_CURTYPE, C_FIXED, C_GEN,
  C_HDRBUF, C_HDRLEN, C_HSBUF, C_HSDEADLINE, C_HSLEN, C_PAUSED, C_REMOTE, C_REQACK, C_RSTATE, C_STATE, C_USED,
  R_ACTIVITY, connPtr, copy16, remotePtr,
} from "./records";
import { ackReceived, connFailed, connHandshaken } from "./state";

// reader states (protocol.md §3.1: WAIT, SLOT, HEADER/DATA merged into BODY)
const RS_HDR: i32 = 0;
const RS_SLOT: i32 = 1;
const RS_BODY: i32 = 2;
const HDR_LEN: i32 = FRAME_HEADER_SIZE;

/**
 * Parses IN[0..len) for `conn`. Returns the bytes consumed (see ABI.md `feed`), -E_STALE for
 * a free connection or -E_ARG for a bad length.
 */
export function feed(conn: i32, len: i32, now: f64): i32 {
  evClear();
  if (!configured || conn < 0 || conn >= maxConns) return -E_STALE;
  const c = connPtr(conn);
  const state = load<i32>(c, C_STATE);
  if (state == CONN_FREE) return -E_STALE;
  if (len < 0 || len > inCap) return -E_ARG;
  if (state == CONN_FAILED) return 0; // an error was reported; the host closes it
  const gen = load<i32>(c, C_GEN);
  let p = inBase;
  const end = inBase + <usize>len;
  let ev = evBase;

  if (state == CONN_HANDSHAKE) {
    // §1.4: 18 bytes, buffered across reads (libchirp insists on one read, §10.1).
    const have = load<i32>(c, C_HSLEN);
    const n = min<i32>(HANDSHAKE_SIZE - have, len);
    memory.copy(c + C_HSBUF + <usize>have, p, <usize>n);
    p += <usize>n;
    store<i32>(c, have + n, C_HSLEN);
    if (have + n < HANDSHAKE_SIZE) return len;
    const port = <i32>bswap<u16>(load<u16>(c, C_HSBUF));
    if (port == 0) {
      // No node listens on port 0: junk, not a peer; it gets no remote record (protocol.md §1.5).
      store<f64>(c, Infinity, C_HSDEADLINE);
      connFailed(c);
      evFinish(evOther(ev, EV_ERROR, conn, gen, -1, E_BAD_HANDSHAKE, 0, 0));
      return n;
    }
    const filed = connHandshaken(conn, port, now);
    if (filed == -E_FULL) {
      // No remote record for this new peer: the connection failed.
      evFinish(evOther(ev, EV_ERROR, conn, gen, -1, E_FULL, 0, 0));
      return n;
    }
    ev = evOther(ev, EV_HANDSHAKE, conn, gen, filed, 0, <u32>port, c + C_HSBUF + 2);
  }

  const remote = load<i32>(c, C_REMOTE);
  let used = load<u32>(c, C_USED);
  let reqAck = load<u32>(c, C_REQACK);
  let rstate = load<i32>(c, C_RSTATE);
  let hdrLen = load<i32>(c, C_HDRLEN);
  let paused = load<i32>(c, C_PAUSED);
  const hdrBuf = c + C_HDRBUF;
  const slotIds = c + C_FIXED;
  // Stop with room for 3 records (CHUNK + END + ERROR), so a call never ends mid-frame.
  const evLimit = evBase + <usize>(EV_CAP - 3) * EV_SIZE;
  const limit = <u64>maxMsgSize;
  const mask = slotMask;
  let active = false;
  let failCode = 0;

  while (ev <= evLimit) {
    let h: usize;
    if (rstate == RS_BODY) {
      // Payload of a message announced by EV_BEGIN: hand out what this read holds.
      const hl = load<u32>(c, C_CURHL);
      const dl = load<u32>(c, C_CURDL);
      const total = hl + dl;
      const done = load<u32>(c, C_BODYDONE);
      const n = min<u32>(total - done, <u32>(end - p));
      if (n == 0) break;
      const slot = load<i32>(c, C_CURSLOT);
      const type = load<i32>(c, C_CURTYPE);
      const serial = load<u32>(c, C_CURSERIAL);
      const sid = slotIds + (<usize>slot << 4);
      ev = evMessage(ev, EV_CHUNK, conn, gen, remote, slot, type, serial, hl, dl, p, n, done, sid);
      p += <usize>n;
      store<u32>(c, done + n, C_BODYDONE);
      if (done + n == total) {
        ev = evMessage(ev, EV_END, conn, gen, remote, slot, type, serial, hl, dl, 0, 0, 0, sid);
        rstate = RS_HDR;
        active = true;
      }
      continue;
    } else if (rstate == RS_SLOT) {
      // A data header remembered while no slot was free (§3.2).
      if ((~used & mask) == 0) break;
      h = hdrBuf;
      rstate = RS_HDR;
    } else {
      // RS_HDR: collect 27 header bytes (§3.1 WAIT accumulates across reads).
      const avail = <i32>(end - p);
      if (hdrLen == 0 && avail >= HDR_LEN) {
        h = p;
        p += <usize>HDR_LEN;
      } else {
        if (avail == 0) break;
        const n = min<i32>(HDR_LEN - hdrLen, avail);
        memory.copy(hdrBuf + <usize>hdrLen, p, <usize>n);
        p += <usize>n;
        hdrLen += n;
        if (hdrLen < HDR_LEN) break;
        hdrLen = 0;
        h = hdrBuf;
      }
    }

    // Decode and validate (§2.1, §2.2, in the spec's order).
    const dl = bswap<u32>(load<u32>(h, 20));
    const hl = <u32>bswap<u16>(load<u16>(h, 24));
    const type = <i32>load<u8>(h, 26);
    const serial = bswap<u32>(load<u32>(h, 16));
    if (<u64>hl + <u64>dl > limit) { // 64-bit sum: no wrap (§3.5, §10.7)
      failCode = E_TOO_BIG;
      break;
    }
    if (type & 6) {
      if ((hl | dl) != 0 || (type & 1) != 0) {
        failCode = E_BAD_FRAME;
        break;
      }
      if (type & TYPE_NOOP) {
        // NOOP wins over ACK (§2.2); it only refreshes activity (§2.6, §5.5).
        active = true;
      } else if (remote >= 0) {
        // ACK: completes the remote's waiting message if the identity matches, else it is
        // stale and ignored (§2.6). It does not count as activity (§5.5).
        const r = remotePtr(remote);
        if (ackReceived(r, h)) ev = evOther(ev, EV_ACK, conn, gen, remote, 0, 0, h);
      }
      continue;
    }

    // Data frame: take a slot (§3.2) or pause before its payload.
    const free = ~used & mask;
    if (free == 0) {
      if (h != hdrBuf) memory.copy(hdrBuf, h, <usize>HDR_LEN);
      rstate = RS_SLOT;
      paused = 1;
      break;
    }
    paused = 0;
    const slot = <i32>ctz<u32>(free);
    const bit = <u32>1 << <u32>slot;
    used |= bit;
    if (type & 1) reqAck |= bit;
    else reqAck &= ~bit;
    const sid = slotIds + (<usize>slot << 4);
    copy16(sid, h);
    const total = hl + dl; // <= maxMsgSize, no wrap
    if (<u32>(end - p) >= total) {
      ev = evMessage(ev, EV_MSG, conn, gen, remote, slot, type, serial, hl, dl, p, total, 0, sid);
      p += <usize>total;
      active = true;
    } else {
      store<i32>(c, slot, C_CURSLOT);
      store<i32>(c, type, C_CURTYPE);
      store<u32>(c, serial, C_CURSERIAL);
      store<u32>(c, hl, C_CURHL);
      store<u32>(c, dl, C_CURDL);
      store<u32>(c, 0, C_BODYDONE);
      ev = evMessage(ev, EV_BEGIN, conn, gen, remote, slot, type, serial, hl, dl, 0, 0, 0, sid);
      rstate = RS_BODY;
    }
  }

  store<u32>(c, used, C_USED);
  store<u32>(c, reqAck, C_REQACK);
  store<i32>(c, rstate, C_RSTATE);
  store<i32>(c, hdrLen, C_HDRLEN);
  store<i32>(c, paused, C_PAUSED);
  if (active) {
    store<f64>(c, now, C_ACTIVITY);
    if (remote >= 0) store<f64>(remotePtr(remote), now, R_ACTIVITY);
  }
  if (failCode != 0) {
    // The loop only runs with room for 3 records, so this one fits.
    ev = evOther(ev, EV_ERROR, conn, gen, remote, failCode, 0, 0);
    connFailed(c);
  }
  evFinish(ev);
  return <i32>(p - inBase);
}
