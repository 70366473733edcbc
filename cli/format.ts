// chirpcat's message formats (as nanocat's): how a received message is printed, and how
// --data, --file and --stdin text becomes message bytes. MessagePack comes from
// @msgpack/msgpack, loaded only when the msgpack format is used (loadFormat).
import { hex } from "../patterns/mod.ts";
import { UsageError, type MessageFormat } from "./options.ts";

/** What is printed about one received message. */
export interface Received {
  /** "address:port" of the sender (its listening port). */
  from: string;
  /** The message identity. */
  identity: Uint8Array;
  /** The sender node's identity. */
  node: Uint8Array;
  /** The application header (a pattern's prefix removed). */
  header: Uint8Array;
  data: Uint8Array;
  /** pub/sub: the topic. */
  topic?: string;
}

type MsgPack = typeof import("@msgpack/msgpack");
let msgpack: MsgPack | undefined;

/** Loads what a format needs (the MessagePack library); call once before formatting. */
export async function loadFormat(format: MessageFormat): Promise<void> {
  if (format === "msgpack" && !msgpack) {
    try {
      msgpack = await import("@msgpack/msgpack");
    } catch {
      throw new UsageError("--format msgpack needs the optional package @msgpack/msgpack: npm install @msgpack/msgpack (it is not installed)");
    }
  }
}

const encoder = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** A JSON value for bytes: the text when they are valid UTF-8, else { hex }. */
function jsonBytes(b: Uint8Array): string | { hex: string } {
  try {
    return strictUtf8.decode(b);
  } catch {
    return { hex: hex(b) };
  }
}

/** JSON.stringify for decoded MessagePack: bytes as { hex }, bigints as strings. */
function jsonValue(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (x instanceof Uint8Array ? { hex: hex(x) } : typeof x === "bigint" ? x.toString() : x)) ?? "null";
}

function quote(b: Uint8Array): string {
  let s = '"';
  for (const x of b) {
    if (x === 0x22) s += '\\"';
    else if (x === 0x5c) s += "\\\\";
    else if (x === 0x0a) s += "\\n";
    else if (x === 0x0d) s += "\\r";
    else if (x === 0x09) s += "\\t";
    else if (x >= 0x20 && x < 0x7f) s += String.fromCharCode(x);
    else s += `\\x${x.toString(16).padStart(2, "0")}`;
  }
  return s + '"';
}

/** The bytes to print for a message (raw: the data itself; the others end with a newline).
 * Throws for data that is not MessagePack in the msgpack format. */
export function formatMessage(format: MessageFormat, m: Received): Uint8Array | string {
  switch (format) {
    case "raw":
      return m.data;
    case "ascii": {
      let s = "";
      for (const x of m.data) s += x >= 0x20 && x < 0x7f ? String.fromCharCode(x) : ".";
      return s + "\n";
    }
    case "quoted":
      return quote(m.data) + "\n";
    case "hex":
      return hex(m.data) + "\n";
    case "json":
      return JSON.stringify({
        from: m.from, identity: hex(m.identity), node: hex(m.node), ...(m.topic !== undefined ? { topic: m.topic } : {}),
        header: jsonBytes(m.header), data: jsonBytes(m.data),
      }) + "\n";
    case "msgpack": {
      if (!msgpack) throw new Error("internal: loadFormat(\"msgpack\") was not called");
      let v: unknown;
      try {
        v = msgpack.decode(m.data);
      } catch (e) {
        throw new Error(`message from ${m.from} is not MessagePack (${(e as Error).message}); ${m.data.length} bytes: ${hex(m.data.subarray(0, 32))}${m.data.length > 32 ? "..." : ""}`);
      }
      return jsonValue(v) + "\n";
    }
  }
}

function unquote(s: string): Uint8Array {
  const t = s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s;
  const out: number[] = [];
  const simple: Record<string, number> = { n: 10, r: 13, t: 9, "0": 0, "\\": 0x5c, '"': 0x22, "'": 0x27, a: 7, b: 8, f: 12, v: 11 };
  for (let i = 0; i < t.length; i++) {
    const c = t[i];
    if (c !== "\\") {
      const cp = t.codePointAt(i)!;
      if (cp > 0xffff) i++;
      out.push(...encoder.encode(String.fromCodePoint(cp)));
      continue;
    }
    const e = t[++i];
    if (e === undefined) throw new UsageError("quoted input ends with a lone backslash");
    if (e === "x") {
      const h = t.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(h)) throw new UsageError(`bad escape \\x${h} in quoted input: \\x takes two hex digits`);
      out.push(parseInt(h, 16));
      i += 2;
    } else if (e in simple) {
      out.push(simple[e]);
    } else {
      throw new UsageError(`unknown escape \\${e} in quoted input (known: \\n \\r \\t \\0 \\a \\b \\f \\v \\\\ \\" \\' \\xHH)`);
    }
  }
  return new Uint8Array(out);
}

const decoder = new TextDecoder();

/** Message bytes from input text or file bytes, per format: raw and ascii as they are, hex
 * digits (whitespace ignored), quoted C escapes, json validated and sent as its text,
 * msgpack JSON encoded as MessagePack. Throws UsageError for bad input. */
export function parseInput(format: MessageFormat, input: Uint8Array | string, what: string): Uint8Array {
  const bytes = typeof input === "string" ? encoder.encode(input) : input;
  switch (format) {
    case "raw":
    case "ascii":
      return bytes;
    case "hex": {
      const s = decoder.decode(bytes).replace(/\s+/g, "");
      if (!/^([0-9a-fA-F]{2})*$/.test(s)) throw new UsageError(`${what} is not hex (pairs of 0-9 a-f): "${s.slice(0, 40)}"`);
      const out = new Uint8Array(s.length / 2);
      for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
      return out;
    }
    case "quoted":
      return unquote(decoder.decode(bytes));
    case "json":
    case "msgpack": {
      const s = decoder.decode(bytes);
      let v: unknown;
      try {
        v = JSON.parse(s);
      } catch (e) {
        throw new UsageError(`${what} is not JSON (${(e as Error).message})`);
      }
      if (format === "json") return bytes;
      if (!msgpack) throw new Error("internal: loadFormat(\"msgpack\") was not called");
      return msgpack.encode(v);
    }
  }
}
