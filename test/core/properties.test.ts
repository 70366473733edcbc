// fast-check properties of the core: any chunking of a valid stream yields the same messages;
// garbage and mutated streams never trap and end parsing or in one clean EV_ERROR; memory
// never grows, and every record is free again after use.
import { test } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import { type Core, EV, ST } from "../../adapters/core/core.ts";
import { HS_PEER, ascii, concat, fill16, frame } from "./wire.ts";
import { Side, accept, feedOnce, mkCore, openRemote } from "./pair.ts";

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
        const remote = outgoing ? openRemote(core, 2997) : -1;
        const conn = outgoing ? x.remoteDial(remote, 0) : accept(core);
        assert.ok(conn >= 0, `conn ${conn}`);
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
        if (side.remote >= 0) assert.is(x.remoteFree(side.remote), 0);
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
        const remote = openRemote(core, 2997);
        const conn = x.remoteDial(remote, 0);
        core.takeOut();
        const side = new Side(core, conn, release);
        for (const [a, b] of cuts(bytes.length, sizes)) side.push(bytes.subarray(a, b), 1);
        const errors = side.evs.filter((e) => e.kind === EV.ERROR);
        const st = x.connState(conn);
        if (st === 3) {
          assert.is(errors.length, 1);
          assert.ok(([ST.BAD_FRAME, ST.TOO_BIG] as number[]).includes(errors[0].code));
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
    if (remotes.length < 60) remotes.push(openRemote(core, 1 + i));
    const remote = remotes[i % remotes.length];
    // Outgoing connections dial a remote without one; the rest are accepted (their peers
    // announce port 2997 and are filed under the remote for it).
    const dial = (i & 1) === 1 && x.remoteState(remote) === 1 && x.remoteDelay(remote, i) === 0;
    const c = dial ? x.remoteDial(remote, i) : accept(core, i);
    assert.ok(c >= 0, `open ${c}`);
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
  // All connection records free again: the whole table can be opened.
  for (let i = 0; i < 64; i++) { assert.is(accept(core), i); core.takeOut(); }
  assert.is(accept(core), -ST.FULL);
});

test.run();
