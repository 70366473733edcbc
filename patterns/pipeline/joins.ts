// The pusher's side of joining (push/pull): takes JOIN 0x50/5 and LEAVE 0x50/6 from workers
// (patterns/pipeline/worker.ts sends them), hands them to the pusher and answers ACK 0x50/7
// with the request's identity (protocol.md §2.5), so the worker's join() resolves once the
// pusher took it. A worker is keyed by Chirp.targetOf (the name a send reached it by, else its
// address and listening port), the same key a listed worker has.
import type { Chirp } from "../../adapters/mod.ts";
import { OP, PATTERN, decodeHeader, encodeHeader, text } from "../header.ts";
import type { MessageHandler } from "../router.ts";

/** What the join handler does with a worker. */
export interface JoinSink {
  /** Adds (or takes back) a worker; false when the pusher takes no more (closed). */
  add(target: string, slots: number | undefined): boolean;
  remove(target: string): void;
  onJoin?: (worker: string, joined: boolean) => void;
}

/** A router handler that takes JOIN and LEAVE messages for `sink`. A JOIN whose slots are not
 * a whole number >= 1 is not acknowledged (the worker's join times out). */
export function joinHandler(node: Chirp, sink: JoinSink): MessageHandler {
  return (msg) => {
    const h = decodeHeader(msg.header);
    if (h?.pattern !== PATTERN.PIPELINE || (h.op !== OP.PIPELINE.JOIN && h.op !== OP.PIPELINE.LEAVE)) return false;
    msg.release();
    const key = node.targetOf(msg);
    if (h.op === OP.PIPELINE.LEAVE) {
      sink.remove(key);
      sink.onJoin?.(key, false);
    } else {
      const slots = h.body.length ? Number(text(h.body)) : undefined;
      if (slots !== undefined && !(Number.isInteger(slots) && slots >= 1)) return true;
      if (!sink.add(key, slots)) return true;
      sink.onJoin?.(key, true);
    }
    msg.reply(undefined, { header: encodeHeader(PATTERN.PIPELINE, OP.PIPELINE.ACK) }).catch(() => {});
    return true;
  };
}
