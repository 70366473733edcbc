// Byte helpers for the core tests: hex, frame builders (protocol.md §2.1), the §2.7 vectors and
// identities. Pure functions, no core.
export const hex = (s: string): Uint8Array =>
  Uint8Array.from((s.replace(/\s+/g, "").match(/../g) ?? []).map((h) => parseInt(h, 16)));
export const toHex = (b: Uint8Array): string => Array.from(b, (v) => v.toString(16).padStart(2, "0")).join("");
export const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);
export const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};
export const fill16 = (b: number): Uint8Array => new Uint8Array(16).fill(b);
export const EMPTY = new Uint8Array(0);

export const ID_A = hex("98f7020927c7b241e45eae1c5fa52d46"); // §2.7 handshake identity
export const ID_B = hex("bc64660804e45a448f6be42e7a7e0f3b"); // §2.7 fuzz-seed identity
export const HS_PEER = hex("0bb5 bc64660804e45a448f6be42e7a7e0f3b"); // port 2997
export const MIB100 = 104857600;

/** A 27-byte header + payload (§2.1); dataLen/hdrLen may lie about the payload. */
export function frame(id: Uint8Array, serial: number, type: number, hdr: Uint8Array, data: Uint8Array,
  dataLen = data.length, hdrLen = hdr.length): Uint8Array {
  const f = new Uint8Array(27 + hdr.length + data.length);
  const dv = new DataView(f.buffer);
  f.set(id, 0);
  dv.setUint32(16, serial >>> 0);
  dv.setUint32(20, dataLen >>> 0);
  dv.setUint16(24, hdrLen & 0xffff);
  f[26] = type;
  f.set(hdr, 27);
  f.set(data, 27 + hdr.length);
  return f;
}
export const ackFrame = (id: Uint8Array, serial: number): Uint8Array => frame(id, serial, 2, EMPTY, EMPTY);
export const noopFrame = (serial: number): Uint8Array => frame(fill16(0), serial, 4, EMPTY, EMPTY);
