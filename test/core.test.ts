// Tests of the compiled protocol core (build/chirp.wasm via adapters/core.ts): protocol.md §2.7 byte
// vectors, a two-core pair harness, the §10 pitfalls, timers/GC, and fast-check properties of
// the reader (chunking invariance, no trap on garbage, memory never grows).
import { test } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import { Core, EV, ST, coreWasmBytes, type CoreLimits } from "../adapters/core.ts";

// ── helpers ──────────────────────────────────────────────────────────────────────────────────

const hex = (s: string): Uint8Array =>
  Uint8Array.from((s.replace(/\s+/g, "").match(/../g) ?? []).map((h) => parseInt(h, 16)));
const toHex = (b: Uint8Array): string => Array.from(b, (v) => v.toString(16).padStart(2, "0")).join("");
const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);
const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
};
const fill16 = (b: number): Uint8Array => new Uint8Array(16).fill(b);

const ID_A = hex("98f7020927c7b241e45eae1c5fa52d46"); // §2.7 handshake identity
const ID_B = hex("bc64660804e45a448f6be42e7a7e0f3b"); // §2.7 fuzz-seed identity
const HS_PEER = hex("0bb5 bc64660804e45a448f6be42e7a7e0f3b"); // port 2997
const MIB100 = 104857600;

const T = 1000;
const R = 3000;

function limits(over: Partial<CoreLimits> = {}): CoreLimits {
  return {
    maxConns: 16, maxRemotes: 16, maxSlots: 1, synchronous: true, maxMsgSize: MIB100,
    timeoutMs: T, reuseMs: R, bufSize: 1024, port: 31000, identity: ID_A, ...over,
  };
}
let seedCounter = 1;
const mkCore = (over: Partial<CoreLimits> = {}): Core =>
  new Core(limits(over), Uint32Array.of(seedCounter++, 0x9e3779b9));

/** A 27-byte header + payload (§2.1). */
function frame(id: Uint8Array, serial: number, type: number, hdr: Uint8Array, data: Uint8Array,
  dataLen = data.length, hdrLen = hdr.length): Uint8Array {
  const f = new Uint8Array(27 + hdr.length + data.length);
  const dv = new DataView(f.buffer);
  f.set(id, 0);
  dv.setUint32(16, serial >>> 0);
  dv.setUint32(20, dataLen >>> 0);
  dv.setUint16(24, hdrLen);
  f[26] = type;
  f.set(hdr, 27);
  f.set(data, 27 + hdr.length);
  return f;
}
const ackFrame = (id: Uint8Array, serial: number) => frame(id, serial, 2, new Uint8Array(0), new Uint8Array(0));
const noopFrame = (serial: number) => frame(fill16(0), serial, 4, new Uint8Array(0), new Uint8Array(0));

interface Ev {
  kind: number; conn: number; slot: number; type: number; serial: number; hl: number; dl: number;
  p1: number; p2: number; aux: number; gen: number; remote: number; id: Uint8Array;
  hdr?: Uint8Array; data?: Uint8Array; bytes?: Uint8Array;
}

/** Copies the event records (and the payload bytes they point at) out of wasm memory. */
function events(core: Core): Ev[] {
  const out: Ev[] = [];
  const n = core.x.evCount();
  for (let i = 0; i < n; i++) {
    const e: Ev = {
      kind: core.evKind(i), conn: core.evConn(i), slot: core.evSlot(i), type: core.evType(i),
      serial: core.evSerial(i), hl: core.evHeaderLen(i), dl: core.evDataLen(i),
      p1: core.evPtr1(i), p2: core.evPtr2(i), aux: core.evAux(i), gen: core.evGen(i),
      remote: core.evRemote(i), id: core.evIdentity(i),
    };
    if (e.kind === EV.MSG) {
      e.hdr = core.mem.slice(e.p1, e.p1 + e.hl);
      e.data = core.mem.slice(e.p2, e.p2 + e.dl);
    } else if (e.kind === EV.CHUNK) {
      e.bytes = core.mem.slice(e.p1, e.p1 + e.p2);
    }
    out.push(e);
  }
  return out;
}

/** One feed of `bytes` (must fit IN); returns consumed and the events. */
function feedOnce(core: Core, conn: number, bytes: Uint8Array, now = 0): { used: number; evs: Ev[] } {
  assert.ok(bytes.length <= core.inCap);
  core.mem.set(bytes, core.inPtr);
  const used = core.x.feed(conn, bytes.length, now);
  return { used, evs: events(core) };
}

interface Msg { conn: number; slot: number; gen: number; type: number; serial: number; id: Uint8Array; hdr: Uint8Array; data: Uint8Array }

/**
 * A host-like driver of one connection: keeps unconsumed bytes, reassembles EV_BEGIN/CHUNK/END,
 * optionally releases every message at once (flushing ACKs into OUT), attaches incoming
 * connections to a fresh remote on EV_HANDSHAKE.
 */
class Side {
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
      this.handle(evs, now);
      if (used === 0 && evs.length === 0) return progress;
      progress = true;
    }
    throw new Error("livelock in Side.run");
  }

  handle(evs: Ev[], now: number): void {
    const x = this.core.x;
    for (const e of evs) {
      this.evs.push(e);
      if (e.kind === EV.HANDSHAKE && e.remote === -1) {
        this.remote = x.remoteAlloc(now);
        assert.is(x.connAttach(e.conn, this.remote, now), 0);
      } else if (e.kind === EV.HANDSHAKE) {
        this.remote = e.remote;
      } else if (e.kind === EV.MSG) {
        const m = { conn: e.conn, slot: e.slot, gen: e.gen, type: e.type, serial: e.serial, id: e.id, hdr: e.hdr!, data: e.data! };
        this.msgs.push(m);
        this.held.push(m);
      } else if (e.kind === EV.BEGIN) {
        assert.is(this.cur, undefined);
        this.cur = {
          conn: e.conn, slot: e.slot, gen: e.gen, type: e.type, serial: e.serial, id: e.id,
          hdr: new Uint8Array(e.hl), data: new Uint8Array(e.dl), got: 0,
        };
      } else if (e.kind === EV.CHUNK) {
        const c = this.cur!;
        assert.is(e.slot, c.slot);
        assert.is(e.aux, c.got, "chunk offset");
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
    if (this.autoRelease) while (this.held.length) this.releaseOne(now);
  }

  releaseOne(now: number): number {
    const x = this.core.x;
    const m = this.held.shift()!;
    let rc = x.release(m.conn, m.gen, m.slot, now);
    if (rc === -ST.SPACE) {
      assert.ok(x.flush(m.conn, now) >= 0);
      rc = x.release(m.conn, m.gen, m.slot, now);
    }
    if (rc === 1) assert.ok(x.flush(m.conn, now) > 0);
    return rc;
  }

  send(id: Uint8Array, hdr: Uint8Array, data: Uint8Array, now: number): number {
    const x = this.core.x;
    this.core.mem.set(id, this.core.scratchPtr);
    const off = x.dataFrame(this.conn, hdr.length, data.length, 1, now);
    if (off >= 0) {
      this.core.mem.set(hdr, this.core.outPtr + off + 27);
      this.core.mem.set(data, this.core.outPtr + off + 27 + hdr.length);
    }
    return off;
  }
}

/** Two cores wired through their OUT and IN areas: A dials B. */
class Pair {
  a: Side;
  b: Side;
  ra: number;
  constructor(la: Partial<CoreLimits> = {}, lb: Partial<CoreLimits> = {}, now = 0) {
    const ca = mkCore({ identity: ID_A, port: 31000, ...la });
    const cb = mkCore({ identity: ID_B, port: 2997, ...lb });
    this.ra = ca.x.remoteAlloc(now);
    const connA = ca.x.connOpen(1, this.ra, now);
    const aHs = ca.takeOut();
    const connB = cb.x.connOpen(0, -1, now);
    const bHs = cb.takeOut();
    this.a = new Side(ca, connA);
    this.b = new Side(cb, connB);
    this.a.push(bHs, now);
    this.b.push(aHs, now);
  }
  /** Moves OUT bytes across until nothing moves. */
  pump(now: number): void {
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
}

const kinds = (evs: Ev[]) => evs.map((e) => e.kind);

/** A sync core with one outgoing connection that has received the peer's handshake. */
function readyOutgoing(over: Partial<CoreLimits> = {}, now = 0) {
  const core = mkCore(over);
  const x = core.x;
  const remote = x.remoteAlloc(now);
  const conn = x.connOpen(1, remote, now);
  core.takeOut();
  const { used, evs } = feedOnce(core, conn, HS_PEER, now);
  assert.is(used, 18);
  assert.equal(kinds(evs), [EV.HANDSHAKE]);
  return { core, x, remote, conn };
}

/** A core with one incoming connection that has received a handshake and is attached. */
function readyIncoming(over: Partial<CoreLimits> = {}, now = 0) {
  const core = mkCore(over);
  const x = core.x;
  const conn = x.connOpen(0, -1, now);
  core.takeOut();
  const { evs } = feedOnce(core, conn, HS_PEER, now);
  assert.equal(kinds(evs), [EV.HANDSHAKE]);
  const remote = x.remoteAlloc(now);
  assert.is(x.connAttach(conn, remote, now), 0);
  return { core, x, remote, conn };
}

// ── setup, ABI basics ────────────────────────────────────────────────────────────────────────

test("module imports nothing and exports every ABI function", () => {
  const mod = new WebAssembly.Module(coreWasmBytes() as BufferSource);
  assert.equal(WebAssembly.Module.imports(mod), []);
  const names = WebAssembly.Module.exports(mod).map((e) => e.name);
  for (const n of ["identityPtr", "scratchPtr", "configure", "memoryBytes", "inPtr", "inCap", "outPtr",
    "outCap", "outLen", "outConn", "outReset", "evPtr", "evCount", "connOpen", "connGen", "connState",
    "connRemote", "connPaused", "connAttach", "connClose", "feed", "release", "flush", "dataFrame",
    "writeStart", "writeDone", "remoteAlloc", "remoteFree", "remoteConn", "remoteWaiting",
    "remoteDebounce", "remoteWant", "remoteSerial", "tick", "nextDeadline", "memory"]) {
    assert.ok(names.includes(n), `missing export ${n}`);
  }
});

test("configure: bad limits refused without growing; layout fits the memory", () => {
  const inst = new WebAssembly.Instance(new WebAssembly.Module(coreWasmBytes() as BufferSource), {});
  const x = inst.exports as any;
  const mem = x.memory as WebAssembly.Memory;
  const before = mem.buffer.byteLength;
  assert.is(x.configure(0, 1, 1, 1, 100, 1000, 3000, 1024, 1, 0, 0), -ST.VALUE_ERROR);
  assert.is(x.configure(1, 1, 33, 1, 100, 1000, 3000, 1024, 1, 0, 0), -ST.VALUE_ERROR);
  assert.is(x.configure(1, 1, 1, 1, 100, 1000, 3000, 1023, 1, 0, 0), -ST.VALUE_ERROR);
  assert.is(x.configure(1, 1, 1, 1, 100, NaN, 3000, 1024, 1, 0, 0), -ST.VALUE_ERROR);
  assert.is(x.configure(1, 1, 1, 1, 100, 1000, 3000, 1024, 70000, 0, 0), -ST.VALUE_ERROR);
  assert.is(mem.buffer.byteLength, before);
  assert.is(x.configure(4, 4, 2, 0, 100, 1000, 3000, 1024, 1, 0, 0), 0);
  assert.is(x.memoryBytes(), mem.buffer.byteLength);
  assert.is(x.configure(4, 4, 2, 0, 100, 1000, 3000, 1024, 1, 0, 0), -ST.VALUE_ERROR, "only once");
  assert.is(x.inCap(), 1024);
  assert.is(x.outCap(), 1024 + 4096);
  assert.ok(x.inPtr() >= x.scratchPtr() + 16);
  assert.ok(x.outPtr() >= x.inPtr() + 1024);
  assert.ok(x.evPtr() >= x.outPtr() + x.outCap());
  assert.ok(x.evPtr() + 2048 * 64 <= x.memoryBytes());
});

test("memory for the default limits", () => {
  const core = new Core({
    maxConns: 1024, maxRemotes: 1024, maxSlots: 16, synchronous: false, maxMsgSize: MIB100,
    timeoutMs: 5000, reuseMs: 30000, bufSize: 65536, port: 2998, identity: ID_A,
  });
  const sync = new Core({
    maxConns: 1024, maxRemotes: 1024, maxSlots: 1, synchronous: true, maxMsgSize: MIB100,
    timeoutMs: 5000, reuseMs: 30000, bufSize: 65536, port: 2998, identity: ID_A,
  });
  console.log(`  core memory, defaults (1024 conns, 1024 remotes, 16 slots, 64 KiB buffer): ` +
    `${core.memoryBytes} bytes; synchronous (1 slot): ${sync.memoryBytes} bytes`);
  assert.ok(core.memoryBytes < 4 * 1024 * 1024);
  assert.is(core.x.memoryBytes(), core.memoryBytes);
});

// ── protocol.md §2.7 vectors ────────────────────────────────────────────────────────────────────────

test("§2.7 handshake: port 31000 and the node identity", () => {
  const core = mkCore({ port: 31000, identity: ID_A });
  const remote = core.x.remoteAlloc(0);
  const conn = core.x.connOpen(1, remote, 0);
  assert.is(conn, 0);
  assert.is(core.x.outConn(), conn);
  assert.is(toHex(core.takeOut()), "7918" + "98f7020927c7b241e45eae1c5fa52d46");
  assert.is(core.x.outConn(), -1);
  assert.is(core.x.connState(conn), 1);
});

test("§2.7 fuzz-seed handshake decodes to port 2997 and its identity", () => {
  const c2 = mkCore();
  const cc = c2.x.connOpen(0, -1, 5);
  c2.takeOut();
  const { used, evs } = feedOnce(c2, cc, HS_PEER, 5);
  assert.is(used, 18);
  assert.is(evs.length, 1);
  assert.is(evs[0].kind, EV.HANDSHAKE);
  assert.is(evs[0].aux, 2997);
  assert.is(evs[0].remote, -1);
  assert.is(evs[0].conn, cc);
  assert.is(toHex(evs[0].id), toHex(ID_B));
  assert.is(c2.x.connState(cc), 2);
});

test("§2.7 data frame, reply, ACK and NOOP vectors; serials +1 across data, ACK and NOOP", () => {
  const { core, x, remote, conn } = readyOutgoing({ synchronous: true });
  const side = new Side(core, conn, false);
  side.remote = remote;
  const AA = fill16(0xaa);
  // Our REQ_ACK data frame: the 35-byte vector except the serial.
  const off = side.send(AA, ascii("HDR"), ascii("hello"), 10);
  assert.is(off, 0);
  const ours = core.takeOut();
  const vec = hex("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 00000007 00000005 0003 01 484452 68656c6c6f");
  assert.is(ours.length, 35);
  const s0 = new DataView(ours.buffer).getUint32(16);
  assert.is(s0, x.remoteSerial(remote) >>> 0);
  const masked = ours.slice();
  masked.set(vec.subarray(16, 20), 16);
  assert.is(toHex(masked), toHex(vec));
  assert.is(x.remoteWaiting(remote), 1);
  core.mem.set(fill16(0xbb), core.scratchPtr);
  assert.is(x.dataFrame(conn, 0, 0, 1, 11), -ST.BUSY, "one unacknowledged message per remote");

  // The echo's reply.
  side.push(hex("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 526ebf60 00000005 0003 01 484452 68656c6c6f"), 20);
  const msg = side.evs.at(-1)!;
  assert.is(msg.kind, EV.MSG);
  assert.is(msg.type, 1);
  assert.is(msg.serial, 0x526ebf60);
  assert.is(msg.hl, 3);
  assert.is(msg.dl, 5);
  assert.is(toHex(msg.id), toHex(AA));
  assert.is(new TextDecoder().decode(msg.hdr), "HDR");
  assert.is(new TextDecoder().decode(msg.data), "hello");
  assert.is(msg.remote, remote);

  // Its ACK for our message.
  side.push(hex("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 526ebf61 00000000 0000 02"), 30);
  const ack = side.evs.at(-1)!;
  assert.is(ack.kind, EV.ACK);
  assert.is(ack.remote, remote);
  assert.is(ack.conn, conn);
  assert.is(toHex(ack.id), toHex(AA));
  assert.is(x.remoteWaiting(remote), 0);

  // We release the reply: our ACK takes serial s0+1.
  assert.is(side.releaseOne(40), 1);
  const ourAck = core.takeOut();
  assert.is(toHex(ourAck), toHex(AA) + (s0 + 1 >>> 0).toString(16).padStart(8, "0") + "00000000" + "0000" + "02");

  // A NOOP from the peer.
  side.push(hex("00000000000000000000000000000000 51c9b9f4 00000000 0000 04"), 50);
  const noop = side.evs.at(-1)!;
  assert.is(noop.kind, EV.NOOP);
  assert.is(noop.serial, 0x51c9b9f4);
  assert.is(noop.type, 4);

  // Idle > 0.75·R: a NOOP (zero identity) goes before the next data frame, each +1.
  const later = 50 + 0.75 * R + 1;
  const off2 = side.send(AA, ascii("HDR"), ascii("hello"), later);
  assert.is(off2, 27);
  const out = core.takeOut();
  assert.is(out.length, 27 + 35);
  assert.is(toHex(out.subarray(0, 27)), "00".repeat(16) + (s0 + 2 >>> 0).toString(16).padStart(8, "0") + "00000000000004");
  assert.is(new DataView(out.buffer).getUint32(27 + 16), (s0 + 3) >>> 0);
  assert.is(x.remoteSerial(remote) >>> 0, (s0 + 3) >>> 0);
});

test("§2.7 REQ_ACK vector decodes field by field", () => {
  const { core, conn, remote } = readyIncoming({ synchronous: true });
  const { used, evs } = feedOnce(core, conn,
    hex("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 00000007 00000005 0003 01 484452 68656c6c6f"), 1);
  assert.is(used, 35);
  assert.is(evs.length, 1);
  const e = evs[0];
  assert.is(e.kind, EV.MSG);
  assert.is(e.conn, conn);
  assert.is(e.remote, remote);
  assert.is(e.slot, 0);
  assert.is(e.type, 1);
  assert.is(e.serial, 7);
  assert.is(e.hl, 3);
  assert.is(e.dl, 5);
  assert.is(e.p1, core.inPtr + 27);
  assert.is(e.p2, core.inPtr + 30);
  assert.is(e.gen, core.x.connGen(conn));
  assert.is(toHex(e.id), "aa".repeat(16));
  assert.is(toHex(e.hdr!), "484452");
  assert.is(toHex(e.data!), "68656c6c6f");
});

test("serials are random per remote and wrap mod 2^32", () => {
  const core = mkCore();
  const a = core.x.remoteAlloc(0);
  const b = core.x.remoteAlloc(0);
  assert.is.not(core.x.remoteSerial(a), core.x.remoteSerial(b));
});

// ── pair harness ─────────────────────────────────────────────────────────────────────────────

test("pair: handshake both ways, sync message A→B, release → ACK → EV_ACK", () => {
  const p = new Pair({ synchronous: true }, { synchronous: true });
  const hsA = p.a.evs.find((e) => e.kind === EV.HANDSHAKE)!;
  const hsB = p.b.evs.find((e) => e.kind === EV.HANDSHAKE)!;
  assert.is(hsA.aux, 2997);
  assert.is(toHex(hsA.id), toHex(ID_B));
  assert.is(hsA.remote, p.ra);
  assert.is(hsB.aux, 31000);
  assert.is(toHex(hsB.id), toHex(ID_A));
  assert.is(hsB.remote, -1);
  assert.is(p.a.core.x.remoteConn(p.ra), p.a.conn);
  assert.is(p.b.core.x.remoteConn(p.b.remote), p.b.conn);
  assert.is(p.b.core.x.connRemote(p.b.conn), p.b.remote);

  p.b.autoRelease = false;
  const id = fill16(0x11);
  assert.is(p.a.send(id, ascii("h"), ascii("payload"), 1), 0);
  p.a.core.x.writeStart(p.a.conn, 1);
  p.a.core.x.writeDone(p.a.conn, 1, 1);
  p.pump(2);
  assert.is(p.b.msgs.length, 1);
  assert.is(p.b.msgs[0].type, 1);
  assert.is(new TextDecoder().decode(p.b.msgs[0].data), "payload");
  assert.is(p.a.core.x.remoteWaiting(p.ra), 1);
  assert.not.ok(p.a.evs.some((e) => e.kind === EV.ACK));
  assert.is(p.b.releaseOne(3), 1);
  p.pump(4);
  const ack = p.a.evs.find((e) => e.kind === EV.ACK)!;
  assert.ok(ack);
  assert.is(toHex(ack.id), toHex(id));
  assert.is(p.a.core.x.remoteWaiting(p.ra), 0);
  // B's ACK serial follows B's remote counter; B's reply uses the next one.
  const sB = p.b.core.x.remoteSerial(p.b.remote) >>> 0;
  assert.is(p.b.send(fill16(0x22), new Uint8Array(0), ascii("reply"), 5), 0);
  p.pump(6);
  assert.is(p.a.msgs.at(-1)!.serial, (sB + 1) >>> 0);
});

test("pair: async 16 slots, 20 pipelined → 16 deliveries, then one per release (§3.2)", () => {
  const p = new Pair({ synchronous: false, maxSlots: 16 }, { synchronous: false, maxSlots: 16 });
  p.b.autoRelease = false;
  for (let i = 0; i < 20; i++) {
    const data = new Uint8Array(16).fill(i);
    assert.ok(p.a.send(fill16(i), new Uint8Array(0), data, 1) >= 0);
  }
  const bytes = p.a.core.takeOut();
  assert.is(bytes.length, 20 * 43);
  p.b.push(bytes, 2);
  assert.is(p.b.msgs.length, 16);
  assert.is(p.b.core.x.connPaused(p.b.conn), 1);
  assert.is(p.b.pending.length, 4 * 43 - 27, "the 17th header is consumed and remembered");
  for (let k = 0; k < 4; k++) {
    assert.is(p.b.releaseOne(3), 0);
    p.b.run(3);
    assert.is(p.b.msgs.length, 17 + k);
  }
  assert.is(p.b.core.x.connPaused(p.b.conn), 0);
  assert.is(p.b.pending.length, 0);
  p.b.msgs.forEach((m, i) => {
    assert.is(m.data[0], i);
    assert.is(m.type, 0);
  });
  // Serials of one sender increase by one.
  for (let i = 1; i < 20; i++) assert.is(p.b.msgs[i].serial, (p.b.msgs[0].serial + i) >>> 0);
});

test("paused zero-length message is delivered by feed(conn, 0)", () => {
  const { core, x, conn } = readyIncoming({ synchronous: false, maxSlots: 1 });
  const f1 = frame(fill16(1), 1, 0, new Uint8Array(0), ascii("x"));
  const f2 = frame(fill16(2), 2, 0, new Uint8Array(0), new Uint8Array(0));
  const r1 = feedOnce(core, conn, concat(f1, f2));
  assert.is(r1.used, f1.length + 27);
  assert.equal(kinds(r1.evs), [EV.MSG]);
  assert.is(x.connPaused(conn), 1);
  const r2 = feedOnce(core, conn, new Uint8Array(0));
  assert.is(r2.used, 0);
  assert.equal(r2.evs, []);
  assert.is(x.release(conn, x.connGen(conn), 0, 0), 0);
  assert.is(x.connPaused(conn), 1, "stays paused until the host feeds again");
  const r3 = feedOnce(core, conn, new Uint8Array(0));
  assert.equal(kinds(r3.evs), [EV.MSG]);
  assert.is(r3.evs[0].dl, 0);
  assert.is(toHex(r3.evs[0].id), toHex(fill16(2)));
  assert.is(x.connPaused(conn), 0);
});

test("a message larger than IN streams as BEGIN, CHUNKs, END", () => {
  const { core, conn } = readyIncoming({ synchronous: false, maxSlots: 2 });
  const hdr = new Uint8Array(700).map((_, i) => i & 0xff);
  const data = new Uint8Array(3000).map((_, i) => (i * 7) & 0xff);
  const side = new Side(core, conn, true);
  side.push(frame(fill16(9), 99, 0, hdr, data), 0);
  assert.is(side.msgs.length, 1);
  assert.equal(side.msgs[0].hdr, hdr);
  assert.equal(side.msgs[0].data, data);
  const k = kinds(side.evs);
  assert.is(k[0], EV.BEGIN);
  assert.is(k.at(-1), EV.END);
  assert.ok(k.filter((x) => x === EV.CHUNK).length >= 4);
});

// ── §10 pitfalls and reader rules ───────────────────────────────────────────────────────────

test("§10.1 split handshake (10 + 8 bytes) is buffered", () => {
  const core = mkCore();
  const conn = core.x.connOpen(0, -1, 0);
  core.takeOut();
  const a = feedOnce(core, conn, HS_PEER.subarray(0, 10));
  assert.is(a.used, 10);
  assert.equal(a.evs, []);
  assert.is(core.x.connState(conn), 1);
  const b = feedOnce(core, conn, HS_PEER.subarray(10));
  assert.is(b.used, 8);
  assert.equal(kinds(b.evs), [EV.HANDSHAKE]);
  assert.is(b.evs[0].aux, 2997);
  assert.is(core.x.connState(conn), 2);
});

test("incoming handshake + frames in one read: feed stops after the handshake for connAttach", () => {
  const core = mkCore({ synchronous: false, maxSlots: 4 });
  const conn = core.x.connOpen(0, -1, 0);
  core.takeOut();
  const f = frame(fill16(3), 5, 0, new Uint8Array(0), ascii("abc"));
  const a = feedOnce(core, conn, concat(HS_PEER, f));
  assert.is(a.used, 18);
  assert.equal(kinds(a.evs), [EV.HANDSHAKE]);
  const remote = core.x.remoteAlloc(0);
  core.x.connAttach(conn, remote, 0);
  const b = feedOnce(core, conn, f);
  assert.equal(kinds(b.evs), [EV.MSG]);
  assert.is(b.evs[0].remote, remote);
  // Outgoing: frames after the handshake are parsed in the same call.
  const core2 = mkCore({ synchronous: false, maxSlots: 4 });
  const r2 = core2.x.remoteAlloc(0);
  const c2 = core2.x.connOpen(1, r2, 0);
  core2.takeOut();
  const c = feedOnce(core2, c2, concat(HS_PEER, f));
  assert.is(c.used, 18 + f.length);
  assert.equal(kinds(c.evs), [EV.HANDSHAKE, EV.MSG]);
});

test("§3.5/§10.7 size check in 64 bits: header_len=1, data_len=0xFFFFFFFF → ENOMEM", () => {
  const { core, x, conn } = readyIncoming();
  const bad = frame(fill16(1), 1, 0, new Uint8Array(0), new Uint8Array(0), 0xffffffff, 1);
  const r = feedOnce(core, conn, concat(bad, new Uint8Array(5)));
  assert.equal(kinds(r.evs), [EV.ERROR]);
  assert.is(r.evs[0].slot, ST.ENOMEM);
  assert.is(x.connState(conn), 3);
  const again = feedOnce(core, conn, new Uint8Array(10));
  assert.is(again.used, 0);
  assert.equal(again.evs, []);
});

test("exactly maxMsgSize is accepted, one more byte is ENOMEM", () => {
  {
    const { core, conn } = readyIncoming({ maxMsgSize: 100, synchronous: false, maxSlots: 2 });
    const ok = frame(fill16(1), 1, 0, new Uint8Array(40), new Uint8Array(60));
    assert.equal(kinds(feedOnce(core, conn, ok).evs), [EV.MSG]);
    const big = frame(fill16(1), 1, 0, new Uint8Array(40), new Uint8Array(61));
    const r = feedOnce(core, conn, big);
    assert.equal(kinds(r.evs), [EV.ERROR]);
    assert.is(r.evs[0].slot, ST.ENOMEM);
  }
  {
    const { core, x, conn } = readyIncoming();
    const r = feedOnce(core, conn, frame(fill16(1), 1, 0, new Uint8Array(0), new Uint8Array(0), MIB100));
    assert.equal(kinds(r.evs), [EV.BEGIN], "100 MiB accepted, waiting for payload");
    assert.is(x.connState(conn), 2);
  }
  {
    const { core, conn } = readyIncoming();
    const r = feedOnce(core, conn, frame(fill16(1), 1, 0, new Uint8Array(0), new Uint8Array(0), MIB100 + 1));
    assert.equal(kinds(r.evs), [EV.ERROR]);
  }
});

test("§2.2 ACK with payload, type 0x03, type 0x05 → PROTOCOL_ERROR", () => {
  for (const f of [
    frame(fill16(1), 1, 2, new Uint8Array(0), new Uint8Array(1)),
    frame(fill16(1), 1, 2, new Uint8Array(1), new Uint8Array(0)),
    frame(fill16(1), 1, 3, new Uint8Array(0), new Uint8Array(0)),
    frame(fill16(1), 1, 5, new Uint8Array(0), new Uint8Array(0)),
    frame(fill16(0), 1, 4, new Uint8Array(0), new Uint8Array(2)),
  ]) {
    const { core, x, conn } = readyIncoming();
    const r = feedOnce(core, conn, f);
    assert.equal(kinds(r.evs), [EV.ERROR]);
    assert.is(r.evs[0].slot, ST.PROTOCOL_ERROR);
    assert.is(x.connState(conn), 3);
  }
});

test("§2.2 0x06 counts as a NOOP (not an ACK); 0x08 is delivered with its raw type", () => {
  const { core, x, remote, conn } = readyOutgoing({ synchronous: true });
  const id = fill16(0x42);
  core.mem.set(id, core.scratchPtr);
  assert.ok(x.dataFrame(conn, 0, 0, 1, 0) >= 0);
  core.takeOut();
  const r = feedOnce(core, conn, frame(id, 1, 6, new Uint8Array(0), new Uint8Array(0)));
  assert.equal(kinds(r.evs), [EV.NOOP]);
  assert.is(r.evs[0].type, 6);
  assert.is(x.remoteWaiting(remote), 1, "0x06 is not an ACK");
  const d = feedOnce(core, conn, frame(fill16(7), 2, 8, ascii("h"), ascii("d")));
  assert.equal(kinds(d.evs), [EV.MSG]);
  assert.is(d.evs[0].type, 8);
  const d2 = feedOnce(core, conn, frame(fill16(7), 2, 0xf8, ascii("h"), ascii("d")));
  assert.equal(kinds(d2.evs), [], "slot is busy: paused");
  assert.is(x.connPaused(conn), 1);
});

test("§2.6 stale ACK ignored; ACK on another connection of the remote counts (§5.4)", () => {
  const { core, x, remote, conn } = readyOutgoing({ synchronous: true });
  const id = fill16(0x42);
  core.mem.set(id, core.scratchPtr);
  assert.ok(x.dataFrame(conn, 0, 3, 1, 0) >= 0);
  core.takeOut();
  const stale = feedOnce(core, conn, ackFrame(fill16(0x43), 9));
  assert.equal(stale.evs, []);
  assert.is(stale.used, 27);
  assert.is(x.remoteWaiting(remote), 1);
  // A second connection to the same remote takes over; the ACK arrives on it.
  const c2 = x.connOpen(1, remote, 1);
  core.takeOut();
  feedOnce(core, c2, HS_PEER, 1);
  assert.is(x.remoteConn(remote), c2);
  const ok = feedOnce(core, c2, ackFrame(id, 10), 2);
  assert.equal(kinds(ok.evs), [EV.ACK]);
  assert.is(x.remoteWaiting(remote), 0);
  const dup = feedOnce(core, conn, ackFrame(id, 11), 3);
  assert.equal(dup.evs, [], "a second ACK is stale");
});

test("§10.6 incoming handshake timeout fires via tick, once", () => {
  const core = mkCore({ timeoutMs: 1000 });
  const conn = core.x.connOpen(0, -1, 100);
  core.takeOut();
  assert.ok(core.x.nextDeadline() <= 100 + 2000);
  assert.is(core.x.tick(100 + 1999), 0);
  assert.is(core.x.tick(100 + 2000), 1);
  const e = events(core)[0];
  assert.is(e.kind, EV.TIMEOUT);
  assert.is(e.aux, 1);
  assert.is(e.conn, conn);
  assert.is(e.gen, core.x.connGen(conn));
  assert.is(core.x.tick(100 + 2001), 0);
  // connect timeout is capped at 60 s
  const slow = mkCore({ timeoutMs: 100000, reuseMs: 300000 });
  const r = slow.x.remoteAlloc(0);
  slow.x.connOpen(1, r, 0);
  assert.is(slow.x.nextDeadline(), 60000);
});

test("§4.3/§10.3 send timeout is not cancelled by an interleaved ACK/NOOP write", () => {
  const { core, x, remote, conn } = readyOutgoing({ synchronous: true });
  core.mem.set(fill16(0x51), core.scratchPtr);
  assert.ok(x.dataFrame(conn, 0, 1, 1, 0) >= 0);
  core.takeOut();
  x.writeStart(conn, 0);
  x.writeDone(conn, 1, 0);
  // The peer sends a REQ_ACK message; we release it and write the ACK.
  const r = feedOnce(core, conn, frame(fill16(0x61), 1, 1, new Uint8Array(0), ascii("q")), 100);
  assert.equal(kinds(r.evs), [EV.MSG]);
  assert.is(x.release(conn, x.connGen(conn), 0, 200), 1);
  assert.is(x.flush(conn, 200), 27);
  core.takeOut();
  x.writeStart(conn, 200);
  x.writeDone(conn, 1, 210);
  // A NOOP from the peer too.
  feedOnce(core, conn, noopFrame(5), 300);
  assert.ok(x.nextDeadline() <= T);
  assert.is(x.tick(T - 1), 0);
  assert.is(x.tick(T), 1);
  const e = events(core)[0];
  assert.is(e.kind, EV.TIMEOUT);
  assert.is(e.aux, 2);
  assert.is(e.conn, conn);
  assert.is(e.remote, remote);
  assert.is(x.tick(T + 1), 0, "reported once");
  assert.is(x.connClose(conn, T + 1) & 1, 1, "the waiting message is abandoned");
  assert.is(x.remoteWaiting(remote), 0);
});

test("§10.10 closing an old duplicate connection keeps the current one's waiting message", () => {
  const core = mkCore({ synchronous: true });
  const x = core.x;
  const remote = x.remoteAlloc(0);
  const c1 = x.connOpen(1, remote, 0);
  core.takeOut();
  feedOnce(core, c1, HS_PEER, 0);
  const c2 = x.connOpen(1, remote, 1);
  core.takeOut();
  feedOnce(core, c2, HS_PEER, 1);
  assert.is(x.remoteConn(remote), c2, "last handshaken wins");
  core.mem.set(fill16(0x77), core.scratchPtr);
  assert.ok(x.dataFrame(c2, 0, 0, 1, 2) >= 0);
  core.takeOut();
  assert.is(x.connClose(c1, 3), 0);
  assert.is(x.remoteWaiting(remote), 1);
  assert.is(x.remoteConn(remote), c2);
  assert.is(x.connClose(c2, 4), 1);
  assert.is(x.remoteConn(remote), -1);
  assert.is(x.remoteWaiting(remote), 0);
});

test("closing the current connection leaves the remote without one (no promotion)", () => {
  const core = mkCore({ synchronous: true });
  const x = core.x;
  const remote = x.remoteAlloc(0);
  const c1 = x.connOpen(1, remote, 0);
  core.takeOut();
  feedOnce(core, c1, HS_PEER, 0);
  const c2 = x.connOpen(1, remote, 1);
  core.takeOut();
  feedOnce(core, c2, HS_PEER, 1);
  assert.is(x.connClose(c2, 2), 0);
  assert.is(x.remoteConn(remote), -1);
  assert.is(x.connState(c1), 2);
});

test("stale release after connClose is ignored (generation)", () => {
  const { core, x, conn } = readyIncoming({ synchronous: true });
  const r = feedOnce(core, conn, frame(fill16(1), 1, 1, new Uint8Array(0), ascii("x")));
  const gen = r.evs[0].gen;
  assert.is(gen, x.connGen(conn));
  assert.is(x.connClose(conn, 1), 0);
  assert.is(x.release(conn, gen, 0, 2), -ST.VALUE_ERROR);
  const again = x.connOpen(0, -1, 3);
  assert.is(again, conn, "index reused");
  assert.is.not(x.connGen(again), gen);
  assert.is(x.release(conn, gen, 0, 4), -ST.VALUE_ERROR);
  assert.is(x.release(conn, x.connGen(conn), 0, 4), -ST.VALUE_ERROR, "unused slot");
  assert.is(x.release(conn, x.connGen(conn), 5, 4), -ST.VALUE_ERROR, "slot out of range");
});

test("release: no ACK for a failed connection; ACK queue full → SPACE without freeing", () => {
  const { core, x, conn } = readyIncoming({ synchronous: false, maxSlots: 4 });
  const gen = x.connGen(conn);
  const req = (i: number) => frame(fill16(i), i, 1, new Uint8Array(0), new Uint8Array(0));
  let queued = 0;
  for (let round = 0; round < 2; round++) {
    const r = feedOnce(core, conn, concat(req(4 * round), req(4 * round + 1), req(4 * round + 2), req(4 * round + 3)));
    assert.is(r.evs.length, 4);
    for (const e of r.evs) { assert.is(x.release(conn, gen, e.slot, 0), 1); queued++; }
  }
  assert.is(queued, 8);
  const r = feedOnce(core, conn, req(8));
  assert.is(x.release(conn, gen, r.evs[0].slot, 0), -ST.SPACE);
  assert.is(x.flush(conn, 0), 8 * 27);
  const out = core.takeOut();
  for (let i = 0; i < 8; i++) {
    assert.is(out[i * 27 + 26], 2);
    assert.is(out[i * 27], i, "ACKs in release order with the message identity");
  }
  assert.is(x.release(conn, gen, r.evs[0].slot, 0), 1);
  // A failing connection gets no ACK.
  const r2 = feedOnce(core, conn, concat(req(20), frame(fill16(1), 1, 3, new Uint8Array(0), new Uint8Array(0))));
  assert.equal(kinds(r2.evs), [EV.MSG, EV.ERROR]);
  assert.is(x.release(conn, gen, r2.evs[0].slot, 0), 0);
});

test("OUT area: one connection at a time (BUSY), SPACE leaves OUT unchanged", () => {
  const core = mkCore({ synchronous: false, maxSlots: 2 });
  const x = core.x;
  const remote = x.remoteAlloc(0);
  const c1 = x.connOpen(1, remote, 0);
  assert.is(x.connOpen(1, remote, 0), -ST.BUSY);
  core.takeOut();
  const c2 = x.connOpen(1, remote, 0);
  assert.is(x.outConn(), c2);
  core.mem.set(fill16(1), core.scratchPtr);
  assert.is(x.dataFrame(c1, 0, 0, 1, 0), -ST.EMPTY, "handshake not received");
  feedOnce(core, c1, HS_PEER);
  assert.is(x.dataFrame(c1, 0, 0, 1, 0), -ST.BUSY, "OUT holds c2's handshake");
  core.takeOut();
  let n = 0;
  while (x.dataFrame(c1, 0, 100, 1, 0) >= 0) n++;
  assert.is(n, Math.floor(core.outCap / 127));
  const len = x.outLen();
  assert.is(x.dataFrame(c1, 0, 100, 1, 0), -ST.SPACE);
  assert.is(x.outLen(), len);
  assert.is(x.dataFrame(c1, 0, 100000, 1, 0), -ST.SPACE);
  core.takeOut();
  assert.is(x.dataFrame(c1, 0, 100000, 0, 0), 0, "not inline: only the header");
  assert.is(x.outLen(), 27);
  assert.is(x.dataFrame(c1, 70000, 0, 0, 0), -ST.VALUE_ERROR);
  // Closing a connection discards its OUT bytes.
  x.connClose(c1, 1);
  assert.is(x.outLen(), 0);
  assert.is(x.outConn(), -1);
});

test("incoming connection: not sendable before connAttach", () => {
  const core = mkCore({ synchronous: false, maxSlots: 2 });
  const x = core.x;
  const conn = x.connOpen(0, -1, 0);
  core.takeOut();
  feedOnce(core, conn, HS_PEER);
  assert.is(x.connRemote(conn), -1);
  assert.is(x.dataFrame(conn, 0, 0, 1, 0), -ST.EMPTY);
  const remote = x.remoteAlloc(0);
  assert.is(x.connAttach(conn, remote, 0), 0);
  assert.is(x.remoteConn(remote), conn);
  assert.ok(x.dataFrame(conn, 0, 0, 1, 0) >= 0);
});

// ── timers ───────────────────────────────────────────────────────────────────────────────────

test("write timeout: armed by writeStart, refreshed/disarmed by writeDone, reported once", () => {
  const { core, x, conn, remote } = readyOutgoing({ synchronous: false, maxSlots: 2 });
  x.writeStart(conn, 10);
  x.writeStart(conn, 500); // already armed
  assert.is(x.tick(10 + T - 1), 0);
  x.writeDone(conn, 0, 20); // more pending: re-armed from 20
  assert.is(x.tick(10 + T), 0);
  assert.is(x.tick(20 + T), 1);
  const e = events(core)[0];
  assert.equal([e.kind, e.aux, e.conn, e.remote], [EV.TIMEOUT, 3, conn, remote]);
  assert.is(x.tick(20 + T + 5), 0);
  x.writeStart(conn, 2000);
  x.writeDone(conn, 1, 2001);
  assert.is(x.tick(2000 + T + 1), 0);
});

test("debounce after close, EV_RETRY once when wanted", () => {
  const { core, x, conn, remote } = readyOutgoing();
  assert.is(x.remoteDebounce(remote, 0), 0);
  x.connClose(conn, 1000);
  const d = x.remoteDebounce(remote, 1000);
  assert.ok(d >= 50 && d < 550, `debounce ${d}`);
  x.remoteWant(remote, 1);
  assert.ok(x.nextDeadline() <= 1000 + d);
  x.tick(1000 + d - 1);
  assert.not.ok(events(core).some((e) => e.kind === EV.RETRY));
  x.tick(1000 + d);
  const ev = events(core).filter((e) => e.kind === EV.RETRY);
  assert.is(ev.length, 1);
  assert.is(ev[0].remote, remote);
  assert.is(ev[0].slot, remote);
  x.tick(1000 + d + 1);
  assert.not.ok(events(core).some((e) => e.kind === EV.RETRY));
  // Debounce values spread over [50, 550).
  const seen = new Set<number>();
  for (let i = 0; i < 200; i++) {
    const c = x.connOpen(1, remote, 0);
    core.takeOut();
    x.connClose(c, 0);
    const v = x.remoteDebounce(remote, 0);
    assert.ok(v >= 50 && v < 550 && Number.isInteger(v));
    seen.add(v);
  }
  assert.ok(seen.size > 100);
});

test("GC: idle remote collected after R..2R; old connection collected, current kept", () => {
  const core = mkCore();
  const x = core.x;
  assert.is(x.nextDeadline(), Infinity);
  const remote = x.remoteAlloc(0);
  const first = x.nextDeadline();
  assert.ok(first >= R / 2 && first < R, `gc at ${first}`);
  let t = 0;
  let found = -1;
  for (let i = 0; i < 10 && found < 0; i++) {
    t = x.nextDeadline();
    x.tick(t);
    const gc = events(core).filter((e) => e.kind === EV.GC_REMOTE);
    if (gc.length) { assert.is(gc[0].remote, remote); found = t; }
  }
  assert.ok(found > R && found < 2 * R, `collected at ${found}`);
  x.remoteFree(remote);
  assert.is(x.nextDeadline(), Infinity, "no GC while nothing is in use");

  // Old vs current connection.
  const r2 = x.remoteAlloc(10000);
  const c1 = x.connOpen(1, r2, 10000);
  core.takeOut();
  feedOnce(core, c1, HS_PEER, 10000);
  const c2 = x.connOpen(1, r2, 10000);
  core.takeOut();
  feedOnce(core, c2, HS_PEER, 10000);
  const gcConns: number[] = [];
  for (let now = 10000; now < 10000 + 4 * R; now += 100) {
    x.writeDone(c2, 1, now); // c2 and the remote stay active
    x.tick(now);
    for (const e of events(core)) {
      assert.is.not(e.kind, EV.GC_REMOTE);
      if (e.kind === EV.GC_CONN) gcConns.push(e.conn);
    }
  }
  assert.ok(gcConns.length >= 1);
  assert.ok(gcConns.every((c) => c === c1));
});

test("GC skips a remote waiting for an ACK or in debounce", () => {
  const { core, x, remote, conn } = readyOutgoing({ synchronous: true });
  core.mem.set(fill16(5), core.scratchPtr);
  x.dataFrame(conn, 0, 0, 1, 0);
  core.takeOut();
  for (let now = 0; now < 5 * R; now += 250) {
    x.tick(now);
    assert.not.ok(events(core).some((e) => e.kind === EV.GC_REMOTE));
  }
  x.connClose(conn, 5 * R);
  const d = x.remoteDebounce(remote, 5 * R);
  x.tick(5 * R + d - 1);
  assert.not.ok(events(core).some((e) => e.kind === EV.GC_REMOTE));
});

test("tick with more expired timers than EV_CAP continues on the next call", () => {
  const core = mkCore({ maxConns: 3000 });
  const x = core.x;
  for (let i = 0; i < 2500; i++) { assert.is(x.connOpen(0, -1, 0), i); core.takeOut(); }
  const n1 = x.tick(5000);
  assert.is(n1, 2048);
  assert.ok(x.nextDeadline() <= 5000);
  const n2 = x.tick(5000);
  const timeouts = events(core).filter((e) => e.kind === EV.TIMEOUT).length;
  assert.is(timeouts, 2500 - 2048);
  assert.ok(n2 >= timeouts);
});

test("feed stops when the event area is nearly full and continues", () => {
  const { core, x, conn } = readyIncoming({ synchronous: false, maxSlots: 32, bufSize: 262144 });
  const side = new Side(core, conn, true);
  const frames: Uint8Array[] = [];
  for (let i = 0; i < 5000; i++) frames.push(frame(fill16(i & 255), i, 0, new Uint8Array(0), new Uint8Array(0)));
  side.push(concat(...frames), 0);
  assert.is(side.msgs.length, 5000);
  assert.ok(side.feeds >= 3);
  void x;
});

// ── properties ──────────────────────────────────────────────────────────────────────────────

interface GenFrame { type: number; hl: number; dl: number; seed: number }
const genFrame = fc.record({
  type: fc.constantFrom(0, 1),
  hl: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1000, max: 3000 })),
  dl: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 100 }), fc.integer({ min: 1000, max: 5000 })),
  seed: fc.integer({ min: 0, max: 255 }),
});

function buildStream(frames: GenFrame[]): { bytes: Uint8Array; expect: { type: number; id: Uint8Array; hdr: Uint8Array; data: Uint8Array; serial: number }[] } {
  const parts: Uint8Array[] = [HS_PEER];
  const expect: { type: number; id: Uint8Array; hdr: Uint8Array; data: Uint8Array; serial: number }[] = [];
  let serial = 0xfffffff0;
  for (const f of frames) {
    const id = new Uint8Array(16).map((_, i) => (f.seed * 31 + i) & 0xff);
    const hdr = new Uint8Array(f.hl).map((_, i) => (f.seed + i) & 0xff);
    const data = new Uint8Array(f.dl).map((_, i) => (f.seed * 7 + i * 13) & 0xff);
    serial = (serial + 1) >>> 0;
    parts.push(frame(id, serial, f.type, hdr, data));
    expect.push({ type: f.type, id, hdr, data, serial });
  }
  return { bytes: concat(...parts), expect };
}

/** [start, end) pieces of a stream of `len` bytes, cycling through `sizes`. */
function cuts(len: number, sizes: number[]): number[][] {
  const out: number[][] = [];
  let o = 0;
  let i = 0;
  while (o < len) {
    const n = Math.max(1, sizes.length ? sizes[i++ % sizes.length] : len);
    out.push([o, Math.min(len, o + n)]);
    o += n;
  }
  return out;
}

test("property: any chunking of a valid stream yields the same messages", () => {
  const cores = new Map<number, Core>();
  fc.assert(
    fc.property(
      fc.array(genFrame, { minLength: 0, maxLength: 12 }),
      fc.array(fc.integer({ min: 1, max: 1500 }), { minLength: 1, maxLength: 8 }),
      fc.integer({ min: 1, max: 32 }),
      fc.boolean(),
      (frames, sizes, slots, outgoing) => {
        let core = cores.get(slots);
        if (!core) { core = mkCore({ synchronous: false, maxSlots: slots, maxConns: 4, maxRemotes: 4 }); cores.set(slots, core); }
        const mem0 = core.memoryBytes;
        const x = core.x;
        const remote = outgoing ? x.remoteAlloc(0) : -1;
        const conn = x.connOpen(outgoing ? 1 : 0, remote, 0);
        core.takeOut();
        const side = new Side(core, conn, true);
        const { bytes, expect } = buildStream(frames);
        for (const [a, b] of cuts(bytes.length, sizes)) {
          side.push(bytes.subarray(a, b), 1);
          core.takeOut(); // ACKs for REQ_ACK messages
        }
        assert.is(side.pending.length, 0);
        assert.is(x.connState(conn), 2);
        assert.is(side.msgs.length, expect.length);
        side.msgs.forEach((m, i) => {
          const e = expect[i];
          assert.is(m.type, e.type);
          assert.is(m.serial, e.serial);
          assert.equal(m.id, e.id);
          assert.equal(m.hdr, e.hdr);
          assert.equal(m.data, e.data);
        });
        assert.is(x.connClose(conn, 2), 0);
        if (side.remote >= 0) x.remoteFree(side.remote);
        assert.is(core.memoryBytes, mem0);
      },
    ),
    { numRuns: 200 },
  );
});

test("property: garbage and mutated streams never trap, end parsing or in one clean EV_ERROR", () => {
  const core = mkCore({ synchronous: false, maxSlots: 8, maxConns: 4, maxRemotes: 4, maxMsgSize: 20000 });
  const x = core.x;
  const mem0 = core.memoryBytes;
  const valid = buildStream([
    { type: 1, hl: 3, dl: 5, seed: 1 }, { type: 0, hl: 0, dl: 0, seed: 2 },
    { type: 0, hl: 1200, dl: 2000, seed: 3 }, { type: 1, hl: 0, dl: 40, seed: 4 },
  ]).bytes;
  const noise = fc.oneof(
    fc.uint8Array({ minLength: 0, maxLength: 3000 }),
    fc.tuple(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), fc.nat(), fc.nat())
      .map(([flips, cutA, cutB]) => {
        const b = valid.slice();
        for (const [pos, v] of flips) b[pos % b.length] = v;
        const a = cutA % b.length;
        return concat(b.subarray(0, a), b.subarray(a + (cutB % 30)));
      }),
    fc.uint8Array({ minLength: 0, maxLength: 200 }).map((b) => concat(HS_PEER, b)),
  );
  fc.assert(
    fc.property(noise, fc.array(fc.integer({ min: 1, max: 1100 }), { minLength: 1, maxLength: 5 }), fc.boolean(),
      (bytes, sizes, release) => {
        const remote = x.remoteAlloc(0);
        const conn = x.connOpen(1, remote, 0);
        core.takeOut();
        const side = new Side(core, conn, release);
        for (const [a, b] of cuts(bytes.length, sizes)) side.push(bytes.subarray(a, b), 1);
        const errors = side.evs.filter((e) => e.kind === EV.ERROR);
        const st = x.connState(conn);
        if (st === 3) {
          assert.is(errors.length, 1);
          assert.ok(([ST.PROTOCOL_ERROR, ST.ENOMEM] as number[]).includes(errors[0].slot));
          assert.is(side.evs.at(-1)!.kind, EV.ERROR);
        } else {
          assert.ok(st === 1 || st === 2);
          assert.is(errors.length, 0);
        }
        x.tick(1e9);
        x.connClose(conn, 2);
        x.remoteFree(remote);
        core.takeOut();
        assert.is(core.memoryBytes, mem0);
      }),
    { numRuns: 300 },
  );
});

test("memory never grows: thousands of connections and remotes opened and closed", () => {
  const core = mkCore({ maxConns: 64, maxRemotes: 64, synchronous: false, maxSlots: 4 });
  const x = core.x;
  const mem0 = core.memoryBytes;
  const open: number[] = [];
  const remotes: number[] = [];
  for (let i = 0; i < 5000; i++) {
    if (remotes.length < 60) remotes.push(x.remoteAlloc(i));
    const remote = remotes[i % remotes.length];
    const c = x.connOpen(i & 1, (i & 1) ? remote : -1, i);
    assert.ok(c >= 0, `connOpen ${c}`);
    core.takeOut();
    feedOnce(core, c, concat(HS_PEER, frame(fill16(1), 1, 1, new Uint8Array(0), ascii("x"))), i);
    open.push(c);
    if (open.length > 50) x.connClose(open.shift()!, i);
    if (i % 7 === 0) { const r = remotes.shift()!; x.remoteFree(r); }
    if (i % 100 === 0) x.tick(i);
  }
  while (open.length) x.connClose(open.pop()!, 1e6);
  assert.is(core.memoryBytes, mem0);
  assert.is(x.memory.buffer.byteLength, mem0);
  // All records free again: the whole table can be opened.
  for (let i = 0; i < 64; i++) { assert.is(x.connOpen(0, -1, 0), i); core.takeOut(); }
  assert.is(x.connOpen(0, -1, 0), -ST.ENOMEM);
});

test.run();
