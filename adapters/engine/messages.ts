// Messages out of the core's IN area: a whole message of one read (EV_MSG) is copied out with
// the others of that read in one allocation; a message that spans reads (EV_BEGIN, EV_CHUNK,
// EV_END) is assembled in its own buffers (assembly/ABI.md "Event records"; protocol.md §3.4).
import type { Core } from "../core/core.ts";
import { EV } from "../core/core.ts";
import { Message, type MessageOwner } from "../message.ts";
import { EMPTY, type Conn } from "./records.ts";

/** Copies the messages of one batch of event records. Make one per batch. */
export class MessageCopier {
  /** Whole messages of this batch (EV.MSG: header and data in the IN area) share one buffer:
   * the span of the IN area they cover, then their identities (from the event records). Each
   * message's header and data are views of it. */
  #batch: Uint8Array | null = null;
  #lo = 0;
  #idAt = 0;
  constructor(readonly core: Core, readonly owner: MessageOwner, readonly count: number) {}

  /** The EV.MSG record `i` as a Message. */
  whole(i: number, conn: Conn): Message {
    const core = this.core;
    const mem = core.mem;
    const p1 = core.evBytes(i);
    const hl = core.evHeaderLen(i);
    const p2 = p1 + hl;
    const dl = core.evDataLen(i);
    let batch = this.#batch;
    if (batch === null) batch = this.#copyBatch(i);
    const lo = this.#lo;
    const idAt = this.#idAt;
    for (let k = 0, src = core.evIdentityAt(i); k < 16; k++) batch[idAt + k] = mem[src + k];
    this.#idAt = idAt + 16;
    return new Message(
      this.owner, conn.idx, conn.gen, core.evSlot(i), batch, idAt, core.evSerial(i), core.evType(i),
      hl ? batch.subarray(p1 - lo, p1 - lo + hl) : EMPTY, dl ? batch.subarray(p2 - lo, p2 - lo + dl) : batch.subarray(0, 0),
      conn.address, conn.peerPort, conn.remoteIdentity,
    );
  }

  /** One buffer for the IN span of every EV.MSG from record `from` on, and their identities. */
  #copyBatch(from: number): Uint8Array {
    const core = this.core;
    let lo = Infinity;
    let hi = 0;
    let count = 0;
    for (let j = from; j < this.count; j++) {
      if (core.evKind(j) !== EV.MSG) continue;
      count++;
      const a = core.evBytes(j);
      const len = core.evLen(j); // header‖data
      if (len > 0 && a < lo) lo = a;
      if (len > 0 && a + len > hi) hi = a + len;
    }
    if (hi === 0) lo = hi;
    const batch = new Uint8Array(hi - lo + 16 * count);
    if (hi > lo) batch.set(core.mem.subarray(lo, hi));
    this.#batch = batch;
    this.#lo = lo;
    this.#idAt = hi - lo;
    return batch;
  }

  /** EV.BEGIN: a message whose bytes follow in EV.CHUNK records. */
  begin(i: number, conn: Conn): void {
    const core = this.core;
    conn.partial = {
      slot: core.evSlot(i), identity: core.evIdentity(i), serial: core.evSerial(i), type: core.evType(i),
      header: new Uint8Array(core.evHeaderLen(i)), data: new Uint8Array(core.evDataLen(i)),
    };
  }

  /** EV.CHUNK: bytes at an offset of header‖data. */
  chunk(i: number, conn: Conn): void {
    const pm = conn.partial;
    if (!pm) return;
    const core = this.core;
    const p = core.evBytes(i);
    const len = core.evLen(i);
    const at = core.evOffset(i);
    const hl = pm.header.length;
    const src = core.mem.subarray(p, p + len);
    if (at < hl) {
      const inHeader = Math.min(len, hl - at);
      pm.header.set(src.subarray(0, inHeader), at);
      if (len > inHeader) pm.data.set(src.subarray(inHeader), 0);
    } else {
      pm.data.set(src, at - hl);
    }
  }

  /** EV.END: the assembled message, or null if its EV.BEGIN was not seen. */
  end(conn: Conn): Message | null {
    const pm = conn.partial;
    if (!pm) return null;
    conn.partial = null;
    return new Message(
      this.owner, conn.idx, conn.gen, pm.slot, pm.identity, 0, pm.serial, pm.type, pm.header, pm.data,
      conn.address, conn.peerPort, conn.remoteIdentity,
    );
  }
}
