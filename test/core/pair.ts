// The core tests' harness: a configured core with test limits, event records copied out, a
// host-like driver of one connection (Side), and a pair of cores wired OUT → IN (Pair) with a
// simulated clock that `drive` steps to the next deadline, with a step bound that catches
// livelock (quinn-proto's `drive`).
import * as assert from "uvu/assert";
import { Core, EV, type CoreConfig, ST } from "../../adapters/core/core.ts";
import { HS_PEER, ID_A, ID_B, MIB100, concat } from "./wire.ts";

export const T = 1000;
export const R = 3000;
/** The peer address every test connection uses (IPv4, stored mapped). */
export const PEER = "127.0.0.1";

export function limits(over: Partial<CoreConfig> = {}): CoreConfig {
  return {
    maxConns: 16, maxRemotes: 16, maxSlots: 1, synchronous: true, maxMsgSize: MIB100,
    timeoutMs: T, reuseMs: R, bufSize: 1024, port: 31000, identity: ID_A, ...over,
  };
}
let seedCounter = 1;
export const mkCore = (over: Partial<CoreConfig> = {}): Core =>
  Core.configured(limits(over), Uint32Array.of(seedCounter++, 0x9e3779b9));

export interface Ev {
  kind: number; conn: number; gen: number; remote: number; slot: number; code: number; type: number;
  serial: number; hl: number; dl: number; ptr: number; len: number; offset: number; port: number;
  id: Uint8Array; hdr?: Uint8Array; data?: Uint8Array; bytes?: Uint8Array;
}

/** Copies the event records (and the payload bytes they point at) out of wasm memory. */
export function events(core: Core): Ev[] {
  const out: Ev[] = [];
  const n = core.x.evCount();
  for (let i = 0; i < n; i++) {
    const e: Ev = {
      kind: core.evKind(i), conn: core.evConn(i), gen: core.evGen(i), remote: core.evRemote(i),
      slot: core.evSlot(i), code: core.evCode(i), type: core.evType(i), serial: core.evSerial(i),
      hl: core.evHeaderLen(i), dl: core.evDataLen(i), ptr: core.evBytes(i), len: core.evLen(i),
      offset: core.evOffset(i), port: core.evPort(i), id: core.evIdentity(i),
    };
    if (e.kind === EV.MSG) {
      e.hdr = core.mem.slice(e.ptr, e.ptr + e.hl);
      e.data = core.mem.slice(e.ptr + e.hl, e.ptr + e.hl + e.dl);
    } else if (e.kind === EV.CHUNK) {
      e.bytes = core.mem.slice(e.ptr, e.ptr + e.len);
    }
    out.push(e);
  }
  return out;
}

export const kinds = (evs: Ev[]): number[] => evs.map((e) => e.kind);

/** One feed of `bytes` (must fit IN); returns consumed and the events. */
export function feedOnce(core: Core, conn: number, bytes: Uint8Array, now = 0): { used: number; evs: Ev[] } {
  assert.ok(bytes.length <= core.inCap);
  core.mem.set(bytes, core.inPtr);
  const used = core.x.feed(conn, bytes.length, now);
  return { used, evs: events(core) };
}

/** The remote for (address, port): remoteOpen with the address in the args record. */
export function openRemote(core: Core, port: number, now = 0, address = PEER): number {
  assert.ok(core.setAddress(address), `address ${address}`);
  return core.x.remoteOpen(port, now);
}

/** An accepted connection from `address` (connAccept); its handshake is left in OUT. */
export function accept(core: Core, now = 0, address = PEER): number {
  assert.ok(core.setAddress(address));
  return core.x.connAccept(now);
}

/** For remote `remote`: an outgoing connection c1 (dialled) and then an incoming one c2 from the
 * same peer, handshaken at `dialAt` and `acceptAt`; c2 ends up the remote's current connection
 * (§5.4). */
export function dialAndAccept(core: Core, remote: number, dialAt = 0, acceptAt = dialAt): { c1: number; c2: number } {
  const c1 = core.x.remoteDial(remote, dialAt);
  core.takeOut();
  feedOnce(core, c1, HS_PEER, dialAt);
  const c2 = accept(core, acceptAt);
  core.takeOut();
  feedOnce(core, c2, HS_PEER, acceptAt);
  return { c1, c2 };
}

export interface Msg { conn: number; slot: number; gen: number; type: number; serial: number; id: Uint8Array; hdr: Uint8Array; data: Uint8Array; remote: number }

/**
 * A host-like driver of one connection: keeps unconsumed bytes, reassembles EV_BEGIN/CHUNK/END,
 * optionally releases every message at once (flushing ACKs into OUT), learns its remote from
 * EV_HANDSHAKE (the core files incoming connections itself).
 */
export class Side {
  pending: Uint8Array = new Uint8Array(0);
  evs: Ev[] = [];
  msgs: Msg[] = [];
  held: Msg[] = [];
  cur?: Msg & { got: number };
  remote = -1;
  feeds = 0;
  constructor(public core: Core, public conn: number, public autoRelease = true) {}

  push(bytes: Uint8Array, now: number): void {
    this.pending = concat(this.pending, bytes);
    this.run(now);
  }

  /** Feeds pending bytes until everything is consumed, the connection pauses or fails. */
  run(now: number): boolean {
    const x = this.core.x;
    let progress = false;
    for (let guard = 0; guard < 1_000_000; guard++) {
      if (x.connState(this.conn) !== 2 && x.connState(this.conn) !== 1) return progress;
      const n = Math.min(this.core.inCap, this.pending.length);
      if (n === 0 && !x.connPaused(this.conn)) return progress;
      this.core.mem.set(this.pending.subarray(0, n), this.core.inPtr);
      const used = x.feed(this.conn, n, now);
      this.feeds++;
      assert.ok(used >= 0 && used <= n, `feed returned ${used} of ${n}`);
      const evs = events(this.core);
      this.pending = this.pending.slice(used);
      this.handle(evs);
      if (used === 0 && evs.length === 0) return progress;
      progress = true;
    }
    throw new Error("livelock in Side.run");
  }

  handle(evs: Ev[]): void {
    for (const e of evs) {
      this.evs.push(e);
      if (e.kind === EV.HANDSHAKE) {
        this.remote = e.remote;
      } else if (e.kind === EV.MSG) {
        const m = { conn: e.conn, slot: e.slot, gen: e.gen, type: e.type, serial: e.serial, id: e.id, hdr: e.hdr!, data: e.data!, remote: e.remote };
        this.msgs.push(m);
        this.held.push(m);
      } else if (e.kind === EV.BEGIN) {
        assert.is(this.cur, undefined);
        this.cur = {
          conn: e.conn, slot: e.slot, gen: e.gen, type: e.type, serial: e.serial, id: e.id, remote: e.remote,
          hdr: new Uint8Array(e.hl), data: new Uint8Array(e.dl), got: 0,
        };
      } else if (e.kind === EV.CHUNK) {
        const c = this.cur!;
        assert.is(e.slot, c.slot);
        assert.is(e.offset, c.got, "chunk offset");
        for (let i = 0; i < e.bytes!.length; i++) {
          const o = c.got + i;
          if (o < c.hdr.length) c.hdr[o] = e.bytes![i]; else c.data[o - c.hdr.length] = e.bytes![i];
        }
        c.got += e.bytes!.length;
      } else if (e.kind === EV.END) {
        const c = this.cur!;
        assert.is(c.got, c.hdr.length + c.data.length);
        assert.is(e.slot, c.slot);
        const { got: _got, ...m } = c;
        this.msgs.push(m);
        this.held.push(m);
        this.cur = undefined;
      }
    }
    if (this.autoRelease) while (this.held.length) this.releaseOne();
  }

  releaseOne(): number {
    const x = this.core.x;
    const m = this.held.shift()!;
    let rc = x.release(m.conn, m.gen, m.slot);
    if (rc === -ST.SPACE) {
      assert.ok(x.flush(m.conn) >= 0);
      rc = x.release(m.conn, m.gen, m.slot);
    }
    if (rc > 0 && (rc & 1)) assert.ok(x.flush(m.conn) > 0);
    return rc;
  }

  /** send with the payload inline; returns the payload's OUT offset or -status. */
  send(id: Uint8Array, hdr: Uint8Array, data: Uint8Array, now: number): number {
    const x = this.core.x;
    this.core.mem.set(id, this.core.idPtr);
    const off = x.send(this.conn, hdr.length, data.length, 1, now);
    if (off >= 0) {
      this.core.mem.set(hdr, this.core.outPtr + off);
      this.core.mem.set(data, this.core.outPtr + off + hdr.length);
    }
    return off;
  }

  /** tick(now): the events are recorded in `evs` and returned. */
  tick(now: number): Ev[] {
    this.core.x.tick(now);
    const evs = events(this.core);
    this.evs.push(...evs);
    return evs;
  }
}

/** Two cores wired through their OUT and IN areas: A (port 31000) dials B (port 2997). */
export class Pair {
  a: Side;
  b: Side;
  ra: number;
  now: number;
  constructor(la: Partial<CoreConfig> = {}, lb: Partial<CoreConfig> = {}, now = 0) {
    this.now = now;
    const ca = mkCore({ identity: ID_A, port: 31000, ...la });
    const cb = mkCore({ identity: ID_B, port: 2997, ...lb });
    this.ra = openRemote(ca, 2997, now);
    const connA = ca.x.remoteDial(this.ra, now);
    const aHs = ca.takeOut();
    const connB = accept(cb, now);
    const bHs = cb.takeOut();
    this.a = new Side(ca, connA);
    this.b = new Side(cb, connB);
    this.a.push(bHs, now);
    this.b.push(aHs, now);
  }

  /** Moves OUT bytes across until nothing moves. */
  pump(now = this.now): void {
    for (let i = 0; i < 10_000; i++) {
      let moved = false;
      if (this.a.core.x.outLen() > 0) { this.b.pending = concat(this.b.pending, this.a.core.takeOut()); moved = true; }
      if (this.b.core.x.outLen() > 0) { this.a.pending = concat(this.a.pending, this.b.core.takeOut()); moved = true; }
      const pa = this.a.run(now);
      const pb = this.b.run(now);
      if (!moved && !pa && !pb) return;
    }
    throw new Error("pump livelock");
  }

  /**
   * Steps the simulated clock from deadline to deadline of both cores (tick, then pump) until
   * `until` or until neither has a deadline; more than `maxSteps` steps is a livelock.
   * Returns the events the ticks produced, per side.
   */
  drive(until: number, maxSteps = 10_000): { a: Ev[]; b: Ev[] } {
    const seen = { a: [] as Ev[], b: [] as Ev[] };
    for (let step = 0; ; step++) {
      if (step > maxSteps) throw new Error(`drive: more than ${maxSteps} steps before ${until} (livelock)`);
      this.pump();
      const d = Math.min(this.a.core.x.nextDeadline(), this.b.core.x.nextDeadline());
      if (!(d <= until)) {
        this.now = until;
        return seen;
      }
      this.now = Math.max(this.now, d);
      seen.a.push(...this.a.tick(this.now));
      seen.b.push(...this.b.tick(this.now));
    }
  }
}

/** A sync core with one outgoing connection that has received the peer's handshake. */
export function readyOutgoing(over: Partial<CoreConfig> = {}, now = 0) {
  const core = mkCore(over);
  const x = core.x;
  const remote = openRemote(core, 2997, now);
  const conn = x.remoteDial(remote, now);
  assert.ok(conn >= 0, `remoteDial ${conn}`);
  core.takeOut();
  const { used, evs } = feedOnce(core, conn, HS_PEER, now);
  assert.is(used, 18);
  assert.equal(kinds(evs), [EV.HANDSHAKE]);
  return { core, x, remote, conn };
}

/** A core with one incoming connection that has received a handshake (filed by the core). */
export function readyIncoming(over: Partial<CoreConfig> = {}, now = 0) {
  const core = mkCore(over);
  const x = core.x;
  const conn = accept(core, now);
  core.takeOut();
  const { evs } = feedOnce(core, conn, HS_PEER, now);
  assert.equal(kinds(evs), [EV.HANDSHAKE]);
  const remote = evs[0].remote;
  assert.ok(remote >= 0);
  return { core, x, remote, conn };
}
