// Messages out of the core's IN area: a whole message of one read (EV_MSG) is copied out with
// the others of that read in one allocation; a message that spans reads (EV_BEGIN, EV_CHUNK,
// EV_END) is assembled in a buffer that grows with the bytes that arrived, charged to the
// node's budget for messages in flight (assembly/ABI.md "Event records"; protocol.md §3.3, §3.4).
import type { Core } from "../core/core.ts";
import { EV } from "../core/core.ts";
import { ChirpError } from "../errors.ts";
import { Message, type MessageOwner } from "../message.ts";
import { EMPTY, type Conn } from "./records.ts";

/** The first allocation for a message that spans reads; it doubles as bytes arrive. */
const FIRST_CHUNK = 64 * 1024;

/** The node-wide budget for messages being received (config maxInFlightBytes): the bytes of
 * every partly received message's buffer. A frame header only announces a size; memory is
 * taken as its bytes arrive (protocol.md §3.3), so announcing 100 MiB costs nothing until the
 * peer sends it. */
export class InFlight {
  bytes = 0;
  constructor(readonly max: number) {}
}

/** A partly received message could not get memory: the connection closes with this. */
export class InFlightRefused extends ChirpError {}

/** Frees what a connection's partly received message holds (at its end, or when it closes). */
export function dropPartial(conn: Conn, budget: InFlight): void {
  const pm = conn.partial;
  if (!pm) return;
  budget.bytes -= pm.buf.length;
  conn.partial = null;
}

/** Copies the messages of one batch of event records. Make one per batch. */
export class MessageCopier {
  /** Whole messages of this batch (EV.MSG: header and data in the IN area) share one buffer:
   * the span of the IN area they cover, then their identities (from the event records). Each
   * message's header and data are views of it. */
  #batch: Uint8Array | null = null;
  #lo = 0;
  #idAt = 0;
  constructor(readonly core: Core, readonly owner: MessageOwner, readonly count: number, readonly budget: InFlight) {}

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

  /** EV.BEGIN: a message whose bytes follow in EV.CHUNK records (no memory taken yet). */
  begin(i: number, conn: Conn): void {
    const core = this.core;
    dropPartial(conn, this.budget);
    conn.partial = {
      slot: core.evSlot(i), identity: core.evIdentity(i), serial: core.evSerial(i), type: core.evType(i),
      headerLen: core.evHeaderLen(i), total: core.evHeaderLen(i) + core.evDataLen(i), buf: EMPTY, got: 0,
    };
  }

  /** EV.CHUNK: bytes at an offset of header‖data, into the buffer, grown (doubling, at most to
   * the announced size) within the budget. Throws InFlightRefused when the budget or the
   * process has no room: the caller closes this connection, no other. */
  chunk(i: number, conn: Conn): void {
    const pm = conn.partial;
    if (!pm) return;
    const core = this.core;
    const p = core.evBytes(i);
    const len = core.evLen(i);
    const at = core.evOffset(i);
    const need = at + len;
    if (need > pm.buf.length) this.#grow(conn, pm, need);
    pm.buf.set(core.mem.subarray(p, p + len), at);
    pm.got = need;
  }

  #grow(conn: Conn, pm: NonNullable<Conn["partial"]>, need: number): void {
    const budget = this.budget;
    const have = pm.buf.length;
    let size = Math.min(pm.total, Math.max(need, 2 * have, FIRST_CHUNK));
    // Short of room for the doubled size: the exact need may still fit.
    if (budget.bytes - have + size > budget.max) size = need;
    const from = `${conn.address}:${conn.peerPort}`;
    if (budget.bytes - have + size > budget.max) {
      throw new InFlightRefused("ENOMEM", `a ${pm.total}-byte message from ${from} does not fit in maxInFlightBytes (${budget.max} bytes for all messages being received, ${budget.bytes} in use)`);
    }
    let buf: Uint8Array;
    try {
      buf = new Uint8Array(size);
    } catch (e) {
      throw new InFlightRefused("ENOMEM", `cannot allocate ${size} bytes for a ${pm.total}-byte message from ${from}: the process is out of memory (${(e as Error).message})`, { cause: e });
    }
    buf.set(pm.buf);
    budget.bytes += size - have;
    pm.buf = buf;
  }

  /** EV.END: the assembled message, or null if its EV.BEGIN was not seen. Its memory leaves
   * the budget: it is the application's now (it holds a slot until released, §3.2). */
  end(conn: Conn): Message | null {
    const pm = conn.partial;
    if (!pm) return null;
    dropPartial(conn, this.budget);
    const buf = pm.total === 0 ? new Uint8Array(0) : pm.buf;
    const hl = pm.headerLen;
    return new Message(
      this.owner, conn.idx, conn.gen, pm.slot, pm.identity, 0, pm.serial, pm.type,
      hl ? buf.subarray(0, hl) : EMPTY, buf.subarray(hl),
      conn.address, conn.peerPort, conn.remoteIdentity,
    );
  }
}
