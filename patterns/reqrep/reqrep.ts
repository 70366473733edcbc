// Request/reply over the symmetric core. A request is an ordinary message; its reply is the
// first message that comes back with the same identity (protocol.md §2.5), which is how libchirp's
// Python binding matches them (`ChirpBase.request`), so any libchirp node that answers with
// Message.reply (e.g. libchirp's echo_etest) is a valid responder.
//
//   request(node, to, data, { header, timeout, signal })  -> Promise<Message>  (the reply)
//   responder(handler)                                     -> MessageHandler
//
// Header (patterns/header.ts): REQUEST 0x30/1 and REPLY 0x30/2 carry the application header
// after the 3-byte prefix; ERROR 0x30/3 carries the responder's error text in data.
import { ChirpError, type Chirp, type Message, type Target } from "../../adapters/mod.ts";
import { OP, PATTERN, RemoteError, bytes, decodeHeader, encodeHeader, targetKey, text } from "../header.ts";
import { newIdentity, routerOf, sameId, type MessageHandler } from "../router.ts";

export interface RequestOptions {
  /** Application header, carried after the pattern prefix (header bytes 3..). */
  header?: Uint8Array | string;
  /** Deadline in seconds for the whole exchange (send + reply). Default: the node's
   * `config.timeout`. On expiry the request rejects with ChirpError TIMEOUT. */
  timeout?: number;
  /** Aborting rejects the request with `signal.reason` (a DOMException named "AbortError"
   * unless you passed your own reason to `abort()`); an already aborted signal rejects
   * before anything is sent. The message may already be on its way; its reply is dropped. */
  signal?: AbortSignal;
  /** Release the reply before resolving (default true). With false the reply holds its slot
   * until you release it: do so promptly, a synchronous responder waits for it (§10.2). */
  autoRelease?: boolean;
}

/**
 * Sends `data` to `to` and resolves with the reply: the first message that comes back with
 * the request's identity, whatever its header (so a plain echo node answers too). Rejects
 * with ChirpError TIMEOUT after the deadline, with the send's ChirpError when the request
 * cannot be delivered (CANNOT_CONNECT, ...), with RemoteError when the responder's handler
 * threw, and with `signal.reason` when aborted. Late and duplicate replies are dropped.
 * The node's messages must reach the pattern router (see routerOf in patterns/router.ts).
 */
export function request(node: Chirp, to: Target, data?: Uint8Array | string, options: RequestOptions = {}): Promise<Message> {
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(signal.reason);
  const timeout = options.timeout ?? node.config.timeout;
  if (!(timeout > 0)) return Promise.reject(new ChirpError("VALUE_ERROR", `request timeout = ${timeout} s; it must be > 0`));
  const autoRelease = options.autoRelease ?? true;
  const router = routerOf(node);
  const identity = newIdentity();
  const label = typeof to === "string" ? to : targetKey(to.address, to.port);
  return new Promise<Message>((resolve, reject) => {
    let done = false;
    let answered = false;
    const finish = (err: unknown, msg?: Message): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      stop(answered);
      if (err !== undefined) reject(err);
      else resolve(msg!);
    };
    const onAbort = (): void => finish(signal!.reason);
    const stop = router.expect(identity, (msg) => {
      const h = decodeHeader(msg.header);
      // Our own request, looped back because we sent it to ourselves: not the reply.
      if (h?.pattern === PATTERN.REQREP && h.op === OP.REQREP.REQUEST && sameId(msg.remoteIdentity, node.identity)) return false;
      answered = true;
      if (h?.pattern === PATTERN.REQREP && h.op === OP.REQREP.ERROR) {
        msg.release();
        finish(new RemoteError(text(msg.data), targetKey(msg.address, msg.port)));
      } else {
        if (autoRelease) msg.release();
        finish(undefined, msg);
      }
      return true;
    });
    const timer = setTimeout(() => finish(new ChirpError("TIMEOUT", `no reply from ${label} within ${timeout} s`)), timeout * 1000);
    signal?.addEventListener("abort", onAbort, { once: true });
    node.send(to, data, { header: encodeHeader(PATTERN.REQREP, OP.REQREP.REQUEST, options.header), identity })
      .catch((e) => finish(e));
  });
}

/** What a handler returns: the reply's data, or data and an application header. */
export type ReplyValue = Uint8Array | string | void | undefined | { data?: Uint8Array | string; header?: Uint8Array | string };

export interface ResponderOptions {
  /** Also answer messages that carry no pattern header (plain libchirp senders), default
   * true. Their application header (second handler argument) is the whole header. */
  plain?: boolean;
  /** A reply that could not be sent (the requester went away). Default: ignored. */
  onError?: (err: unknown, request: Message) => void;
}

/** Splits a handler's return value into reply data and application header. */
export function replyParts(v: ReplyValue): { data: Uint8Array; header: Uint8Array } {
  if (v === undefined || typeof v === "string" || v instanceof Uint8Array) return { data: bytes(v ?? undefined), header: bytes(undefined) };
  return { data: bytes(v.data), header: bytes(v.header) };
}

/**
 * A handler that answers requests: it releases each request first (so a synchronous
 * requester with one slot can read the reply, protocol.md §10.2), calls `handler(request,
 * applicationHeader)` and sends its (possibly async) return value back as the reply with the
 * request's identity. `undefined` replies with empty data. When the handler throws or
 * rejects, the requester's `request()` rejects with RemoteError carrying the error message.
 * Use it as `onMessage`, or add it to a node's router: `routerOf(node).use(responder(h))`.
 */
export function responder(
  handler: (request: Message, header: Uint8Array) => ReplyValue | Promise<ReplyValue>,
  options: ResponderOptions = {},
): MessageHandler {
  const plain = options.plain ?? true;
  const onError = options.onError ?? (() => {});
  return (msg) => {
    const h = decodeHeader(msg.header);
    let appHeader: Uint8Array;
    if (h) {
      if (h.pattern !== PATTERN.REQREP || h.op !== OP.REQREP.REQUEST) return false;
      appHeader = h.body;
    } else {
      if (!plain) return false;
      appHeader = msg.header;
    }
    msg.release();
    let out: ReplyValue | Promise<ReplyValue>;
    try {
      out = handler(msg, appHeader);
    } catch (e) {
      out = Promise.reject(e);
    }
    Promise.resolve(out).then(
      (v) => {
        const { data, header } = replyParts(v);
        return msg.reply(data, { header: encodeHeader(PATTERN.REQREP, OP.REQREP.REPLY, header) });
      },
      (e) => msg.reply(e instanceof Error ? e.message : String(e), { header: encodeHeader(PATTERN.REQREP, OP.REQREP.ERROR) }),
    ).catch((e) => onError(e, msg));
    return true;
  };
}
