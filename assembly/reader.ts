// The reader: `feed` parses the peer's handshake and frames from the IN area into event
// records (spec §1.4, §2, §3; assembly/ABI.md "Reader rules"). One call parses every frame
// of one socket read; payload bytes are never copied, events point into IN.
import {
  C_ACTIVITY, C_BODYDONE, C_CURDL, C_CURHL, C_CURSERIAL, C_CURSLOT, C_CURTYPE, C_FIXED, C_GEN,
  C_HDRBUF, C_HDRLEN, C_HSBUF, C_HSDEADLINE, C_HSLEN, C_OUTGOING, C_PAUSED, C_PORT, C_REMOTE,
  C_REQACK, C_RSTATE, C_STATE, C_USED, CS_FAILED, CS_FREE, CS_HANDSHAKE, CS_READY, E_ENOMEM,
  E_PROTOCOL, E_VALUE, EV_ACK, EV_BEGIN, EV_CAP, EV_CHUNK, EV_END, EV_ERROR, EV_HANDSHAKE,
  EV_MSG, EV_NOOP, EV_SIZE, HANDSHAKE_LEN, HDR_LEN, R_ACTIVITY, R_CONN, R_SENDDEADLINE,
  R_WAITID, R_WAITING, RS_BODY, RS_HDR, RS_SLOT, T_NOOP, V_ID, configured, connPtr, copy16,
  eq16, evBase, evWrite, inBase, inCap, maxConns, maxMsgSize, remotePtr, setEvCount, slotMask,
  zero16,
} from "./layout";

/**
 * Parses IN[0..len) for `conn`. Returns the bytes consumed (see ABI.md `feed`), or -E_VALUE
 * for a bad connection or length.
 */
export function feed(conn: i32, len: i32, now: f64): i32 {
  if (!configured || conn < 0 || conn >= maxConns) return -E_VALUE;
  const c = connPtr(conn);
  const state = load<i32>(c, C_STATE);
  if (state == CS_FREE || len < 0 || len > inCap) return -E_VALUE;
  setEvCount(0);
  if (state == CS_FAILED) return 0; // an error was reported; the host closes it
  const gen = load<i32>(c, C_GEN);
  const remote = load<i32>(c, C_REMOTE);
  let p = inBase;
  const end = inBase + <usize>len;
  let ev = evBase;

  if (state == CS_HANDSHAKE) {
    // §1.4: 18 bytes, buffered across reads (libchirp insists on one read, §10.1).
    const have = load<i32>(c, C_HSLEN);
    const n = min<i32>(HANDSHAKE_LEN - have, len);
    memory.copy(c + C_HSBUF + <usize>have, p, <usize>n);
    p += <usize>n;
    store<i32>(c, have + n, C_HSLEN);
    if (have + n < HANDSHAKE_LEN) return len;
    const port = <u32>bswap<u16>(load<u16>(c, C_HSBUF));
    store<i32>(c, <i32>port, C_PORT);
    store<i32>(c, CS_READY, C_STATE);
    store<f64>(c, Infinity, C_HSDEADLINE);
    store<f64>(c, now, C_ACTIVITY);
    const outgoing = load<i32>(c, C_OUTGOING) != 0;
    if (outgoing && remote >= 0) {
      // §5.4: the connection that completes its handshake last becomes current.
      const r = remotePtr(remote);
      store<i32>(r, conn, R_CONN);
      store<f64>(r, now, R_ACTIVITY);
    }
    evWrite(ev, EV_HANDSHAKE, conn, -1, 0, 0, 0, 0, 0, 0, port, gen, outgoing ? remote : -1);
    copy16(ev + V_ID, c + C_HSBUF + 2);
    setEvCount(1);
    // An incoming connection has no remote yet: stop here so the host can connAttach before
    // any frame (an ACK in particular) is parsed, then feed the rest.
    if (!outgoing) return n;
    ev += <usize>EV_SIZE;
  }

  let used = load<u32>(c, C_USED);
  let reqAck = load<u32>(c, C_REQACK);
  let rstate = load<i32>(c, C_RSTATE);
  let hdrLen = load<i32>(c, C_HDRLEN);
  let paused = load<i32>(c, C_PAUSED);
  const hdrBuf = c + C_HDRBUF;
  const slotIds = c + C_FIXED;
  const evLimit = evBase + <usize>((EV_CAP - 3) * EV_SIZE);
  const limit = <u64>maxMsgSize;
  const mask = slotMask;
  let active = false;
  let failCode = 0;

  while (ev <= evLimit) {
    let h: usize;
    if (rstate == RS_BODY) {
      // Payload of a message announced by EV_BEGIN: hand out what this read holds.
      const total = load<u32>(c, C_CURHL) + load<u32>(c, C_CURDL);
      const done = load<u32>(c, C_BODYDONE);
      const avail = <u32>(end - p);
      const n = min<u32>(total - done, avail);
      if (n == 0) break;
      const slot = load<i32>(c, C_CURSLOT);
      const type = load<i32>(c, C_CURTYPE);
      const serial = load<u32>(c, C_CURSERIAL);
      const hl = load<u32>(c, C_CURHL);
      const dl = load<u32>(c, C_CURDL);
      evWrite(ev, EV_CHUNK, conn, slot, type, serial, hl, dl, p, <usize>n, done, gen, remote);
      copy16(ev + V_ID, slotIds + (<usize>slot << 4));
      ev += <usize>EV_SIZE;
      p += <usize>n;
      store<u32>(c, done + n, C_BODYDONE);
      if (done + n == total) {
        evWrite(ev, EV_END, conn, slot, type, serial, hl, dl, 0, 0, 0, gen, remote);
        copy16(ev + V_ID, slotIds + (<usize>slot << 4));
        ev += <usize>EV_SIZE;
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
      failCode = E_ENOMEM;
      break;
    }
    if (type & 6) {
      if ((hl | dl) != 0 || (type & 1) != 0) {
        failCode = E_PROTOCOL;
        break;
      }
      if (type & T_NOOP) {
        // NOOP wins over ACK (§2.2); it only refreshes activity (§2.6, §5.5).
        active = true;
        evWrite(ev, EV_NOOP, conn, -1, type, serial, 0, 0, 0, 0, 0, gen, remote);
        copy16(ev + V_ID, h);
        ev += <usize>EV_SIZE;
      } else if (remote >= 0) {
        // ACK: completes the remote's waiting message if the identity matches, else it is
        // stale and ignored (§2.6). It does not count as activity (§5.5).
        const r = remotePtr(remote);
        if (load<i32>(r, R_WAITING) != 0 && eq16(r + R_WAITID, h)) {
          store<i32>(r, 0, R_WAITING);
          store<f64>(r, Infinity, R_SENDDEADLINE);
          evWrite(ev, EV_ACK, conn, remote, type, serial, 0, 0, 0, 0, 0, gen, remote);
          copy16(ev + V_ID, h);
          ev += <usize>EV_SIZE;
        }
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
      evWrite(ev, EV_MSG, conn, slot, type, serial, hl, dl, p, p + <usize>hl, 0, gen, remote);
      copy16(ev + V_ID, sid);
      ev += <usize>EV_SIZE;
      p += <usize>total;
      active = true;
    } else {
      store<i32>(c, slot, C_CURSLOT);
      store<i32>(c, type, C_CURTYPE);
      store<u32>(c, serial, C_CURSERIAL);
      store<u32>(c, hl, C_CURHL);
      store<u32>(c, dl, C_CURDL);
      store<u32>(c, 0, C_BODYDONE);
      evWrite(ev, EV_BEGIN, conn, slot, type, serial, hl, dl, 0, 0, 0, gen, remote);
      copy16(ev + V_ID, sid);
      ev += <usize>EV_SIZE;
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
    evWrite(ev, EV_ERROR, conn, failCode, 0, 0, 0, 0, 0, 0, 0, gen, remote);
    zero16(ev + V_ID);
    ev += <usize>EV_SIZE;
    store<i32>(c, CS_FAILED, C_STATE);
  }
  setEvCount(<i32>((ev - evBase) / <usize>EV_SIZE));
  return <i32>(p - inBase);
}
