// Regenerates test/corpus/: a small, checked-in fuzz corpus of byte streams as a peer would
// send them to a Chirp node (docs/protocol.md). Each file starts with an
// 18-byte handshake (§1.4) unless its name starts with "hs-" (it tests the handshake itself).
// The C host (host/c/conformance.c) feeds every file to fresh connections of the core, split
// at several chunk sizes, and asserts no trap; it knows the expected outcome of most files by
// name. Deterministic: running it again rewrites the same bytes.
//
// Usage: node scripts/make-corpus.mjs
import { mkdirSync, writeFileSync, readdirSync, unlinkSync } from "node:fs";

const dir = new URL("../test/corpus/", import.meta.url);

const hex = (s) => Uint8Array.from((s.replace(/\s+/g, "").match(/../g) ?? []).map((h) => parseInt(h, 16)));
const ascii = (s) => new TextEncoder().encode(s);
const concat = (...parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
};
const fill = (n, b) => new Uint8Array(n).fill(b);

/** 27-byte header (§2.1: identity, serial, data_len, header_len, type; big-endian) + payload. */
function frame(id, serial, type, hdr, data, dataLen = data.length, hdrLen = hdr.length) {
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

// xorshift32, fixed seed: the "random" files are the same bytes every time.
let s = 0x2545f491;
const rand = (n) => new Uint8Array(n).map(() => {
  s ^= s << 13; s >>>= 0;
  s ^= s >>> 17;
  s ^= s << 5; s >>>= 0;
  return s & 0xff;
});

// §2.7 vectors.
const HS_31000 = hex("7918 98f7020927c7b241e45eae1c5fa52d46");
const HS_2997 = hex("0bb5 bc64660804e45a448f6be42e7a7e0f3b"); // the fuzzing seed
const V_DATA = hex("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 00000007 00000005 0003 01 484452 68656c6c6f");
const V_REPLY = hex("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 526ebf60 00000005 0003 01 484452 68656c6c6f");
const V_ACK = hex("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 526ebf61 00000000 0000 02");
const V_NOOP = hex("00000000000000000000000000000000 51c9b9f4 00000000 0000 04");
const MAX = 104857600; // default MAX_MSG_SIZE (§2.4); the C host configures this value
const E = new Uint8Array(0);
const HS = HS_2997;

const files = {
  // The handshake itself.
  "hs-31000.bin": HS_31000,
  "hs-2997-fuzz-seed.bin": HS_2997,
  "hs-short-10-bytes.bin": HS_2997.subarray(0, 10),
  "hs-split-10-8-then-noop.bin": concat(HS_2997, V_NOOP), // the host also splits it at 10
  "hs-garbage-as-handshake-64.bin": rand(64), // any 18 bytes are a handshake (§1.5)
  // §2.7 frames.
  "v27-data-req-ack-hdr-hello.bin": concat(HS, V_DATA),
  "v27-reply.bin": concat(HS, V_REPLY),
  "v27-ack-nothing-waiting.bin": concat(HS, V_ACK),
  "v27-noop.bin": concat(HS, V_NOOP),
  "v27-all-frames.bin": concat(HS, V_DATA, V_REPLY, V_ACK, V_NOOP),
  // §9 pinned regression inputs of libchirp's fuzzer.
  "regress-zero-frame-then-partial-header.bin": concat(HS, fill(11, 0), fill(22, 0)),
  "regress-zero-frame-type-01.bin": concat(HS, frame(fill(16, 0), 0, 0x01, E, E)),
  // Sizes (§2.4, §3.5).
  "size-exactly-max-waits-for-payload.bin": concat(HS, frame(fill(16, 1), 1, 0, E, E, MAX)),
  "size-oversized-max-plus-1.bin": concat(HS, frame(fill(16, 1), 1, 0, E, E, MAX + 1)),
  "size-wrap-header-1-data-ffffffff.bin": concat(HS, frame(fill(16, 1), 1, 0, E, E, 0xffffffff, 1), fill(5, 0)),
  "size-truncated-mid-payload.bin": concat(HS, frame(fill(16, 2), 2, 0, E, E, 100), fill(40, 0x5a)),
  "size-streamed-700-header-3000-data.bin": concat(HS, frame(fill(16, 9), 99, 0,
    new Uint8Array(700).map((_, i) => i & 0xff), new Uint8Array(3000).map((_, i) => (i * 7) & 0xff))),
  // Type byte (§2.2).
  "type-02-ack-with-data-byte.bin": concat(HS, frame(fill(16, 1), 1, 0x02, E, fill(1, 0))),
  "type-02-ack-with-header-byte.bin": concat(HS, frame(fill(16, 1), 1, 0x02, fill(1, 0), E)),
  "type-03-ack-and-req-ack.bin": concat(HS, frame(fill(16, 1), 1, 0x03, E, E)),
  "type-04-noop-with-data.bin": concat(HS, frame(fill(16, 0), 1, 0x04, E, fill(2, 0))),
  "type-06-noop-and-ack-is-noop.bin": concat(HS, frame(fill(16, 0x42), 1, 0x06, E, E)),
  "type-08-unknown-bit-delivered.bin": concat(HS, frame(fill(16, 7), 2, 0x08, ascii("h"), ascii("d"))),
  // Many frames: 40 data messages (some REQ_ACK) interleaved with NOOPs, serials wrapping.
  "many-40-messages-with-noops.bin": concat(HS, ...Array.from({ length: 40 }, (_, i) => concat(
    frame(fill(16, i), (0xffffffeb + 2 * i) >>> 0, i % 3 === 0 ? 1 : 0, ascii(`h${i}`), fill(i, i)),
    frame(fill(16, 0), (0xffffffec + 2 * i) >>> 0, 0x04, E, E),
  ))),
  // Garbage after a valid handshake.
  "garbage-after-handshake-512.bin": concat(HS, rand(512)),
  "garbage-after-data-frame-300.bin": concat(HS, V_DATA, rand(300)),
};

mkdirSync(dir, { recursive: true });
// fuzz-*.bin files were found by scripts/fuzz-core.mjs --save (inputs reaching something no
// file here reaches); they are kept, not regenerated.
for (const f of readdirSync(dir)) if (f.endsWith(".bin") && !(f in files) && !f.startsWith("fuzz-")) unlinkSync(new URL(f, dir));
for (const [name, bytes] of Object.entries(files)) writeFileSync(new URL(name, dir), bytes);
console.log(`test/corpus: ${Object.keys(files).length} files`);
