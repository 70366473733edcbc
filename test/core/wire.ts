// Byte helpers for the core tests: the frame builder with positional arguments (protocol.md
// §2.1), the §2.7 vectors and identities. Pure functions, no core.
// The generic byte helpers are test/support/wire.ts's; the core tests name them as they did.
import { concat, frame as frameOf, hex as toHex, text as ascii, unhex as hex } from "../support/wire.ts";

export { ascii, concat, hex, toHex };
export const fill16 = (b: number): Uint8Array => new Uint8Array(16).fill(b);
export const EMPTY = new Uint8Array(0);

export const ID_A = hex("98f7020927c7b241e45eae1c5fa52d46"); // §2.7 handshake identity
export const ID_B = hex("bc64660804e45a448f6be42e7a7e0f3b"); // §2.7 fuzz-seed identity
export const HS_PEER = hex("0bb5 bc64660804e45a448f6be42e7a7e0f3b"); // port 2997
export const MIB100 = 104857600;

/** A 27-byte header + payload (§2.1), arguments in order; dataLen/hdrLen may lie about the payload. */
export const frame = (id: Uint8Array, serial: number, type: number, hdr: Uint8Array, data: Uint8Array,
  dataLen = data.length, hdrLen = hdr.length): Uint8Array =>
  frameOf({ identity: id, serial, type, header: hdr, data, dataLen, headerLen: hdrLen });
export const ackFrame = (id: Uint8Array, serial: number): Uint8Array => frame(id, serial, 2, EMPTY, EMPTY);
export const noopFrame = (serial: number): Uint8Array => frame(fill16(0), serial, 4, EMPTY, EMPTY);
