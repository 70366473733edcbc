// The registry of messaging patterns and the codec for their control bytes. Every pattern
// (patterns/<name>/) puts its control data in the frame's HEADER field, the upper-layer
// protocol field libchirp reserves for this (protocol.md §2.1: 0..65535 opaque bytes), so the frame
// stays a plain libchirp frame: a node that knows no pattern reads it as a header it ignores.
//
// Layout (all patterns, version 1):
//
//   offset  size  field
//   ------  ----  -----------------------------------------------------------------------
//   0       1     magic+version: 0xC1 (high nibble 0xC = "chirp pattern", low nibble = 1)
//   1       1     pattern id (PATTERN below; numbers follow nng's protocol families:
//                 NNG_PAIR 0x1_, PUB/SUB 0x2_, REQ/REP 0x3_, PUSH/PULL 0x5_,
//                 SURVEYOR/RESPONDENT 0x6_, BUS 0x7_; 0x8_ is Chirp's own: the control
//                 backchannel, adapters/monitor/report.ts, docs/monitoring.md)
//   2       1     op code (OP below, per pattern)
//   3       n     op-specific body, n = header_len - 3 (may be empty):
//
//   pattern    id    op                    body (bytes 3..)             data
//   --------   ----  --------------------  ---------------------------  ---------------------
//   pair       0x10  1 HELLO               -                            -
//                    2 WELCOME (reply)     -                            -
//                    3 DATA                application header           payload
//                    4 REFUSED (reply)     -                            reason, UTF-8
//                    5 BYE                 -                            -
//   pubsub     0x20  1 SUBSCRIBE           topic prefix                 -
//                    2 UNSUBSCRIBE         topic prefix                 -
//                    3 PUBLISH             topic                        payload
//                    4 ACK (reply)         -                            -
//   reqrep     0x30  1 REQUEST             application header           payload
//                    2 REPLY (reply)       application header           payload
//                    3 ERROR (reply)       -                            message, UTF-8
//   pipeline   0x50  1 WORK                application header           payload
//                    2 RESULT (reply)      application header           payload
//                    3 FAILED (reply)      -                            message, UTF-8
//                    4 WORK_ONEWAY         application header           payload
//                    5 JOIN                slots, decimal text or empty -
//                    6 LEAVE               -                            -
//                    7 ACK (reply)         - (to JOIN and LEAVE)        -
//   survey     0x60  1 SURVEY              application header           payload
//                    2 RESPONSE (reply)    application header           payload
//   bus        0x70  1 DATA                application header           payload
//                    2 JOIN                -                            -
//                    3 LEAVE               -                            -
//   report     0x80  1 SNAPSHOT            -                            a node's report, JSON UTF-8
//
// "(reply)" frames are sent with Message.reply(): they carry the identity of the frame they
// answer (protocol.md §2.5), which is how every pattern matches answers, never by header alone.
// Topics and prefixes are raw bytes (strings are UTF-8) compared bytewise.
//
// A header whose first byte is not 0xC1, or whose pattern id or op code is unknown, is not a
// pattern header: decodeHeader() returns null and the patterns leave the message alone.
import { formatTarget } from "../adapters/target.ts";

/** Header byte 0: magic 0xC in the high nibble, layout version in the low nibble. */
export const MAGIC = 0xc1;
/** The layout version in MAGIC's low nibble. */
export const VERSION = 1;
/** Bytes before the op-specific body. */
export const PREFIX_LEN = 3;

/** Pattern ids (header byte 1). */
export const PATTERN = {
  PAIR: 0x10,
  PUBSUB: 0x20,
  REQREP: 0x30,
  PIPELINE: 0x50,
  SURVEY: 0x60,
  BUS: 0x70,
  REPORT: 0x80,
} as const;
/** A pattern's name as a key of PATTERN and OP ("PAIR", "PUBSUB", ..., "REPORT"). */
export type PatternName = keyof typeof PATTERN;
/** A pattern id, the value of header byte 1 (0x10 PAIR ... 0x80 REPORT). */
export type PatternId = (typeof PATTERN)[PatternName];

/** Op codes (header byte 2), per pattern. */
export const OP = {
  PAIR: { HELLO: 1, WELCOME: 2, DATA: 3, REFUSED: 4, BYE: 5 },
  PUBSUB: { SUBSCRIBE: 1, UNSUBSCRIBE: 2, PUBLISH: 3, ACK: 4 },
  REQREP: { REQUEST: 1, REPLY: 2, ERROR: 3 },
  PIPELINE: { WORK: 1, RESULT: 2, FAILED: 3, WORK_ONEWAY: 4, JOIN: 5, LEAVE: 6, ACK: 7 },
  SURVEY: { SURVEY: 1, RESPONSE: 2 },
  BUS: { DATA: 1, JOIN: 2, LEAVE: 3 },
  REPORT: { SNAPSHOT: 1 },
} as const satisfies Record<PatternName, Record<string, number>>;

const NAME_BY_ID = new Map<number, PatternName>(
  (Object.entries(PATTERN) as [PatternName, number][]).map(([k, v]) => [v, k]),
);
const MAX_OP = new Map<number, number>(
  (Object.entries(PATTERN) as [PatternName, number][]).map(([k, v]) => [v, Math.max(...Object.values(OP[k]))]),
);

/** A decoded pattern header. `body` is a view into the message's header bytes. */
export interface PatternHeader {
  /** Header byte 1: which pattern the message belongs to. */
  pattern: PatternId;
  /** Header byte 2: the op code, one of `OP[pattern's name]` (1 and up). */
  op: number;
  /** Header bytes 3 and on: the op-specific body (a topic, the application header), maybe
   * empty. */
  body: Uint8Array;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const EMPTY = new Uint8Array(0);

/** Bytes of a string (UTF-8) or the bytes themselves; undefined is empty. */
export function bytes(v: Uint8Array | string | undefined): Uint8Array {
  if (v === undefined) return EMPTY;
  return typeof v === "string" ? encoder.encode(v) : v;
}

/** UTF-8 text of bytes. */
export function text(b: Uint8Array): string {
  return decoder.decode(b);
}

/** Headers without a body, made once per pattern and op (a call's header is only read: the
 * send copies it into the core's OUT area). */
const BARE = new Map<number, Uint8Array>();

/** The header bytes for `pattern`/`op` with an optional op-specific body. Without a body the
 * same (shared, not to be modified) bytes come back each time. */
export function encodeHeader(pattern: PatternId, op: number, body?: Uint8Array | string): Uint8Array {
  if (body === undefined || body.length === 0) {
    const k = (pattern << 8) | op;
    let h = BARE.get(k);
    if (h === undefined) BARE.set(k, (h = new Uint8Array([MAGIC, pattern, op])));
    return h;
  }
  const b = bytes(body);
  const h = new Uint8Array(PREFIX_LEN + b.length);
  h[0] = MAGIC;
  h[1] = pattern;
  h[2] = op;
  h.set(b, PREFIX_LEN);
  return h;
}

/** Parses a message header; null when it is not a (known, version 1) pattern header. */
export function decodeHeader(h: Uint8Array): PatternHeader | null {
  if (h.length < PREFIX_LEN || h[0] !== MAGIC) return null;
  const max = MAX_OP.get(h[1]);
  if (max === undefined || h[2] < 1 || h[2] > max) return null;
  return { pattern: h[1] as PatternId, op: h[2], body: h.subarray(PREFIX_LEN) };
}

/** The pattern's name for an id ("PUBSUB"), or undefined. */
export function patternName(id: number): PatternName | undefined {
  return NAME_BY_ID.get(id);
}

/** Whether `b` starts with `prefix` (bytewise; the empty prefix matches everything). */
export function startsWith(b: Uint8Array, prefix: Uint8Array): boolean {
  if (prefix.length > b.length) return false;
  for (let i = 0; i < prefix.length; i++) if (b[i] !== prefix[i]) return false;
  return true;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** Lower-case hex of bytes (map keys for identities). */
export function hex(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += HEX[b[i]];
  return s;
}

/** A map key for a message identity: for the 16 bytes of Chirp identities, a 16-character
 * string of one char code per byte (one string; hex() would build 16 partial ones for every
 * message routed); hex for other lengths. Keys of the two forms never collide (16 vs 2n
 * characters, n != 8). */
export function idKey(b: Uint8Array): string {
  if (b.length !== 16) return hex(b);
  return String.fromCharCode(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

/** "address:port" (IPv6 in brackets): the Target string for an address. Patterns key a
 * message's sender by `node.targetOf(msg)` instead, which gives the host name a send reached
 * it by ("name:port"), so that a peer listed by name and its messages get the same key. */
export function targetKey(address: string, port: number): string {
  return formatTarget(address, port);
}

/** An error a remote handler reported (reqrep ERROR, pipeline FAILED): the peer received the
 * message and its handler threw. `code` is "REMOTE_ERROR"; the message is the peer's text. */
export class RemoteError extends Error {
  /** Always "REMOTE_ERROR" (compare it like ChirpError's codes). */
  readonly code = "REMOTE_ERROR";
  /** Who reported it ("address:port"). */
  readonly from: string;
  /** `message`: the peer's error text; `from`: the peer's "address:port". */
  constructor(message: string, from: string) {
    super(`REMOTE_ERROR: ${from}: ${message}`);
    this.name = "RemoteError";
    this.from = from;
  }
}
