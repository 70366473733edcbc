// One exchange of a pattern, written once for all of them: send a message whose header comes
// from the registry (patterns/header.ts), take the answers that carry its identity (replies
// carry the identity of the message they answer, protocol.md §2.5; the router delivers them,
// patterns/router.ts), and end exactly once: on an answer, a failed send, the deadline
// (ChirpError TIMEOUT) or an abort (signal.reason). Every ending takes back the identity
// waiter, the timer and the abort listener before the pattern hears of it.
//
//   new Call(node, { pattern, op, header, take, timeout, timeoutMessage, signal, settle })
//     .send(to, data)                                   -> the message, with the call's identity
//   call(node, to, data, options)                       -> Promise: the same, settled by a promise
//
// The answering side: respond() runs a handler and sends what it returns back as the reply
// (REPLY, RESULT: replyParts) or its error's text (ERROR, FAILED) with the request's identity
// (Message.reply), at once when it returns a plain value; run(handler) turns a handler's
// throw into a rejection (for handlers whose result is awaited, e.g. a survey's).
//
// request() (reqrep), connect() (pair), subscribe()/unsubscribe() (pubsub), survey() (one call,
// several sends) and each attempt of a pusher (pipeline) are calls; calls with the same
// timeout share one timer (patterns/deadlines.ts). Uses the public API only.
import { ChirpError, type Chirp, type Message, type Target } from "../adapters/mod.ts";
import { bytes, decodeHeader, encodeHeader, type PatternHeader, type PatternId } from "./header.ts";
import { newIdentity, routerOf, sameId, type Router } from "./router.ts";
import { deadlineAfter, type Deadline } from "./deadlines.ts";

export type { Deadline };

/** Hears how a call ended, once: `err` undefined means it resolved with `value`. `answered`
 * is true when the awaited answer came (the identity is then forgotten; otherwise later
 * messages with it are dropped as late, see Router.expect). */
export type Settle<T> = (err: unknown, value: T | undefined, answered: boolean) => void;

export interface CallOptions<T> {
  /** The message's pattern id and op code (patterns/header.ts). */
  pattern: PatternId;
  op: number;
  /** Application header, after the 3-byte pattern prefix. */
  header?: Uint8Array | string;
  /** The message identity (default: a new random one). */
  identity?: Uint8Array;
  /** Looks at each message that carries the identity (`h`: its decoded header) and returns
   * true when it took it (it then releases it and usually ends the call). Our own message
   * looped back (same pattern and op, sent by this node) never reaches it. Without `take`
   * no answer is awaited: the call ends by resolve(), a failed send, the deadline or abort. */
  take?: (msg: Message, h: PatternHeader | null, call: Call<T>) => boolean;
  /** The router the answers come through (default routerOf(node)). */
  router?: Router;
  /** Deadline: seconds from now (one timer per timeout value serves every call,
   * patterns/deadlines.ts), or a scheduler of the caller's own. */
  timeout: number | Deadline;
  /** The TIMEOUT error's message (built when the deadline passes). */
  timeoutMessage?: () => string;
  /** What the deadline does instead of rejecting with TIMEOUT (e.g. a survey resolves). */
  onTimeout?: (call: Call<T>) => void;
  /** Aborting rejects the call with `signal.reason`; an aborted signal rejects it at once. */
  signal?: AbortSignal;
  settle: Settle<T>;
}

export class Call<T = void> {
  readonly node: Chirp;
  readonly identity: Uint8Array;
  /** The encoded pattern header every send of this call carries. */
  readonly header: Uint8Array;
  readonly #pattern: PatternId;
  readonly #op: number;
  readonly #settle: Settle<T>;
  readonly #signal: AbortSignal | undefined;
  #onAbort: (() => void) | null = null;
  #done = false;
  #stop: ((answered?: boolean) => void) | null = null;
  #cancel: (() => void) | null = null;

  /** `settle` may come apart from the options (call() passes it so). */
  constructor(node: Chirp, options: Omit<CallOptions<T>, "settle"> & { settle?: Settle<T> }, settle: Settle<T> = options.settle!) {
    this.node = node;
    this.identity = options.identity ?? newIdentity();
    this.#pattern = options.pattern;
    this.#op = options.op;
    this.header = encodeHeader(options.pattern, options.op, options.header);
    this.#settle = settle;
    this.#signal = options.signal;
    const take = options.take;
    if (take) {
      this.#stop = (options.router ?? routerOf(node)).expect(this.identity, (msg) => {
        const h = decodeHeader(msg.header);
        // Our own message, looped back because we sent it to ourselves: not an answer.
        if (h?.pattern === this.#pattern && h.op === this.#op && sameId(msg.remoteIdentity, node.identity)) return false;
        return take(msg, h, this);
      });
    }
    const expire = options.onTimeout
      ? () => options.onTimeout!(this)
      : () => this.reject(new ChirpError("TIMEOUT", options.timeoutMessage?.() ?? "no answer in time"));
    this.#cancel = (typeof options.timeout === "number" ? deadlineAfter(options.timeout * 1000) : options.timeout)(expire);
    const signal = this.#signal;
    if (signal?.aborted) this.reject(signal.reason);
    else if (signal) signal.addEventListener("abort", (this.#onAbort = () => this.reject(signal.reason)), { once: true });
  }

  /** Whether the call has ended. */
  get done(): boolean {
    return this.#done;
  }

  /** Ends the call with `value` (no-op once ended). */
  resolve(value: T, answered = false): void {
    this.#end(undefined, value, answered);
  }

  /** Ends the call with `err` (no-op once ended). */
  reject(err: unknown, answered = false): void {
    this.#end(err === undefined ? new Error("call rejected") : err, undefined, answered);
  }

  /** Sends `data` with the call's header and identity to `to` (nothing once ended). A failed
   * send rejects the call unless `onFailed` is given; `onSent` runs when the send resolved. */
  send(to: Target, data?: Uint8Array | string, onSent?: () => void, onFailed?: (err: unknown) => void): void {
    if (this.#done) return;
    this.node.send(to, data, { header: this.header, identity: this.identity })
      .then(onSent, onFailed ?? ((e) => this.reject(e)));
  }

  #end(err: unknown, value: T | undefined, answered: boolean): void {
    if (this.#done) return;
    this.#done = true;
    this.#cancel?.();
    if (this.#onAbort) this.#signal!.removeEventListener("abort", this.#onAbort);
    this.#stop?.(answered);
    this.#settle(err, value, answered);
  }
}

/** One call as a promise: sends `data` to `to` and settles as the call ends. */
export function call<T = void>(node: Chirp, to: Target, data: Uint8Array | string | undefined, options: Omit<CallOptions<T>, "settle">): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    new Call<T>(node, options, (err, value) => (err !== undefined ? reject(err) : resolve(value as T))).send(to, data);
  });
}

/** What a handler returns: the reply's data, or data and an application header. */
export type ReplyValue = Uint8Array | string | void | undefined | { data?: Uint8Array | string; header?: Uint8Array | string };

/** Splits a handler's return value into reply data and application header. */
export function replyParts(v: ReplyValue): { data: Uint8Array; header: Uint8Array } {
  if (v === undefined || typeof v === "string" || v instanceof Uint8Array) return { data: bytes(v ?? undefined), header: bytes(undefined) };
  return { data: bytes(v.data), header: bytes(v.header) };
}

/** Runs a (possibly async) handler; a throw becomes a rejected promise. */
export function run<T>(handler: () => T | Promise<T>): Promise<T> {
  try {
    return Promise.resolve(handler());
  } catch (e) {
    return Promise.reject(e);
  }
}

/** Replies to `msg` with what `out` resolves to, as `op` of `pattern` (undefined: empty
 * data), or with the error's text as `errorOp` when it rejects. A reply that cannot be sent
 * (the requester went away) goes to `onError`. respond()'s path for a handler's promise. */
function answer(
  msg: Message,
  pattern: PatternId,
  op: number,
  errorOp: number,
  out: Promise<ReplyValue>,
  onError: (err: unknown, msg: Message) => void,
): void {
  out.then(
    (v) => {
      const { data, header } = replyParts(v);
      return msg.reply(data, { header: encodeHeader(pattern, op, header) });
    },
    (e) => msg.reply(e instanceof Error ? e.message : String(e), { header: encodeHeader(pattern, errorOp) }),
  ).catch((e) => onError(e, msg));
}

/** Runs `handler(msg, appHeader)` and replies as answer() does. A handler that returns a plain
 * value (not a promise) is answered at once: no promise and no microtask between request and
 * reply, so the reply also carries the ACK its release queued (protocol.md §4.1). */
export function respond(
  msg: Message,
  pattern: PatternId,
  op: number,
  errorOp: number,
  handler: (msg: Message, appHeader: Uint8Array) => ReplyValue | Promise<ReplyValue>,
  appHeader: Uint8Array,
  onError: (err: unknown, msg: Message) => void,
): void {
  let v: ReplyValue | Promise<ReplyValue>;
  try {
    v = handler(msg, appHeader);
  } catch (e) {
    v = Promise.reject(e);
  }
  if (v !== null && typeof v === "object" && typeof (v as { then?: unknown }).then === "function") {
    answer(msg, pattern, op, errorOp, Promise.resolve(v), onError);
    return;
  }
  let sent: Promise<unknown>;
  try {
    const { data, header } = replyParts(v as ReplyValue);
    sent = msg.reply(data, { header: encodeHeader(pattern, op, header) });
  } catch (e) {
    sent = Promise.reject(e);
  }
  sent.catch((e) => onError(e, msg));
}

