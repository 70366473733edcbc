// The core's ABI basics and the protocol.md §2.7 byte vectors (build/chirp.wasm through
// adapters/core/core.ts): exports and imports, the config record, memory, the handshake, data,
// reply, ACK and NOOP vectors encoded and decoded, serials +1 per frame, the idle retire (§4.6).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { CONFIG, Core, CoreSetup, EV, EVENT, ST, coreWasmBytes, encodeAddress } from "../../adapters/core/core.ts";
import { ID_A, ID_B, HS_PEER, MIB100, ascii, fill16, hex, toHex } from "./wire.ts";
import { R, Side, accept, events, feedOnce, limits, mkCore, openRemote, readyIncoming, readyOutgoing } from "./pair.ts";

test("module imports nothing and exports exactly the ABI (generated CoreExports)", () => {
  const mod = new WebAssembly.Module(coreWasmBytes() as BufferSource);
  assert.equal(WebAssembly.Module.imports(mod), []);
  const names = WebAssembly.Module.exports(mod).map((e) => e.name).sort();
  const want = ["configPtr", "configure", "connectTimeout", "memoryBytes", "argsPtr", "inPtr", "inCap", "outPtr",
    "outCap", "evPtr", "feed", "tick", "writeStart", "writeDone", "connAccept", "connClose", "remoteOpen",
    "remoteFree", "remoteKeep", "remoteDial", "send", "release", "flush", "outLen", "outConn", "outReset", "evCount",
    "connState", "connGen", "connRemote", "connPaused", "remoteState", "remoteConn", "remoteWaiting",
    "remoteDelay", "remoteSerial", "nextDeadline", "memory"].sort();
  assert.equal(names, want);
});

test("configure: bad config fields refused without growing; layout fits the memory", () => {
  const setup = new CoreSetup();
  const x = setup.x;
  const before = x.memory.buffer.byteLength;
  const bad = (over: Parameters<typeof limits>[0]) => {
    setup.writeConfig(limits(over));
    return x.configure();
  };
  assert.is(bad({ maxConns: 0 }), -ST.ARG);
  assert.is(bad({ maxSlots: 33, synchronous: false }), -ST.ARG);
  assert.is(bad({ bufSize: 1023 }), -ST.ARG);
  assert.is(bad({ timeoutMs: NaN }), -ST.ARG);
  assert.is(bad({ port: 70000 }), -ST.ARG);
  assert.is(x.memory.buffer.byteLength, before);
  setup.writeConfig(limits({ maxConns: 4, maxRemotes: 4, maxSlots: 2, synchronous: false, maxMsgSize: 100, port: 1 }));
  setup.configure();
  assert.is(x.memoryBytes(), x.memory.buffer.byteLength);
  assert.is(x.configure(), -ST.STATE, "only once");
  assert.is(x.inCap(), 1024);
  assert.is(x.outCap(), 1024 + 4096);
  assert.ok(x.inPtr() >= x.argsPtr() + 32 && x.inPtr() >= x.configPtr() + CONFIG.SIZE);
  assert.ok(x.outPtr() >= x.inPtr() + 1024);
  assert.ok(x.evPtr() >= x.outPtr() + x.outCap());
  assert.ok(x.evPtr() + 2048 * EVENT.SIZE <= x.memoryBytes());
});

test("the core decides: connect timeout min(2·T, 60 s), R = max(reuse, 3·T), sync = one slot", () => {
  const setup = new CoreSetup();
  setup.writeConfig(limits({ timeoutMs: 5000 }));
  assert.is(setup.x.connectTimeout(), 10000, "from the config record, before configure");
  setup.writeConfig(limits({ timeoutMs: 100000, reuseMs: 1000 }));
  assert.is(setup.x.connectTimeout(), 60000);
  const core = setup.configure();
  assert.is(core.x.connectTimeout(), 60000);
  // R = max(1000, 3·100000): a remote idle for 200 s is not collected.
  const remote = openRemote(core, 2997, 0);
  core.x.tick(200000);
  assert.not.ok(events(core).some((e) => e.kind === EV.GC_REMOTE));
  core.x.tick(300001 + 300000);
  assert.ok(events(core).some((e) => e.kind === EV.GC_REMOTE && e.remote === remote));
  // Synchronous mode: one slot whatever max_slots says (protocol.md §6).
  const sync = mkCore({ synchronous: true, maxSlots: 16 });
  const conn = accept(sync);
  sync.takeOut();
  const r = feedOnce(sync, conn, new Uint8Array([...HS_PEER,
    ...hex("01".repeat(16) + "00000001 00000000 0000 00"), ...hex("02".repeat(16) + "00000002 00000000 0000 00")]));
  assert.equal(r.evs.map((e) => e.kind), [EV.HANDSHAKE, EV.MSG], "the second message waits for the one slot");
  assert.is(sync.x.connPaused(conn), 1);
});

test("memory for the default limits", () => {
  const core = Core.configured({
    maxConns: 1024, maxRemotes: 1024, maxSlots: 16, synchronous: false, maxMsgSize: MIB100,
    timeoutMs: 5000, reuseMs: 30000, bufSize: 65536, port: 2998, identity: ID_A,
  });
  const sync = Core.configured({
    maxConns: 1024, maxRemotes: 1024, maxSlots: 1, synchronous: true, maxMsgSize: MIB100,
    timeoutMs: 5000, reuseMs: 30000, bufSize: 65536, port: 2998, identity: ID_A,
  });
  console.log(`  core memory, defaults (1024 conns, 1024 remotes, 16 slots, 64 KiB buffer): ` +
    `${core.memoryBytes} bytes; synchronous (1 slot): ${sync.memoryBytes} bytes`);
  assert.ok(core.memoryBytes < 4 * 1024 * 1024);
  assert.is(core.x.memoryBytes(), core.memoryBytes);
});

test("addresses: IPv4 mapped, IPv6 forms, garbage refused", () => {
  const b = new Uint8Array(16);
  assert.ok(encodeAddress("127.0.0.1", b, 0));
  assert.is(toHex(b), "00000000000000000000ffff7f000001");
  assert.ok(encodeAddress("::ffff:7f00:1", b, 0));
  assert.is(toHex(b), "00000000000000000000ffff7f000001");
  assert.ok(encodeAddress("::1", b, 0));
  assert.is(toHex(b), "00000000000000000000000000000001");
  assert.ok(encodeAddress("fe80::1:2", b, 0));
  assert.is(toHex(b), "fe800000000000000000000000010002");
  assert.ok(encodeAddress("2001:db8:0:0:0:0:2:1", b, 0));
  assert.is(toHex(b), "20010db8000000000000000000020001");
  assert.ok(encodeAddress("::ffff:10.0.0.1", b, 0));
  assert.is(toHex(b), "00000000000000000000ffff0a000001");
  for (const bad of ["", "1.2.3", "1.2.3.256", "::1::2", "12345::", "a:b:c:d:e:f:0:1:2"]) assert.not.ok(encodeAddress(bad, b, 0), bad);
});

// ── protocol.md §2.7 vectors ────────────────────────────────────────────────────────────────────────

test("§2.7 handshake: port 31000 and the node identity", () => {
  const core = mkCore({ port: 31000, identity: ID_A });
  const remote = openRemote(core, 2997);
  const conn = core.x.remoteDial(remote, 0);
  assert.is(conn, 0);
  assert.is(core.x.outConn(), conn);
  assert.is(toHex(core.takeOut()), "7918" + "98f7020927c7b241e45eae1c5fa52d46");
  assert.is(core.x.outConn(), -1);
  assert.is(core.x.connState(conn), 1);
});

test("§2.7 fuzz-seed handshake decodes to port 2997 and its identity; the core files the remote", () => {
  const c2 = mkCore();
  const cc = accept(c2, 5);
  c2.takeOut();
  const { used, evs } = feedOnce(c2, cc, HS_PEER, 5);
  assert.is(used, 18);
  assert.is(evs.length, 1);
  assert.is(evs[0].kind, EV.HANDSHAKE);
  assert.is(evs[0].port, 2997);
  assert.is(evs[0].conn, cc);
  assert.is(toHex(evs[0].id), toHex(ID_B));
  assert.is(c2.x.connState(cc), 2);
  // Filed under the remote for (127.0.0.1, 2997), which remoteOpen finds.
  assert.ok(evs[0].remote >= 0);
  assert.is(c2.x.connRemote(cc), evs[0].remote);
  assert.is(openRemote(c2, 2997, 5), evs[0].remote);
  assert.is.not(openRemote(c2, 2998, 5), evs[0].remote);
});

test("§2.7 data frame, reply, ACK and NOOP vectors; serials +1 across data and ACK; idle retire (§4.6)", () => {
  const { core, x, remote, conn } = readyOutgoing({ synchronous: true });
  const side = new Side(core, conn, false);
  side.remote = remote;
  const AA = fill16(0xaa);
  // Our REQ_ACK data frame: the 35-byte vector except the serial.
  const off = side.send(AA, ascii("HDR"), ascii("hello"), 10);
  assert.is(off, 27, "the payload goes right after the 27-byte header");
  const ours = core.takeOut();
  const vec = hex("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 00000007 00000005 0003 01 484452 68656c6c6f");
  assert.is(ours.length, 35);
  const s0 = new DataView(ours.buffer).getUint32(16);
  assert.is(s0, x.remoteSerial(remote) >>> 0);
  const masked = ours.slice();
  masked.set(vec.subarray(16, 20), 16);
  assert.is(toHex(masked), toHex(vec));
  assert.is(x.remoteWaiting(remote), 1);
  core.mem.set(fill16(0xbb), core.idPtr);
  assert.is(x.send(conn, 0, 0, 1, 11), -ST.WAIT, "one unacknowledged message per remote");

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
  assert.is(side.releaseOne(), 1);
  const ourAck = core.takeOut();
  assert.is(toHex(ourAck), toHex(AA) + (s0 + 1 >>> 0).toString(16).padStart(8, "0") + "00000000" + "0000" + "02");

  // A NOOP from the peer: consumed, no event (it only counts as activity, §5.5).
  const n0 = side.evs.length;
  side.push(hex("00000000000000000000000000000000 51c9b9f4 00000000 0000 04"), 50);
  assert.is(side.evs.length, n0);
  assert.is(side.pending.length, 0);

  // Idle > 0.75·R: the send retires the connection instead of writing on it (§4.6): nothing
  // in OUT, the remote has no current connection, the connection stays open, and a new dial
  // is allowed at once (no reconnect delay).
  const later = 50 + 0.75 * R + 1;
  core.mem.set(AA, core.idPtr);
  assert.is(x.send(conn, 3, 5, 1, later), -ST.RETIRED);
  assert.is(x.outLen(), 0, "nothing written on the retired connection");
  assert.is(x.remoteConn(remote), -1, "no current connection");
  assert.is(x.connState(conn), 2, "the retired connection stays open (READY)");
  assert.is(x.remoteSerial(remote) >>> 0, (s0 + 1) >>> 0, "no serial used");
  const fresh = x.remoteDial(remote, later);
  assert.ok(fresh >= 0 && fresh !== conn, `a new dial at once: ${fresh}`);
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
  assert.is(e.code, 0);
  assert.is(e.type, 1);
  assert.is(e.serial, 7);
  assert.is(e.hl, 3);
  assert.is(e.dl, 5);
  assert.is(e.ptr, core.inPtr + 27);
  assert.is(e.len, 8);
  assert.is(e.offset, 0);
  assert.is(e.gen, core.x.connGen(conn));
  assert.is(toHex(e.id), "aa".repeat(16));
  assert.is(toHex(e.hdr!), "484452");
  assert.is(toHex(e.data!), "68656c6c6f");
});

test("serials are random per remote and wrap mod 2^32", () => {
  const core = mkCore();
  const a = openRemote(core, 1);
  const b = openRemote(core, 2);
  assert.is.not(core.x.remoteSerial(a), core.x.remoteSerial(b));
});

test.run();
