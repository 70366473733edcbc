// Delivers a node's incoming messages to the patterns that run on it. A Chirp node has one
// message stream (its onMessage handler, or async iteration); several patterns may share it,
// and every pattern that sends needs to see the answers to what it sent. The router keeps:
//
//   1. waiters by message identity: answers (replies carry the identity of the message they
//      answer, protocol.md §2.5) go to the request, survey or subscription that waits for them;
//   2. identities whose waiter gave up (deadline, abort, end of a survey): a late answer is
//      released and dropped for a minute instead of being mistaken for a new message (e.g.
//      an echo node's late reply, which carries a copy of the request's header);
//   3. handlers in registration order: each returns true when it took the message;
//   4. a fallback for what nobody took (default: release and count it in `unhandled`).
//
// Uses the public API only.
import type { Chirp, Message } from "../adapters/mod.ts";
import { idKey } from "./header.ts";

/** Takes a message (returns true) or leaves it to the next handler. A handler that takes a
 * message owns its slot and must release it. Usable directly as Chirp's `onMessage`. */
export type MessageHandler = (msg: Message) => boolean | void;

/** How long a finished identity is remembered, so late answers are dropped (ms). */
const LINGER_MS = 60_000;
/** At most this many finished identities are remembered (oldest forgotten first). */
const LINGER_MAX = 16_384;

/** Delivers one node's incoming messages to the patterns running on it: answers to the
 * waiter of their identity, the rest to the handlers in order, what nobody takes to
 * `fallback`. One per node (`routerOf`, `attach`). */
export class Router {
  /** What happens to a message nobody took. Default: release it and count it. */
  fallback: (msg: Message) => void;
  /** Errors thrown by handlers (the message is released). Default: ignored. */
  onError: (err: unknown, msg: Message) => void = () => {};
  /** Messages nobody took (counted by the default fallback). */
  unhandled = 0;
  /** Answers that came after their waiter gave up (released and dropped). */
  late = 0;
  #handlers: MessageHandler[] = [];
  #waiters = new Map<string, (msg: Message) => boolean>();
  #finished = new Map<string, number>();

  /** `handlers`: tried in this order for each message that no waiter took (more with `use`).
   * `options.fallback`: replaces the default fallback (release and count in `unhandled`). */
  constructor(handlers: MessageHandler[] = [], options: { fallback?: (msg: Message) => void } = {}) {
    this.#handlers = handlers.slice();
    this.fallback = options.fallback ?? ((msg) => {
      this.unhandled++;
      msg.release();
    });
  }

  /** The node's message handler: pass it as `onMessage` (then call attach(node, router)). */
  readonly dispatch = (msg: Message): void => {
    // Most messages a worker or subscriber gets answer nothing it sent: no key to make then.
    const key = this.#waiters.size > 0 || this.#finished.size > 0 ? idKey(msg.identity) : "";
    const w = key === "" ? undefined : this.#waiters.get(key);
    try {
      if (w !== undefined && w(msg)) return;
      if (this.#finished.size > 0 && this.#finished.has(key)) {
        if (this.#finished.get(key)! > Date.now()) {
          this.late++;
          msg.release();
          return;
        }
        this.#finished.delete(key);
      }
      for (const h of this.#handlers) if (h(msg) === true) return;
    } catch (e) {
      msg.release();
      this.onError(e, msg);
      return;
    }
    this.fallback(msg);
  };

  /** Adds a handler after the existing ones; returns a function that removes it. */
  use(handler: MessageHandler): () => void {
    this.#handlers.push(handler);
    return () => {
      const i = this.#handlers.indexOf(handler);
      if (i >= 0) this.#handlers.splice(i, 1);
    };
  }

  /** Routes messages with `identity` to `take` (which returns true when it took one) until
   * the returned function is called. Call it with `answered = true` when the one answer you
   * waited for came; otherwise (deadline, abort, several answers possible) messages with the
   * identity are dropped as late for a minute afterwards. One waiter per identity. */
  expect(identity: Uint8Array, take: (msg: Message) => boolean): (answered?: boolean) => void {
    const key = idKey(identity);
    if (this.#waiters.has(key)) throw new Error("an answer with this identity is already awaited");
    this.#waiters.set(key, take);
    return (answered = false) => {
      if (this.#waiters.get(key) !== take) return;
      this.#waiters.delete(key);
      if (!answered) this.#remember(key);
    };
  }

  /** Answers awaited right now. */
  get waiting(): number {
    return this.#waiters.size;
  }

  #remember(key: string): void {
    const now = Date.now();
    // Entries are inserted in time order, so the oldest (first) expire first.
    for (const [k, t] of this.#finished) {
      if (t > now && this.#finished.size < LINGER_MAX) break;
      this.#finished.delete(k);
    }
    this.#finished.set(key, now + LINGER_MS);
  }
}

const routers = new WeakMap<Chirp, Router>();

/** Outstanding next() calls on a node's iterator (see routerOf). */
const PULLS = 64;

/** The router of `node`. The first call for a node that has none creates one and has it
 * consume the node's async iteration (`for await (const msg of node)`), so it only works for
 * nodes started WITHOUT `onMessage`. For a node with its own `onMessage`, create a Router,
 * pass `router.dispatch` as `onMessage` and call `attach(node, router)` before using any
 * pattern on it. */
export function routerOf(node: Chirp): Router {
  let r = routers.get(node);
  if (r) return r;
  r = new Router();
  routers.set(node, r);
  const router = r;
  // Several next() calls wait at once, so all messages of one socket read are dispatched
  // in order before the engine's send pump runs (it is a microtask too): answers that
  // trigger new sends then leave in one write instead of one write per message.
  const it = node[Symbol.asyncIterator]();
  let done = false;
  const pull = (): void => {
    it.next().then((res) => {
      if (res.done) {
        done = true;
        return;
      }
      if (!done) pull();
      router.dispatch(res.value);
    });
  };
  for (let i = 0; i < PULLS; i++) pull();
  return r;
}

/** Registers `router` as the router of `node` (a node started with
 * `onMessage: router.dispatch`). Throws if the node already has one. */
export function attach(node: Chirp, router: Router): Router {
  const had = routers.get(node);
  if (had && had !== router) throw new Error("this node already has a pattern router");
  routers.set(node, router);
  return router;
}

/** Random identities are cut from a pool filled 64 KiB at a time (one getRandomValues call
 * per message costs more than a send). A new pool is allocated each time, so identities
 * handed out stay valid. */
let idPool = new Uint8Array(0);
let idPos = 0;

/** A random 16-byte message identity. */
export function newIdentity(): Uint8Array {
  if (idPos + 16 > idPool.length) {
    idPool = crypto.getRandomValues(new Uint8Array(65536));
    idPos = 0;
  }
  idPos += 16;
  return idPool.subarray(idPos - 16, idPos);
}

/** Whether two identities are equal. */
export function sameId(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
