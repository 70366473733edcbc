// The event writer: records in the EVENT area (layout in abi.ts, from abi.mjs), and the count
// of records the last feed/tick produced (assigned only here).
import {
  EV_SIZE, V_CODE, V_CONN, V_DATA_LEN, V_GEN, V_HEADER_LEN, V_IDENTITY, V_KIND, V_LEN, V_OFFSET,
  V_PORT, V_PTR, V_REMOTE, V_SERIAL, V_SLOT, V_TYPE,
} from "./abi";

// The paired 16-bit fields are written with one store each (little-endian wasm memory).
assert(V_TYPE == V_KIND + 2 && V_CODE == V_SLOT + 2);
import { evBase } from "./globals";
import { copy16, zero16 } from "./records";

export let evCount: i32 = 0;

/** No events (yet) from this call. */
export function evClear(): void {
  evCount = 0;
}

/** Sets the count from the write pointer (the next free record). */
export function evFinish(ev: usize): i32 {
  evCount = <i32>((ev - evBase) / EV_SIZE);
  return evCount;
}

/** Writes a message event (MSG, BEGIN, CHUNK, END): identity copied from `id`. Returns the
 * next record's address. kind|type and slot|code are 16-bit pairs: one store each. */
@inline export function evMessage(
  ev: usize, kind: i32, conn: i32, gen: i32, remote: i32, slot: i32, type: i32, serial: u32,
  hl: u32, dl: u32, ptr: usize, len: u32, offset: u32, id: usize,
): usize {
  store<u32>(ev, (<u32>type << 16) | <u32>kind, V_KIND);
  store<i32>(ev, conn, V_CONN);
  store<i32>(ev, gen, V_GEN);
  store<i32>(ev, remote, V_REMOTE);
  store<u32>(ev, <u32>slot & 0xFFFF, V_SLOT); // code 0
  store<u32>(ev, serial, V_SERIAL);
  store<u32>(ev, hl, V_HEADER_LEN);
  store<u32>(ev, dl, V_DATA_LEN);
  store<u32>(ev, <u32>ptr, V_PTR);
  store<u32>(ev, len, V_LEN);
  store<u32>(ev, offset, V_OFFSET);
  store<u32>(ev, 0, V_PORT);
  copy16(ev + V_IDENTITY, id);
  return ev + EV_SIZE;
}

/** Writes any other event: no message fields; identity from `id` (0: zeros). */
export function evOther(
  ev: usize, kind: i32, conn: i32, gen: i32, remote: i32, code: i32, port: u32, id: usize,
): usize {
  store<u32>(ev, <u32>kind, V_KIND); // type 0
  store<i32>(ev, conn, V_CONN);
  store<i32>(ev, gen, V_GEN);
  store<i32>(ev, remote, V_REMOTE);
  store<u32>(ev, (<u32>code << 16) | 0xFFFF, V_SLOT); // slot -1
  store<u32>(ev, 0, V_SERIAL);
  store<u32>(ev, 0, V_HEADER_LEN);
  store<u32>(ev, 0, V_DATA_LEN);
  store<u32>(ev, 0, V_PTR);
  store<u32>(ev, 0, V_LEN);
  store<u32>(ev, 0, V_OFFSET);
  store<u32>(ev, port, V_PORT);
  if (id != 0) copy16(ev + V_IDENTITY, id);
  else zero16(ev + V_IDENTITY);
  return ev + EV_SIZE;
}
