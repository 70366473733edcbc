// Entry of the Chirp protocol core (core.wasm): the exported ABI of assembly/ABI.md. A sans-IO
// state machine for the libchirp 1.2 wire protocol (../shared/spec/chirp-wire.md): it never
// does I/O, never reads a clock, imports nothing and never allocates after `configure`.
//
//   socket bytes ─► IN ─feed(conn,len,now)─► core ─► OUT ─► bytes to write
//                                             └──► EVENT records;  tick(now) / nextDeadline()
//
// This file holds setup, region getters, connection and remote records; the reader is in
// reader.ts, the encoder in writer.ts, timers and GC in timers.ts, the layout in layout.ts.
import {
  C_ACKCOUNT, C_ACKHEAD, C_ACTIVITY, C_FIXED, C_GEN, C_HSDEADLINE, C_OUTGOING, C_PAUSED,
  C_REMOTE, C_REQACK, C_SERIAL, C_STATE, C_USED, C_WRITEDEADLINE, CS_FREE, CS_HANDSHAKE,
  CS_READY, E_BUSY, E_EMPTY, E_ENOMEM, E_SPACE, E_VALUE, IDENTITY, R_ACTIVITY, R_CONN,
  R_DEBOUNCE, R_INUSE, R_NOOPSENT, R_SENDDEADLINE, R_SERIAL, R_WAITCONN, R_WAITING, R_WANT,
  REMOTE_SIZE, SCRATCH, ackCap, configured, ackOffset, configureLayout, connectTimeoutMs,
  connHigh, connPtr, copy16, debounceMs, evBase, evCount, inBase, inCap, liveConn, liveRemote,
  maxConns, maxRemotes, maxSlots, memoryEnd, noteConnFreed, noteConnUsed, noteRemoteFreed,
  noteRemoteUsed, outBase, outCap, outConn, outLen, rand32, remotePtr, setOut, timeoutMs,
} from "./layout";
import { putHandshake } from "./writer";

export { feed } from "./reader";
export { flush, dataFrame } from "./writer";
export { tick, nextDeadline } from "./timers";

/** The `abort` of this module (asconfig `use`): trap, import nothing. */
// eslint-disable-next-line @typescript-eslint/no-unused-vars
function abortTrap(message: usize, fileName: usize, line: u32, column: u32): void {
  unreachable();
}

// ── setup and regions ──────────────────────────────────────────────────────────────────────

export function identityPtr(): i32 { return <i32>IDENTITY; }
export function scratchPtr(): i32 { return <i32>SCRATCH; }

export function configure(
  maxConns: i32, maxRemotes: i32, maxSlots: i32, synchronous: i32, maxMsgSize: u32,
  timeoutMs: f64, reuseMs: f64, bufSize: i32, port: i32, seedLo: i32, seedHi: i32,
): i32 {
  return configureLayout(
    maxConns, maxRemotes, maxSlots, synchronous, maxMsgSize, timeoutMs, reuseMs, bufSize, port,
    seedLo, seedHi,
  );
}

export function memoryBytes(): i32 { return <i32>memoryEnd; }
export function inPtr(): i32 { return <i32>inBase; }
function inCapacity(): i32 { return inCap; }
export function outPtr(): i32 { return <i32>outBase; }
function outCapacity(): i32 { return outCap; }
function outLength(): i32 { return outLen; }
function outConnection(): i32 { return outLen > 0 ? outConn : -1; }
export function outReset(): void { setOut(0, -1); }
export function evPtr(): i32 { return <i32>evBase; }
function evCountNow(): i32 { return evCount; }

// ABI names (AssemblyScript cannot export a function under a global's name directly).
export { inCapacity as inCap, outCapacity as outCap, outLength as outLen };
export { outConnection as outConn, evCountNow as evCount };

// ── connections ────────────────────────────────────────────────────────────────────────────

/**
 * connOpen(outgoing, remote, now): a new connection record; appends our handshake to OUT and
 * arms the connect/handshake timeout min(2·T, 60 s) (§1.4; incoming too, fixes §10.6).
 */
export function connOpen(outgoing: i32, remote: i32, now: f64): i32 {
  if (!configured) return -E_VALUE;
  if (outgoing != 0 && liveRemote(remote) == 0) return -E_VALUE;
  if (outLen != 0) return -E_BUSY; // OUT holds bytes for another connection
  let conn = -1;
  for (let i = 0; i < maxConns; i++) {
    if (load<i32>(connPtr(i), C_STATE) == CS_FREE) {
      conn = i;
      break;
    }
  }
  if (conn < 0) return -E_ENOMEM;
  const c = connPtr(conn);
  const gen = load<i32>(c, C_GEN);
  memory.fill(c, 0, C_FIXED);
  store<i32>(c, gen, C_GEN);
  store<i32>(c, CS_HANDSHAKE, C_STATE);
  store<i32>(c, outgoing != 0 ? remote : -1, C_REMOTE);
  store<i32>(c, outgoing != 0 ? 1 : 0, C_OUTGOING);
  store<u32>(c, rand32(), C_SERIAL);
  store<f64>(c, now + connectTimeoutMs, C_HSDEADLINE);
  store<f64>(c, Infinity, C_WRITEDEADLINE);
  store<f64>(c, now, C_ACTIVITY);
  noteConnUsed(conn, now);
  putHandshake(conn);
  return conn;
}

export function connGen(conn: i32): i32 {
  if (conn < 0 || conn >= maxConns) return -E_VALUE;
  return load<i32>(connPtr(conn), C_GEN);
}

export function connState(conn: i32): i32 {
  if (conn < 0 || conn >= maxConns) return CS_FREE;
  return load<i32>(connPtr(conn), C_STATE);
}

export function connRemote(conn: i32): i32 {
  const c = liveConn(conn);
  return c != 0 ? load<i32>(c, C_REMOTE) : -1;
}

export function connPaused(conn: i32): i32 {
  const c = liveConn(conn);
  return c != 0 ? load<i32>(c, C_PAUSED) : 0;
}

/**
 * connAttach(conn, remote, now): files a handshaken incoming connection under `remote` and
 * makes it the remote's current connection (§5.3, §5.4).
 */
export function connAttach(conn: i32, remote: i32, now: f64): i32 {
  const c = liveConn(conn);
  const r = liveRemote(remote);
  if (c == 0 || r == 0) return -E_VALUE;
  if (load<i32>(c, C_STATE) != CS_READY) return -E_EMPTY;
  const old = load<i32>(c, C_REMOTE);
  if (old >= 0 && old != remote) return -E_VALUE;
  store<i32>(c, remote, C_REMOTE);
  store<i32>(r, conn, R_CONN);
  store<f64>(r, now, R_ACTIVITY);
  return 0;
}

/**
 * connClose(conn, now): frees the record (generation + 1, so late releases are ignored),
 * detaches it from its remote without promoting another connection (like libchirp: the remote
 * has no current connection until a new handshake or connAttach), and starts the remote's
 * reconnect debounce (§4.5). Returns bit 0 set if the remote's ACK-waiting message was written
 * on this connection (now abandoned); a message waiting on another connection is kept (§10.10).
 */
export function connClose(conn: i32, now: f64): i32 {
  const c = liveConn(conn);
  if (c == 0) return -E_VALUE;
  let flags = 0;
  const remote = load<i32>(c, C_REMOTE);
  const r = liveRemote(remote);
  if (r != 0) {
    if (load<i32>(r, R_CONN) == conn) store<i32>(r, -1, R_CONN);
    if (load<i32>(r, R_WAITING) != 0 && load<i32>(r, R_WAITCONN) == conn) {
      store<i32>(r, 0, R_WAITING);
      store<f64>(r, Infinity, R_SENDDEADLINE);
      flags |= 1;
    }
    store<f64>(r, now + debounceMs(), R_DEBOUNCE);
  }
  if (outLen != 0 && outConn == conn) setOut(0, -1);
  const gen = (load<i32>(c, C_GEN) + 1) & 0x7FFFFFFF;
  memory.fill(c, 0, C_FIXED);
  store<i32>(c, gen, C_GEN);
  store<i32>(c, CS_FREE, C_STATE);
  noteConnFreed(conn);
  return flags;
}

/**
 * release(conn, gen, slot, now): frees a slot; queues an ACK if the message had REQ_ACK and
 * its connection is ready (§3.6). 1 = ACK queued, 0 = done, -E_VALUE stale, -E_SPACE queue full.
 */
export function release(conn: i32, gen: i32, slot: i32, now: f64): i32 {
  const c = liveConn(conn);
  if (c == 0 || load<i32>(c, C_GEN) != gen || slot < 0 || slot >= maxSlots) return -E_VALUE;
  const bit = <u32>1 << <u32>slot;
  const used = load<u32>(c, C_USED);
  if ((used & bit) == 0) return -E_VALUE;
  let result = 0;
  if ((load<u32>(c, C_REQACK) & bit) != 0 && load<i32>(c, C_STATE) == CS_READY) {
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
  return result;
}

/** writeStart(conn, now): bytes were handed to the socket; arms the write timeout T. */
export function writeStart(conn: i32, now: f64): void {
  const c = liveConn(conn);
  if (c == 0) return;
  if (load<f64>(c, C_WRITEDEADLINE) == Infinity) store<f64>(c, now + timeoutMs, C_WRITEDEADLINE);
}

/** writeDone(conn, idle, now): a write completed: activity (§5.5), write timer off or re-armed. */
export function writeDone(conn: i32, idle: i32, now: f64): void {
  const c = liveConn(conn);
  if (c == 0) return;
  store<f64>(c, idle != 0 ? Infinity : now + timeoutMs, C_WRITEDEADLINE);
  store<f64>(c, now, C_ACTIVITY);
  const r = liveRemote(load<i32>(c, C_REMOTE));
  if (r != 0) store<f64>(r, now, R_ACTIVITY);
}

// ── remotes ────────────────────────────────────────────────────────────────────────────────

/** remoteAlloc(now): a new remote with a random serial start (§2.3), or -E_ENOMEM. */
export function remoteAlloc(now: f64): i32 {
  if (maxRemotes == 0) return -E_VALUE;
  for (let i = 0; i < maxRemotes; i++) {
    const r = remotePtr(i);
    if (load<i32>(r, R_INUSE) != 0) continue;
    memory.fill(r, 0, REMOTE_SIZE);
    store<i32>(r, 1, R_INUSE);
    store<u32>(r, rand32(), R_SERIAL);
    store<i32>(r, -1, R_CONN);
    store<i32>(r, -1, R_WAITCONN);
    store<f64>(r, now, R_ACTIVITY);
    store<f64>(r, Infinity, R_SENDDEADLINE);
    store<f64>(r, -Infinity, R_DEBOUNCE);
    store<f64>(r, -Infinity, R_NOOPSENT);
    noteRemoteUsed(i, now);
    return i;
  }
  return -E_ENOMEM;
}

/** remoteFree(remote): forget it; connections still filed under it are detached. */
export function remoteFree(remote: i32): void {
  const r = liveRemote(remote);
  if (r == 0) return;
  for (let i = 0; i < connHigh; i++) {
    const c = connPtr(i);
    if (load<i32>(c, C_STATE) != CS_FREE && load<i32>(c, C_REMOTE) == remote) {
      store<i32>(c, -1, C_REMOTE);
    }
  }
  memory.fill(r, 0, REMOTE_SIZE);
  noteRemoteFreed(remote);
}

export function remoteConn(remote: i32): i32 {
  const r = liveRemote(remote);
  return r != 0 ? load<i32>(r, R_CONN) : -1;
}

export function remoteWaiting(remote: i32): i32 {
  const r = liveRemote(remote);
  return r != 0 ? load<i32>(r, R_WAITING) : 0;
}

export function remoteDebounce(remote: i32, now: f64): f64 {
  const r = liveRemote(remote);
  return r != 0 ? max<f64>(0, load<f64>(r, R_DEBOUNCE) - now) : 0;
}

export function remoteWant(remote: i32, want: i32): void {
  const r = liveRemote(remote);
  if (r != 0) store<i32>(r, want != 0 ? 1 : 0, R_WANT);
}

export function remoteSerial(remote: i32): u32 {
  const r = liveRemote(remote);
  return r != 0 ? load<u32>(r, R_SERIAL) : 0;
}
