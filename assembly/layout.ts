// Memory layout, limits and global state of the core: static regions, record field offsets,
// the one-time `configure` sizing, the event writer and the PRNG (assembly/ABI.md).
//
//  0 ─────────── AssemblyScript static data: IDENTITY[16], SCRATCH[16]
//  heapBase ──── IN area       inCap  = bufSize
//                OUT area      outCap = bufSize + 4096
//                EVENT area    EV_CAP × 64
//                remotes       maxRemotes × REMOTE_SIZE
//                connections   maxConns × connStride   (fixed part, slot ids, ACK queue)
//  end ───────── rounded up to a page; `configure` grows memory once, nothing grows it later.
//
// Everything else (limits, region bases, OUT fill, PRNG state, GC cursor) lives in wasm
// globals: no managed allocation ever happens (runtime stub, never called).

// ── status codes (spec §4.4), returned negated ────────────────────────────────────────────
export const E_VALUE: i32 = 1;
export const E_PROTOCOL: i32 = 3;
export const E_TIMEOUT: i32 = 9;
export const E_ENOMEM: i32 = 10;
export const E_SHUTDOWN: i32 = 11;
export const E_BUSY: i32 = 16;
export const E_EMPTY: i32 = 17;
export const E_SPACE: i32 = 20;

// ── event kinds ────────────────────────────────────────────────────────────────────────────
export const EV_HANDSHAKE: i32 = 1;
export const EV_MSG: i32 = 2;
export const EV_BEGIN: i32 = 3;
export const EV_CHUNK: i32 = 4;
export const EV_END: i32 = 5;
export const EV_ACK: i32 = 6;
export const EV_ERROR: i32 = 7;
export const EV_TIMEOUT: i32 = 8;
export const EV_GC_REMOTE: i32 = 9;
export const EV_GC_CONN: i32 = 10;
export const EV_RETRY: i32 = 11;
export const EV_NOOP: i32 = 12;

export const EV_CAP: i32 = 2048;
export const EV_SIZE: i32 = 64;
// event record field offsets
export const V_KIND: usize = 0;
export const V_CONN: usize = 4;
export const V_SLOT: usize = 8;
export const V_TYPE: usize = 12;
export const V_SERIAL: usize = 16;
export const V_HL: usize = 20;
export const V_DL: usize = 24;
export const V_PTR1: usize = 28;
export const V_PTR2: usize = 32;
export const V_AUX: usize = 36;
export const V_GEN: usize = 40;
export const V_REMOTE: usize = 44;
export const V_ID: usize = 48;

// timer kinds (EV_TIMEOUT aux)
export const TK_CONNECT: u32 = 1;
export const TK_SEND: u32 = 2;
export const TK_WRITE: u32 = 3;

// ── wire constants (spec §1.4, §2) ────────────────────────────────────────────────────────
export const HANDSHAKE_LEN: i32 = 18;
export const HDR_LEN: i32 = 27;
export const T_REQ_ACK: i32 = 0x01;
export const T_ACK: i32 = 0x02;
export const T_NOOP: i32 = 0x04;

// ── connection states ─────────────────────────────────────────────────────────────────────
export const CS_FREE: i32 = 0;
export const CS_HANDSHAKE: i32 = 1;
export const CS_READY: i32 = 2;
export const CS_FAILED: i32 = 3;

// reader states (spec §3.1: WAIT, SLOT, HEADER/DATA merged into BODY)
export const RS_HDR: i32 = 0;
export const RS_SLOT: i32 = 1;
export const RS_BODY: i32 = 2;

// ── connection record ─────────────────────────────────────────────────────────────────────
export const C_STATE: usize = 0; //     i32 CS_*
export const C_GEN: usize = 4; //       i32 generation, +1 on close
export const C_REMOTE: usize = 8; //    i32 remote index or -1
export const C_OUTGOING: usize = 12; // i32
export const C_PAUSED: usize = 16; //   i32 1 while a data header waits for a slot
export const C_RSTATE: usize = 20; //   i32 RS_*
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
export const C_ACTIVITY: usize = 96; //      f64 last activity (spec §5.5)
export const C_HDRBUF: usize = 104; //  27 bytes: partial or remembered frame header
export const C_HSBUF: usize = 132; //   18 bytes: partial handshake
export const C_FIXED: usize = 152; //   slot identities (maxSlots × 16), then ACK queue (ackCap × 16)

// ── remote record ─────────────────────────────────────────────────────────────────────────
export const R_INUSE: usize = 0; //     i32
export const R_SERIAL: usize = 4; //    u32 last serial used (spec §2.3)
export const R_CONN: usize = 8; //      i32 current connection or -1 (spec §5.4)
export const R_WAITING: usize = 12; //  i32 1 while a sync message waits for its ACK
export const R_WAITCONN: usize = 16; // i32 connection that message was written on
export const R_WAITGEN: usize = 20; //  i32 its generation
export const R_WANT: usize = 24; //     i32 host wants a connection (EV_RETRY after debounce)
export const R_ACTIVITY: usize = 32; // f64
export const R_SENDDEADLINE: usize = 40; // f64 send (ACK) timer (Infinity = off)
export const R_DEBOUNCE: usize = 48; // f64 reconnect allowed from this time (spec §4.5)
export const R_NOOPSENT: usize = 56; // f64 last NOOP probe encoded (at most one per idle period)
export const R_WAITID: usize = 64; //   16 bytes identity of the ACK-waiting message
export const REMOTE_SIZE: usize = 80;

// ── static regions ────────────────────────────────────────────────────────────────────────
export const IDENTITY: usize = memory.data(16);
export const SCRATCH: usize = memory.data(16);

// ── configuration and layout (set once by configure) ──────────────────────────────────────
export let configured: bool = false;
export let maxConns: i32 = 0;
export let maxRemotes: i32 = 0;
export let maxSlots: i32 = 0;
export let slotMask: u32 = 0;
export let synchronous: bool = false;
export let maxMsgSize: u32 = 0;
export let timeoutMs: f64 = 0;
export let reuseMs: f64 = 0;
export let connectTimeoutMs: f64 = 0;
export let noopIdleMs: f64 = 0;
export let ownPort: i32 = 0;
export let ackCap: i32 = 0;

export let inBase: usize = 0;
export let inCap: i32 = 0;
export let outBase: usize = 0;
export let outCap: i32 = 0;
export let evBase: usize = 0;
export let remoteBase: usize = 0;
export let connBase: usize = 0;
export let connStride: usize = 0;
export let ackOffset: usize = 0; // offset of the ACK queue inside a connection record
export let memoryEnd: usize = 0;

// ── mutable global state ──────────────────────────────────────────────────────────────────
export let outLen: i32 = 0;
export let outConn: i32 = -1;
export let evCount: i32 = 0;
export let rng: u64 = 0;
export let gcNext: f64 = 0;
export let gcRunning: bool = false;
export let gcConnCursor: i32 = 0;
export let gcRemoteCursor: i32 = 0;
export let connsInUse: i32 = 0;
export let remotesInUse: i32 = 0;
export let connHigh: i32 = 0; // every used connection index is < connHigh
export let remoteHigh: i32 = 0; // every used remote index is < remoteHigh

// ── PRNG: splitmix64 seeding, xorshift64* stream (not cryptographic; the host seeds it) ──
export function seedRng(lo: i32, hi: i32): void {
  let z: u64 = ((<u64><u32>hi) << 32) | <u64><u32>lo;
  z += 0x9E3779B97F4A7C15;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
  z = z ^ (z >> 31);
  rng = z != 0 ? z : 0x2545F4914F6CDD1D;
}

export function rand64(): u64 {
  let x = rng;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  rng = x;
  return x * 0x2545F4914F6CDD1D;
}

@inline export function rand32(): u32 {
  return <u32>(rand64() >> 32);
}

/** Uniform in [0, 1). */
@inline export function randUnit(): f64 {
  return <f64>(rand64() >> 11) * (1.0 / 9007199254740992.0);
}

/** GC interval: uniform in [R/2, R) (spec §5.5, §6). */
export function gcInterval(): f64 {
  return reuseMs * 0.5 + randUnit() * reuseMs * 0.5;
}

/** Reconnect debounce: 50 + rand % 500 ms (spec §4.5). */
export function debounceMs(): f64 {
  return <f64>(50 + rand32() % 500);
}

@inline export function connPtr(conn: i32): usize {
  return connBase + <usize>conn * connStride;
}

@inline export function remotePtr(remote: i32): usize {
  return remoteBase + <usize>remote * REMOTE_SIZE;
}

/** A connection index that names a record in use, or 0. */
export function liveConn(conn: i32): usize {
  if (!configured || conn < 0 || conn >= maxConns) return 0;
  const c = connPtr(conn);
  return load<i32>(c, C_STATE) != CS_FREE ? c : 0;
}

/** A remote index that names a record in use, or 0. */
export function liveRemote(remote: i32): usize {
  if (!configured || remote < 0 || remote >= maxRemotes) return 0;
  const r = remotePtr(remote);
  return load<i32>(r, R_INUSE) != 0 ? r : 0;
}

// ── setters for other modules (globals are assigned only here) ────────────────────────────
export function setOut(len: i32, conn: i32): void {
  outLen = len;
  outConn = len > 0 ? conn : -1;
}
export function setEvCount(n: i32): void {
  evCount = n;
}
export function setGc(next: f64, running: bool, connCursor: i32, remoteCursor: i32): void {
  gcNext = next;
  gcRunning = running;
  gcConnCursor = connCursor;
  gcRemoteCursor = remoteCursor;
}

/** Book-keeping when a record comes into use: arms GC when the first one appears. */
export function noteConnUsed(conn: i32, now: f64): void {
  if (connsInUse + remotesInUse == 0) setGc(now + gcInterval(), false, 0, 0);
  connsInUse++;
  if (conn >= connHigh) connHigh = conn + 1;
}
export function noteConnFreed(conn: i32): void {
  connsInUse--;
  if (conn == connHigh - 1) {
    let h = conn;
    while (h > 0 && load<i32>(connPtr(h - 1), C_STATE) == CS_FREE) h--;
    connHigh = h;
  }
}
export function noteRemoteUsed(remote: i32, now: f64): void {
  if (connsInUse + remotesInUse == 0) setGc(now + gcInterval(), false, 0, 0);
  remotesInUse++;
  if (remote >= remoteHigh) remoteHigh = remote + 1;
}
export function noteRemoteFreed(remote: i32): void {
  remotesInUse--;
  if (remote == remoteHigh - 1) {
    let h = remote;
    while (h > 0 && load<i32>(remotePtr(h - 1), R_INUSE) == 0) h--;
    remoteHigh = h;
  }
}

/** Writes one event record (identity left to the caller) and returns its address. */
@inline export function evWrite(
  ev: usize, kind: i32, conn: i32, slot: i32, type: i32, serial: u32, hl: u32, dl: u32,
  p1: usize, p2: usize, aux: u32, gen: i32, remote: i32,
): void {
  store<i32>(ev, kind, V_KIND);
  store<i32>(ev, conn, V_CONN);
  store<i32>(ev, slot, V_SLOT);
  store<i32>(ev, type, V_TYPE);
  store<u32>(ev, serial, V_SERIAL);
  store<u32>(ev, hl, V_HL);
  store<u32>(ev, dl, V_DL);
  store<u32>(ev, <u32>p1, V_PTR1);
  store<u32>(ev, <u32>p2, V_PTR2);
  store<u32>(ev, aux, V_AUX);
  store<i32>(ev, gen, V_GEN);
  store<i32>(ev, remote, V_REMOTE);
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

/**
 * Lays out the regions for the limits and grows memory once. Returns 0, -E_VALUE for a bad
 * limit (nothing grown) or -E_ENOMEM if the host refused to grow the memory.
 */
export function configureLayout(
  conns: i32, remotes: i32, slots: i32, sync: i32, msgSize: u32, tMs: f64, rMs: f64,
  bufSize: i32, port: i32, seedLo: i32, seedHi: i32,
): i32 {
  if (configured) return -E_VALUE;
  if (conns < 1 || conns > 65535 || remotes < 1 || remotes > 65535) return -E_VALUE;
  if (slots < 1 || slots > 32 || bufSize < 1024 || bufSize > 16 * 1024 * 1024) return -E_VALUE;
  if (port < 0 || port > 65535 || (sync != 0 && sync != 1)) return -E_VALUE;
  // NaN fails both comparisons.
  if (!(tMs > 0 && tMs < Infinity) || !(rMs > 0 && rMs < Infinity)) return -E_VALUE;

  const acks = max<i32>(8, 2 * slots);
  const stride = (C_FIXED + <usize>(slots + acks) * 16 + 7) & ~<usize>7;
  const base = (<u64>__heap_base + 15) & ~<u64>15;
  const inB = base;
  const outB = inB + <u64>bufSize;
  const outC = <u64>bufSize + 4096;
  const evB = (outB + outC + 15) & ~<u64>15;
  const remB = evB + <u64>(EV_CAP * EV_SIZE);
  const conB = remB + <u64>remotes * <u64>REMOTE_SIZE;
  const end = conB + <u64>conns * <u64>stride;
  const pages = (end + 0xFFFF) >> 16;
  if (pages > 32767) return -E_ENOMEM; // memoryBytes() is an i32
  const have = <u64>memory.size();
  if (pages > have) {
    if (memory.grow(<i32>(pages - have)) < 0) return -E_ENOMEM;
  }

  maxConns = conns;
  maxRemotes = remotes;
  maxSlots = slots;
  slotMask = slots == 32 ? 0xFFFFFFFF : (<u32>1 << <u32>slots) - 1;
  synchronous = sync != 0;
  maxMsgSize = msgSize;
  timeoutMs = tMs;
  reuseMs = rMs;
  connectTimeoutMs = min<f64>(2 * tMs, 60000);
  noopIdleMs = 0.75 * rMs;
  ownPort = port;
  ackCap = acks;
  inBase = <usize>inB;
  inCap = bufSize;
  outBase = <usize>outB;
  outCap = <i32>outC;
  evBase = <usize>evB;
  remoteBase = <usize>remB;
  connBase = <usize>conB;
  connStride = stride;
  ackOffset = C_FIXED + <usize>slots * 16;
  memoryEnd = <usize>(pages << 16);
  outLen = 0;
  outConn = -1;
  evCount = 0;
  seedRng(seedLo, seedHi);
  // Fresh pages are zero: every record starts free (state 0, generation 0, not in use).
  configured = true;
  return 0;
}
