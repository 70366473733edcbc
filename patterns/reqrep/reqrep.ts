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
import { OP, PATTERN, RemoteError, decodeHeader, targetKey, text } from "../header.ts";
import type { MessageHandler } from "../router.ts";
import { call, respond, type ReplyValue } from "../call.ts";

/** How `request()` sends and waits: application header, deadline, cancellation, release. */
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
  const label = typeof to === "string" ? to : targetKey(to.address, to.port);
  return call<Message>(node, to, data, {
    pattern: PATTERN.REQREP,
    op: OP.REQREP.REQUEST,
    header: options.header,
    timeout,
    timeoutMessage: () => `no reply from ${label} within ${timeout} s`,
    signal,
    take: (msg, h, c) => {
      if (h?.pattern === PATTERN.REQREP && h.op === OP.REQREP.ERROR) {
        msg.release();
        c.reject(new RemoteError(text(msg.data), targetKey(msg.address, msg.port)), true);
      } else {
        if (autoRelease) msg.release();
        c.resolve(msg, true);
      }
      return true;
    },
  });
}

export { replyParts, type ReplyValue } from "../call.ts";

/** What `responder()` answers besides pattern requests, and where its send failures go. */
export interface ResponderOptions {
  /** Also answer messages that carry no pattern header (plain libchirp senders), default
   * true. Their application header (second handler argument) is the whole header. */
  plain?: boolean;
  /** A reply that could not be sent (the requester went away). Default: ignored. */
  onError?: (err: unknown, request: Message) => void;
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
    respond(msg, PATTERN.REQREP, OP.REQREP.REPLY, OP.REQREP.ERROR, handler, appHeader, onError);
    return true;
  };
}
