// A fuzzer for the protocol core alone (adapters/core/core.ts over build/chirp.wasm): random and
// mutated byte streams, most derived from test/corpus/, fed to fresh connections of shared core
// instances, split at random chunk boundaries, with a host that behaves like the engine
// (attaches incoming connections, releases messages now or later, flushes ACKs, sometimes sends
// a synchronous message and injects its ACK, sometimes lets time jump so timers fire).
//
// Checked for every input:
//   - no trap (any exception out of a wasm call);
//   - the wasm memory never grows (memoryBytes constant, before and after every input);
//   - feed() returns 0..len and makes progress (the engine treats "no progress" as FATAL);
//   - event sanity: slots in range and never more held than maxSlots, BEGIN/CHUNK/END in order
//     with contiguous offsets adding up to header_len + data_len, pointers inside the IN area,
//     sizes within maxMsgSize, an EV_ACK only for the identity the host is waiting for;
//   - the connection ends either still parsing (state 1 or 2, no EV_ERROR), or failed (state 3)
//     after exactly one EV_ERROR (PROTOCOL_ERROR or ENOMEM) that was its last event, or closed
//     by the host after a timer event (EV_TIMEOUT, EV_GC_*) when time was made to jump;
//   - differential: for "plain" runs (auto release, no time jumps, no sends) the outcome
//     (state, error, messages with every byte, NOOPs, handshake port) equals the outcome of
//     `reference()`, an independent ~40-line reading of the spec, and is the same when the bytes
//     are split another way and on a sync 1-slot core as on an async 16-slot core;
//   - connection and remote records are all free again after cleanup (no leak).
// Used by test/core/fuzz.test.ts (a short CI budget) and scripts/fuzz-core.mjs (long runs by hand).
import { Core, EV, ST, type CoreConfig } from "../../adapters/core/core.ts";
import { concat, frame } from "./wire.ts";

export interface FuzzCase {
  bytes: Uint8Array;
  cfg: number;
  outgoing: boolean;
  /** Drives every host decision (split sizes, releases, sends, time). */
  plan: number;
  /** Auto release, no time jumps, no sends: the outcome must not depend on the split. */
  plain: boolean;
}

export interface FuzzFailure {
  reason: string;
  kase: FuzzCase;
}

export interface FuzzResult {
  inputs: number;
  executions: number;
  failures: FuzzFailure[];
  features: Set<string>;
  coarseNew: { name: string; bytes: Uint8Array; features: string[] }[];
  pool: number;
  ms: number;
  byOrigin: Record<string, number>;
  endStates: Record<string, number>;
}

const T = 1000;
const R = 3000;
const PEER = "127.0.0.1";
const ID = Uint8Array.from({ length: 16 }, (_, i) => 0x40 + i);
const CONFIGS: (Partial<CoreConfig> & { name: string })[] = [
  { name: "async16/100MiB/buf1024", synchronous: false, maxSlots: 16, maxMsgSize: 104857600, bufSize: 1024 },
  { name: "sync1/100MiB/buf1024", synchronous: true, maxSlots: 1, maxMsgSize: 104857600, bufSize: 1024 },
  { name: "async4/20000/buf65536", synchronous: false, maxSlots: 4, maxMsgSize: 20000, bufSize: 65536 },
  { name: "sync1/20000/buf4096", synchronous: true, maxSlots: 1, maxMsgSize: 20000, bufSize: 4096 },
];
export const CONFIG_NAMES = CONFIGS.map((c) => c.name);

function limits(i: number): CoreConfig {
  const { name: _n, ...c } = CONFIGS[i];
  return {
    maxConns: 4, maxRemotes: 4, maxSlots: 1, synchronous: true, maxMsgSize: 104857600, timeoutMs: T, reuseMs: R,
    bufSize: 1024, port: 31000, identity: ID, ...c,
  };
}

/** splitmix32 */
export function rng(seed: number): { next(): number; int(n: number): number; pick<V>(a: V[]): V; chance(p: number): boolean } {
  let s = seed >>> 0;
  const next = (): number => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return ((z ^ (z >>> 16)) >>> 0) / 0x100000000;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    pick: (a) => a[Math.floor(next() * a.length)],
    chance: (p) => next() < p,
  };
}



/** A marker the host replaces with an ACK frame for the identity it waits for (if any). */
const ACK_MARK = Uint8Array.of(0xfe, 0xed, 0xac, 0x4b, 0xfe, 0xed, 0xac, 0x4b);

class Trap extends Error {}

interface Outcome {
  state: number;
  err: number;
  errors: number;
  msgs: number;
  hash: number;
  hsPort: number;
  incomplete: number;
  paused: number;
}

/** One core instance, reused for many inputs (as a node's core is reused for connections). */
class Rig {
  core: Core;
  mem0: number;
  now = 1000;
  inputsSince = 0;
  constructor(readonly cfg: number, seed: number) {
    this.core = Core.configured(limits(cfg), Uint32Array.of(seed, 0x2545f491));
    this.mem0 = this.core.memoryBytes;
  }
}

/** Executes one case on a rig; returns the outcome or throws (Trap for wasm exceptions, Error
 * for a broken invariant). Adds the features it reached to `feats`. */
function execute(rig: Rig, k: FuzzCase, feats: Set<string>): Outcome {
  const core = rig.core;
  const x = core.x;
  const lim = limits(k.cfg);
  const r = rng(k.plan);
  const call = <V>(what: string, f: () => V): V => {
    try {
      return f();
    } catch (e) {
      throw new Trap(`trap in ${what}: ${(e as Error).message}`);
    }
  };
  const fail = (m: string): never => {
    throw new Error(m);
  };
  let now = rig.now;
  const tick = (d: number): void => {
    now += d;
  };
  // Host plan
  const release = k.plain ? "auto" : r.pick(["auto", "auto", "hold", "random", "late"]);
  const holdMax = r.int(lim.maxSlots + 2);
  const jumps = !k.plain && r.chance(0.25);
  const sends = !k.plain && r.chance(0.3);
  const splitMode = r.pick(["small", "medium", "mixed", "whole", "bytewise"]);

  if (x.memory.buffer.byteLength !== rig.mem0) fail(`memory grew before the input: ${rig.mem0} -> ${x.memory.buffer.byteLength}`);
  let remote = -1;
  core.setAddress(PEER);
  if (k.outgoing) {
    remote = call("remoteOpen", () => x.remoteOpen(2997, now));
    if (remote < 0) fail(`remoteOpen returned ${remote} with every record free (leak)`);
  }
  const conn = k.outgoing ? call("remoteDial", () => x.remoteDial(remote, now)) : call("connAccept", () => x.connAccept(now));
  if (conn < 0) fail(`remoteDial/connAccept returned ${conn} with every record free (leak)`);
  call("outReset", () => x.outReset());

  let pending = k.bytes;
  const held: { slot: number; gen: number }[] = [];
  const slotsHeld = new Set<number>();
  let cur: { slot: number; got: number; total: number; hash: number } | null = null;
  let errors = 0;
  let err = 0;
  let failedAt = -1; // event index of the EV_ERROR
  let evIndex = 0;
  let closedBy = "";
  let msgs = 0;
  let hash = 0x811c9dc5;
  let hsPort = -1;
  let prevKind = 0;
  let waiting: Uint8Array | null = null;
  const mix = (h: number, b: number): number => Math.imul(h ^ b, 0x01000193) >>> 0;
  const mixBytes = (h: number, p: number, n: number): number => {
    const m = core.mem;
    for (let i = 0; i < n; i++) h = Math.imul(h ^ m[p + i], 0x01000193) >>> 0;
    return h;
  };
  const inArea = (p: number, n: number): boolean => p >= core.inPtr && p + n <= core.inPtr + core.inCap;

  const takeOut = (): void => {
    if (x.outLen() > 0) call("outReset", () => x.outReset());
  };
  const releaseOne = (): void => {
    const m = held.shift();
    if (!m) return;
    let rc = call("release", () => x.release(conn, m.gen, m.slot));
    if (rc === -ST.SPACE) {
      const f = call("flush", () => x.flush(conn));
      if (f < 0) fail(`flush returned ${f} after release -SPACE`);
      takeOut();
      rc = call("release", () => x.release(conn, m.gen, m.slot));
    }
    feats.add(`rel:${rc}`);
    if (rc < 0 || rc > 3) fail(`release of a held message returned ${rc}`);
    if ((rc & 2) !== 0 && x.connPaused(conn) !== 1) fail("release said RELEASE_RESUME on a connection that is not paused");
    if ((rc & 2) === 0 && x.connPaused(conn) === 1) fail("release of a paused connection's slot without RELEASE_RESUME");
    slotsHeld.delete(m.slot);
    if (rc & 1) {
      const f = call("flush", () => x.flush(conn));
      if (f <= 0) fail(`flush after an ACK was queued returned ${f}`);
      takeOut();
    }
  };

  const handle = (): number => {
    const count = x.evCount();
    for (let i = 0; i < count; i++) {
      const kind = core.evKind(i);
      const ec = core.evConn(i);
      feats.add(`k:${kind}`);
      feats.add(`b:${prevKind}>${kind}`);
      prevKind = kind;
      evIndex++;
      if (failedAt >= 0) fail(`event ${kind} after EV_ERROR`);
      if (kind !== EV.GC_REMOTE && kind !== EV.RETRY && ec !== conn) fail(`event ${kind} for conn ${ec}, expected ${conn}`);
      switch (kind) {
        case EV.HANDSHAKE: {
          hsPort = core.evPort(i);
          feats.add(`hs:${hsPort === 0 ? "0" : "p"}:${k.outgoing ? "out" : "in"}`);
          if (k.outgoing && core.evRemote(i) !== remote) fail(`outgoing handshake filed under ${core.evRemote(i)}, not its remote ${remote}`);
          if (!k.outgoing) {
            // The core filed the incoming connection under the remote for (address, port).
            remote = core.evRemote(i);
            if (remote < 0) fail(`incoming handshake without a remote (${remote})`);
            if (x.connRemote(conn) !== remote) fail("connRemote differs from the handshake's remote");
          }
          break;
        }
        case EV.MSG:
        case EV.BEGIN: {
          const slot = core.evSlot(i);
          const hl = core.evHeaderLen(i);
          const dl = core.evDataLen(i);
          if (slot < 0 || slot >= lim.maxSlots) fail(`slot ${slot} out of range`);
          if (slotsHeld.has(slot)) fail(`slot ${slot} handed out twice`);
          if (hl + dl > lim.maxMsgSize) fail(`message of ${hl + dl} bytes > maxMsgSize`);
          if (hl > 0xffff) fail(`header_len ${hl}`);
          if (cur) fail("a message began while another was streaming");
          slotsHeld.add(slot);
          if (slotsHeld.size > lim.maxSlots) fail("more slots held than maxSlots");
          let h = mix(mix(mix(0x811c9dc5, core.evType(i)), core.evSerial(i)), hl);
          h = mix(h, dl);
          h = mixBytes(h, core.evIdentityAt(i), 16);
          if (kind === EV.MSG) {
            const p1 = core.evBytes(i);
            const p2 = p1 + hl;
            if (core.evLen(i) !== hl + dl) fail(`EV_MSG len ${core.evLen(i)}, lengths ${hl}+${dl}`);
            if ((hl || dl) && !inArea(p1, hl + dl)) fail(`EV_MSG bytes outside the IN area`);
            h = mixBytes(h, p1, hl);
            h = mixBytes(h, p2, dl);
            msgs++;
            hash = mix(hash, h);
            held.push({ slot, gen: core.evGen(i) });
            feats.add(`msg:${hl ? "h" : "-"}${dl ? "d" : "-"}:${core.evType(i) & 0xff}`);
          } else {
            if (hl + dl === 0) fail("EV_BEGIN for an empty message");
            cur = { slot, got: 0, total: hl + dl, hash: h };
          }
          break;
        }
        case EV.CHUNK: {
          if (!cur) fail("EV_CHUNK without EV_BEGIN");
          const c = cur!;
          const p = core.evBytes(i);
          const len = core.evLen(i);
          if (core.evSlot(i) !== c.slot) fail("EV_CHUNK for another slot");
          if (core.evOffset(i) !== c.got) fail(`EV_CHUNK offset ${core.evOffset(i)}, expected ${c.got}`);
          if (len <= 0 || !inArea(p, len)) fail(`EV_CHUNK of ${len} bytes at ${p} outside the IN area`);
          c.hash = mixBytes(c.hash, p, len);
          c.got += len;
          if (c.got > c.total) fail("EV_CHUNK past the message end");
          break;
        }
        case EV.END: {
          if (!cur) fail("EV_END without EV_BEGIN");
          const c = cur!;
          if (c.got !== c.total) fail(`EV_END after ${c.got} of ${c.total} bytes`);
          if (core.evSlot(i) !== c.slot) fail("EV_END for another slot");
          msgs++;
          hash = mix(hash, c.hash);
          held.push({ slot: c.slot, gen: core.evGen(i) });
          cur = null;
          feats.add("msg:streamed");
          break;
        }
        case EV.ACK: {
          const id = core.evIdentity(i);
          if (!waiting || id.some((b, j) => b !== waiting![j])) fail("EV_ACK for an identity nobody waits for");
          waiting = null;
          break;
        }
        case EV.ERROR: {
          errors++;
          err = core.evCode(i);
          feats.add(`e:${err}`);
          if (err !== ST.BAD_FRAME && err !== ST.TOO_BIG && err !== ST.BAD_HANDSHAKE) fail(`EV_ERROR with code ${err}`);
          failedAt = evIndex;
          if (i !== count - 1) fail("EV_ERROR is not the last event of its call");
          break;
        }
        case EV.TIMEOUT:
          feats.add(`t:${core.evCode(i)}`);
          closedBy ||= `timeout:${core.evCode(i)}`;
          break;
        case EV.GC_REMOTE:
          if (core.evRemote(i) === remote) closedBy ||= "gc-remote";
          break;
        case EV.GC_CONN:
          closedBy ||= "gc-conn";
          break;
        case EV.RETRY:
          break;
        default:
          fail(`unknown event kind ${kind}`);
      }
    }
    return count;
  };

  const releasePolicy = (): void => {
    if (release === "auto") while (held.length) releaseOne();
    else if (release === "hold") while (held.length > holdMax) releaseOne();
    else if (release === "random") while (held.length && r.chance(0.5)) releaseOne();
    // "late": released only between chunks
  };

  /** Feed pending bytes until consumed, paused or failed (as the engine's #feed does). */
  const run = (): void => {
    for (let guard = 0; guard < 200_000; guard++) {
      if (closedBy || failedAt >= 0) return;
      const st = x.connState(conn);
      if (st !== 1 && st !== 2) return;
      const n = Math.min(core.inCap, pending.length);
      const paused = x.connPaused(conn) === 1;
      if (n === 0 && !paused) return;
      if (n > 0) core.mem.set(pending.subarray(0, n), core.inPtr);
      const used = call("feed", () => x.feed(conn, n, now));
      if (used < 0 || used > n) fail(`feed returned ${used} for ${n} bytes`);
      const evs = handle();
      pending = pending.subarray(used);
      if (failedAt >= 0) {
        if (x.connState(conn) !== 3) fail(`EV_ERROR but connState ${x.connState(conn)}`);
        return;
      }
      const before = held.length;
      releasePolicy();
      takeOut();
      if (used === 0 && evs === 0) {
        if (n > 0 && x.connPaused(conn) !== 1) fail("feed made no progress on an unpaused connection");
        if (held.length === before) return; // paused and nothing released
      }
    }
    fail("livelock: 200000 feed calls");
  };

  // Split plan
  const nextSize = (): number => {
    switch (splitMode) {
      case "small": return 1 + r.int(30);
      case "medium": return 1 + r.int(1500);
      case "whole": return 1 << 30;
      case "bytewise": return 1;
      default: return r.chance(0.5) ? 1 + r.int(27) : 1 + r.int(5000);
    }
  };
  // ACK markers in the input become ACK frames for the identity the host waits for.
  const expand = (b: Uint8Array): Uint8Array => {
    if (!sends) return b;
    for (let i = 0; i + ACK_MARK.length <= b.length; i++) {
      if (ACK_MARK.every((v, j) => b[i + j] === v)) {
        const id = waiting ?? new Uint8Array(16).fill(0x33);
        return concat(b.subarray(0, i), frame(id, r.int(0xffffffff), 2, new Uint8Array(0), new Uint8Array(0)), expand(b.subarray(i + ACK_MARK.length)));
      }
    }
    return b;
  };

  let rest = k.bytes;
  pending = new Uint8Array(0);
  while (rest.length > 0 && !closedBy && failedAt < 0) {
    const n = Math.min(rest.length, nextSize());
    // Host actions between chunks.
    if (sends && x.connState(conn) === 2 && !waiting && r.chance(0.3)) {
      const id = Uint8Array.from({ length: 16 }, () => r.int(256));
      core.mem.set(id, core.idPtr);
      const hl = r.int(40);
      const dl = r.int(200);
      let at = call("send", () => x.send(conn, hl, dl, 1, now));
      if (at === -ST.SPACE) {
        takeOut();
        at = call("send", () => x.send(conn, hl, dl, 1, now));
      }
      feats.add(`df:${at >= 0 ? "ok" : at}`);
      if (at >= 0) {
        call("writeStart", () => x.writeStart(conn, now));
        takeOut();
        call("writeDone", () => x.writeDone(conn, 1, now));
        if (lim.synchronous) waiting = id;
      } else if (at !== -ST.WAIT && at !== -ST.NOT_READY && at !== -ST.RETIRED) {
        fail(`send returned ${at} on a ready connection`);
      }
      // Sometimes answer with an ACK for it right away.
      if (waiting && r.chance(0.5)) rest = concat(frame(waiting, r.int(0xffffffff), 2, new Uint8Array(0), new Uint8Array(0)), rest);
    }
    const chunk = expand(rest.subarray(0, Math.min(rest.length, n)));
    rest = rest.subarray(Math.min(rest.length, n));
    pending = pending.length ? concat(pending, chunk) : chunk;
    if (!k.plain) tick(r.int(30));
    run();
    if (release === "late" && held.length && !closedBy && failedAt < 0 && r.chance(0.6)) {
      while (held.length) releaseOne();
      takeOut();
      run();
    }
    if (jumps && r.chance(0.15) && !closedBy && failedAt < 0) {
      tick(r.pick([T / 2, T + 1, 2 * T + 1, R + 1, 2 * R + 1]));
      call("tick", () => x.tick(now));
      handle();
      takeOut();
      if (!closedBy) run();
    }
  }
  // A paused connection gets its messages released at the end (the engine's resume path).
  if (!closedBy && failedAt < 0 && held.length && !k.plain) {
    while (held.length) releaseOne();
    takeOut();
    run();
  }

  // End state
  const state = x.connState(conn);
  const paused = x.connPaused(conn);
  const out: Outcome = { state, err, errors, msgs, hash, hsPort, incomplete: cur ? 1 : 0, paused };
  if (closedBy) {
    feats.add(`end:${closedBy}`);
  } else if (failedAt >= 0) {
    if (errors !== 1 || state !== 3) fail(`ended with ${errors} EV_ERROR(s), state ${state}`);
    feats.add(`end:error:${err}`);
  } else {
    if (state !== 1 && state !== 2) fail(`ended in state ${state} without EV_ERROR`);
    if (errors) fail("EV_ERROR but the connection did not fail");
    feats.add(`end:${state}:${paused ? "paused" : "parsing"}${cur ? ":mid-message" : ""}`);
  }

  // Cleanup as the engine does: close, forget the remote, let timers run out.
  call("connClose", () => x.connClose(conn, now));
  if (remote >= 0) call("remoteFree", () => x.remoteFree(remote));
  tick(10 * R);
  call("tick", () => x.tick(now));
  takeOut();
  rig.now = now + 1;
  if (x.memory.buffer.byteLength !== rig.mem0) fail(`memory grew: ${rig.mem0} -> ${x.memory.buffer.byteLength}`);
  return out;
}

/** All connection and remote records free: open every one, then free them again. */
function checkNoLeak(rig: Rig): void {
  const x = rig.core.x;
  const conns: number[] = [];
  const rems: number[] = [];
  for (let i = 0; i < 4; i++) {
    rig.core.setAddress(PEER);
    const c = x.connAccept(rig.now);
    x.outReset();
    if (c < 0) throw new Error(`connection record leak: only ${i} of 4 free`);
    conns.push(c);
    const r = x.remoteOpen(40000 + i, rig.now);
    if (r < 0) throw new Error(`remote record leak: only ${i} of 4 free`);
    rems.push(r);
  }
  for (const c of conns) x.connClose(c, rig.now);
  for (const r of rems) x.remoteFree(r);
  rig.now += 10 * R;
  x.tick(rig.now);
  x.outReset();
}

const sameOutcome = (a: Outcome, b: Outcome): boolean =>
  a.state === b.state && a.err === b.err && a.errors === b.errors && a.msgs === b.msgs && a.hash === b.hash &&
  a.hsPort === b.hsPort && a.incomplete === b.incomplete;
const showOutcome = (o: Outcome): string =>
  `state ${o.state}, errors ${o.errors} (code ${o.err}), messages ${o.msgs} (hash ${o.hash.toString(16)}), port ${o.hsPort}${o.incomplete ? ", mid-message" : ""}`;

/** The outcome the spec prescribes for plain feeding (fresh connection, every message
 * released at once, no timers, nothing sent): the handshake is the first 18 bytes (§1.4);
 * port 0 fails with PROTOCOL_ERROR (BAD_HANDSHAKE); then 27-byte headers (§2.1): header_len + data_len > maxMsgSize fails with ENOMEM (64-bit
 * sum, §3.5); an ACK/NOOP bit with a payload or with REQ_ACK fails with PROTOCOL_ERROR; NOOP
 * wins over ACK; an ACK nobody waits for is ignored; anything else is a data message with its
 * raw type byte (§2.2). Independent of the core: a second implementation to compare with. */
export function reference(b: Uint8Array, maxMsgSize: number): Outcome {
  const o: Outcome = { state: 1, err: 0, errors: 0, msgs: 0, hash: 0x811c9dc5, hsPort: -1, incomplete: 0, paused: 0 };
  if (b.length < 18) return o;
  o.state = 2;
  o.hsPort = (b[0] << 8) | b[1];
  // Port 0: no node listens there, the handshake is refused (protocol.md §1.5).
  if (o.hsPort === 0) return { ...o, state: 3, err: ST.BAD_HANDSHAKE, errors: 1, hsPort: -1 };
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const mix = (h: number, v: number): number => Math.imul(h ^ v, 0x01000193) >>> 0;
  let p = 18;
  while (p + 27 <= b.length) {
    const serial = dv.getUint32(p + 16);
    const dl = dv.getUint32(p + 20);
    const hl = dv.getUint16(p + 24);
    const type = b[p + 26];
    if (hl + dl > maxMsgSize) return { ...o, state: 3, err: ST.TOO_BIG, errors: 1 };
    if (type & 6) {
      if (hl + dl !== 0 || type & 1) return { ...o, state: 3, err: ST.BAD_FRAME, errors: 1 };
      p += 27;
      continue;
    }
    if (p + 27 + hl + dl > b.length) {
      if (hl + dl > 0) o.incomplete = 1;
      return o;
    }
    let h = mix(mix(mix(mix(0x811c9dc5, type), serial), hl), dl);
    for (let i = 0; i < 16; i++) h = mix(h, b[p + i]);
    for (let i = 0; i < hl + dl; i++) h = mix(h, b[p + 27 + i]);
    o.hash = mix(o.hash, h);
    o.msgs++;
    p += 27 + hl + dl;
  }
  return o;
}

// ── inputs ───────────────────────────────────────────────────────────────────────────────────

const HS = Uint8Array.of(0x0b, 0xb5, 0xbc, 0x64, 0x66, 0x08, 0x04, 0xe4, 0x5a, 0x44, 0x8f, 0x6b, 0xe4, 0x2e, 0x7a, 0x7e, 0x0f, 0x3b);
const U32 = [0, 1, 2, 26, 27, 28, 255, 256, 1023, 1024, 1025, 4096, 19999, 20000, 20001, 65535, 65536, 104857599, 104857600, 104857601, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];
const U16 = [0, 1, 2, 27, 32, 33, 255, 256, 1024, 20000, 65534, 65535];
const TYPES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0x10, 0x41, 0x80, 0xfe, 0xff];

/** Offsets of frame headers in a stream (handshake first), as far as it parses. */
function frameOffsets(b: Uint8Array, skipHs: boolean): number[] {
  const out: number[] = [];
  let p = skipHs ? 18 : 0;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  while (p + 27 <= b.length && out.length < 200) {
    out.push(p);
    p += 27 + dv.getUint16(p + 24) + dv.getUint32(p + 20);
  }
  return out;
}

function generate(r: ReturnType<typeof rng>): Uint8Array {
  const parts: Uint8Array[] = [];
  if (r.chance(0.9)) {
    const hs = HS.slice();
    new DataView(hs.buffer).setUint16(0, r.pick([0, 1, 2997, 31000, 65535, r.int(65536)]));
    parts.push(hs);
  }
  const n = r.int(12);
  let serial = r.int(0xffffffff);
  for (let i = 0; i < n; i++) {
    const t = r.pick(TYPES);
    const id = r.chance(0.3) ? new Uint8Array(16) : Uint8Array.from({ length: 16 }, () => r.int(256));
    const hl = r.chance(0.6) ? 0 : r.chance(0.8) ? r.int(50) : r.int(3000);
    const dl = r.chance(0.4) ? 0 : r.chance(0.8) ? r.int(200) : r.int(30000);
    const hdr = Uint8Array.from({ length: hl }, () => r.int(256));
    const data = Uint8Array.from({ length: dl }, () => r.int(256));
    serial = (serial + 1) >>> 0;
    if (r.chance(0.1)) parts.push(ACK_MARK);
    if (r.chance(0.1)) {
      // A lying length: the frame announces more or less than it carries.
      parts.push(frame(id, serial, t, hdr, data, r.pick(U32), r.chance(0.5) ? hl : r.pick(U16)));
    } else {
      parts.push(frame(id, serial, t, hdr, data));
    }
  }
  if (r.chance(0.2)) parts.push(Uint8Array.from({ length: r.int(100) }, () => r.int(256)));
  return concat(...parts);
}

function mutate(src: Uint8Array, pool: Uint8Array[], r: ReturnType<typeof rng>): Uint8Array {
  let b: Uint8Array = src.slice();
  const rounds = 1 + r.int(r.chance(0.7) ? 3 : 10);
  for (let k = 0; k < rounds; k++) {
    const len = b.length;
    const pos = len ? r.int(len) : 0;
    switch (r.int(13)) {
      case 0: if (len) b[pos] ^= 1 << r.int(8); break;
      case 1: if (len) b[pos] = r.int(256); break;
      case 2: if (len) b[pos] = r.pick([0, 1, 2, 4, 6, 8, 0x7f, 0x80, 0xff]); break;
      case 3: if (len >= 4) new DataView(b.buffer).setUint32(r.int(len - 3), r.pick(U32)); break;
      case 4: if (len >= 2) new DataView(b.buffer).setUint16(r.int(len - 1), r.pick(U16)); break;
      case 5: b = concat(b.subarray(0, pos), Uint8Array.from({ length: 1 + r.int(64) }, () => r.int(256)), b.subarray(pos)); break;
      case 6: b = concat(b.subarray(0, pos), b.subarray(Math.min(len, pos + 1 + r.int(64)))); break;
      case 7: { const a = r.int(len + 1); const e = Math.min(len, a + r.int(300)); b = concat(b.subarray(0, e), b.subarray(a, e), b.subarray(e)); break; }
      case 8: { const o = r.pick(pool); const a = r.int(o.length + 1); b = concat(b.subarray(0, pos), o.subarray(a, a + r.int(500)), b.subarray(pos)); break; }
      case 9: b = b.subarray(0, pos).slice(); break;
      case 10:
      case 11: {
        // Field-aware: change a frame header's type, lengths or serial.
        const offs = frameOffsets(b, b.length >= 18);
        if (!offs.length) break;
        const f = r.pick(offs);
        const dv = new DataView(b.buffer);
        const which = r.int(4);
        if (which === 0) b[f + 26] = r.pick(TYPES);
        else if (which === 1) dv.setUint32(f + 20, r.pick(U32));
        else if (which === 2) dv.setUint16(f + 24, r.pick(U16));
        else dv.setUint32(f + 16, r.pick(U32));
        break;
      }
      case 12: b = concat(b, ACK_MARK); break;
    }
    if (b.length > 200_000) b = b.subarray(0, 200_000).slice();
  }
  return b;
}

// ── the loop ────────────────────────────────────────────────────────────────────────────────

export interface FuzzOptions {
  corpus: { name: string; bytes: Uint8Array }[];
  seconds: number;
  seed: number;
  maxInputs?: number;
  log?: (s: string) => void;
}

/** Features as the C host would see them (fresh connection, auto release, whole/any split, both
 * directions, sync 1 slot and async 16 slots): event kinds, error codes and end states. */
function coarse(feats: Set<string>): string[] {
  return [...feats].filter((f) => /^(k:\d+|e:\d+|end:)/.test(f)).sort();
}

export function fuzz(opts: FuzzOptions): FuzzResult {
  const log = opts.log ?? (() => {});
  const master = rng(opts.seed);
  const rigs = CONFIGS.map((_, i) => new Rig(i, opts.seed + i));
  const pool: Uint8Array[] = opts.corpus.map((c) => c.bytes);
  const features = new Set<string>();
  const failures: FuzzFailure[] = [];
  const coarseSeen = new Set<string>();
  const coarseNew: FuzzResult["coarseNew"] = [];
  const byOrigin: Record<string, number> = {};
  const endStates: Record<string, number> = {};
  const t0 = performance.now();
  let inputs = 0;
  let executions = 0;

  const runCase = (k: FuzzCase, feats: Set<string>): Outcome | null => {
    const rig = rigs[k.cfg];
    executions++;
    try {
      const o = execute(rig, k, feats);
      if (++rig.inputsSince % 500 === 0) checkNoLeak(rig);
      return o;
    } catch (e) {
      failures.push({ reason: (e as Error).message, kase: k });
      // A trap or broken invariant leaves the instance in an unknown state: start over.
      rigs[k.cfg] = new Rig(k.cfg, opts.seed + 100 + failures.length);
      return null;
    }
  };

  // The corpus as the C host runs it, to know which coarse features it already reaches.
  for (const c of opts.corpus) {
    for (const cfg of [0, 1]) {
      for (const outgoing of [false, true]) {
        const f = new Set<string>();
        runCase({ bytes: c.bytes, cfg, outgoing, plan: 1, plain: true }, f);
        for (const x of coarse(f)) coarseSeen.add(x);
        for (const x of f) features.add(x);
        inputs++;
      }
    }
  }

  while ((performance.now() - t0) / 1000 < opts.seconds && (opts.maxInputs === undefined || inputs < opts.maxInputs) && failures.length < 20) {
    const origin = master.pick(["corpus", "mutate", "mutate", "mutate", "generate", "random"]);
    let bytes: Uint8Array;
    if (origin === "corpus") bytes = master.pick(pool);
    else if (origin === "mutate") bytes = mutate(master.pick(pool), pool, master);
    else if (origin === "generate") bytes = master.chance(0.5) ? generate(master) : mutate(generate(master), pool, master);
    else bytes = concat(master.chance(0.7) ? HS : new Uint8Array(0), Uint8Array.from({ length: master.int(2000) }, () => master.int(256)));
    byOrigin[origin] = (byOrigin[origin] ?? 0) + 1;
    const plain = master.chance(0.4);
    const k: FuzzCase = { bytes, cfg: master.int(CONFIGS.length), outgoing: master.chance(0.5), plan: master.int(0x7fffffff), plain };
    const feats = new Set<string>();
    const o = runCase(k, feats);
    inputs++;
    if (o) {
      const end = [...feats].find((f) => f.startsWith("end:")) ?? "?";
      endStates[end] = (endStates[end] ?? 0) + 1;
    }
    if (o && plain) {
      // Differential: the spec's reference outcome; the same bytes split another way; the
      // other mode's core.
      const ref = reference(bytes, limits(k.cfg).maxMsgSize);
      if (!sameOutcome(o, ref)) failures.push({ reason: `core and reference differ: core ${showOutcome(o)} vs reference ${showOutcome(ref)} (${CONFIGS[k.cfg].name}, plan ${k.plan})`, kase: k });
      const other = k.cfg < 2 ? 1 - k.cfg : 5 - k.cfg;
      for (const alt of [{ ...k, plan: k.plan ^ 0x2aaa }, { ...k, cfg: other, plan: k.plan ^ 0x5555 }] as FuzzCase[]) {
        const o2 = runCase(alt, new Set());
        if (o2 && !sameOutcome(o, o2)) {
          failures.push({ reason: `outcome differs: ${showOutcome(o)} (${CONFIGS[k.cfg].name}, plan ${k.plan}) vs ${showOutcome(o2)} (${CONFIGS[alt.cfg].name}, plan ${alt.plan})`, kase: k });
        }
      }
    }
    let fresh = false;
    for (const f of feats) {
      if (!features.has(f)) {
        features.add(f);
        fresh = true;
      }
    }
    if (fresh && bytes.length <= 64 * 1024) {
      pool.push(bytes);
      if (pool.length > 4000) pool.splice(opts.corpus.length, 1);
      // Worth keeping in test/corpus/? Only if the C host's view (plain, both modes, both
      // directions) gets something no corpus file reaches, the same way for every split.
      if (bytes.length <= 2048) {
        const cf = new Set<string>();
        const outs: (Outcome | null)[] = [];
        for (const cfg of [0, 1]) for (const outgoing of [false, true]) for (const plan of [0, 7, 11]) outs.push(runCase({ bytes, cfg, outgoing, plan, plain: true }, cf));
        const c = coarse(cf);
        const novel = c.filter((f) => !coarseSeen.has(f));
        const consistent = outs.every((x) => x && sameOutcome(x, outs[0]!));
        if (novel.length && consistent) {
          for (const f of c) coarseSeen.add(f);
          coarseNew.push({ name: novel.join("+").replace(/[^a-z0-9+]/gi, "-"), bytes, features: novel });
          log(`fuzz: new coarse feature(s) ${novel.join(", ")} (${bytes.length} bytes)`);
        }
      }
    }
  }
  return {
    inputs, executions, failures, features, coarseNew, pool: pool.length, ms: performance.now() - t0, byOrigin, endStates,
  };
}

/** Replays one case on a fresh core (for a failure report). */
export function replay(k: FuzzCase): { ok: boolean; message: string } {
  const rig = new Rig(k.cfg, 1);
  try {
    const o = execute(rig, k, new Set());
    return { ok: true, message: showOutcome(o) };
  } catch (e) {
    return { ok: false, message: (e as Error).message };
  }
}

export function caseToJson(k: FuzzCase): string {
  let s = "";
  for (const b of k.bytes) s += String.fromCharCode(b);
  return JSON.stringify({ cfg: k.cfg, config: CONFIGS[k.cfg].name, outgoing: k.outgoing, plan: k.plan, plain: k.plain, bytes: btoa(s) });
}

export function caseFromJson(j: string): FuzzCase {
  const o = JSON.parse(j);
  const bin = atob(o.bytes);
  return { cfg: o.cfg, outgoing: o.outgoing, plan: o.plan, plain: o.plain, bytes: Uint8Array.from(bin, (c) => c.charCodeAt(0)) };
}
