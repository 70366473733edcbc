// The wire by hand, for tests that write or read raw bytes: the 18-byte handshake
// (docs/protocol.md §1.4), the 27-byte frame header and its data, ACK and NOOP frames (§2.1,
// §2.2, §2.6), a reader for what a raw peer received, and the one hex helper. Pure byte
// functions: no I/O, no runtime API, so any test (the core's too) can use them.

/** Handshake: uint16 BE public port + 16-byte node identity (§1.4). */
export const HANDSHAKE_LEN = 18;
/** Frame header: identity 16, serial u32 BE, data_len u32 BE, header_len u16 BE, type u8 (§2.1). */
export const HEADER_LEN = 27;
/** Type byte bits (§2.2). */
export const TYPE = { REQ_ACK: 0x01, ACK: 0x02, NOOP: 0x04 } as const;
/** A NOOP's identity, and "no identity" (§2.6). */
export const ZERO_ID = new Uint8Array(16);

export const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
/** The bytes of a hex string; whitespace is ignored ("0bb5 bc64..."). */
export const unhex = (s: string): Uint8Array => Uint8Array.from((s.replace(/\s+/g, "").match(/../g) ?? []).map((h) => parseInt(h, 16)));
/** UTF-8 bytes of a string. */
export const text = (s: string): Uint8Array => new TextEncoder().encode(s);

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}

/** The 18 bytes a node sends first (§1.4); the identity defaults to sixteen 7s. */
export function handshake(port: number, identity: Uint8Array = new Uint8Array(16).fill(7)): Uint8Array {
  const b = new Uint8Array(HANDSHAKE_LEN);
  new DataView(b.buffer).setUint16(0, port);
  b.set(identity, 2);
  return b;
}

/** One frame (§2.1): the 27-byte header, then header bytes, then data. headerLen / dataLen
 * override the lengths written (to lie about them); the identity defaults to sixteen 0xaa,
 * the serial to 1, the type to 0 (an asynchronous data message, §2.2). */
export function frame(o: {
  identity?: Uint8Array; serial?: number; type?: number; header?: Uint8Array; data?: Uint8Array;
  headerLen?: number; dataLen?: number;
}): Uint8Array {
  const header = o.header ?? new Uint8Array(0);
  const data = o.data ?? new Uint8Array(0);
  const b = new Uint8Array(HEADER_LEN + header.length + data.length);
  const dv = new DataView(b.buffer);
  b.set(o.identity ?? new Uint8Array(16).fill(0xaa), 0);
  dv.setUint32(16, (o.serial ?? 1) >>> 0);
  dv.setUint32(20, (o.dataLen ?? data.length) >>> 0);
  dv.setUint16(24, (o.headerLen ?? header.length) & 0xffff);
  b[26] = o.type ?? 0;
  b.set(header, HEADER_LEN);
  b.set(data, HEADER_LEN + header.length);
  return b;
}

/** An ACK for the message `identity` (§2.6): the header alone, type 0x02. */
export const ackFrame = (identity: Uint8Array, serial: number): Uint8Array => frame({ identity, serial, type: TYPE.ACK });
/** A NOOP probe (§2.6): zero identity, the header alone, type 0x04. */
export const noopFrame = (serial: number): Uint8Array => frame({ identity: ZERO_ID, serial, type: TYPE.NOOP });

export interface Frame { identity: Uint8Array; serial: number; type: number; header: Uint8Array; data: Uint8Array }

/** The complete frames in `buf` from offset `from` (after a handshake: 18), in order; a
 * partial frame at the end is left out. */
export function readFrames(buf: Uint8Array, from = HANDSHAKE_LEN): Frame[] {
  const out: Frame[] = [];
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let p = from;
  while (p + HEADER_LEN <= buf.length) {
    const dl = dv.getUint32(p + 20);
    const hl = dv.getUint16(p + 24);
    const end = p + HEADER_LEN + hl + dl;
    if (end > buf.length) break;
    out.push({
      identity: buf.slice(p, p + 16), serial: dv.getUint32(p + 16), type: buf[p + 26],
      header: buf.slice(p + HEADER_LEN, p + HEADER_LEN + hl), data: buf.slice(p + HEADER_LEN + hl, end),
    });
    p = end;
  }
  return out;
}
