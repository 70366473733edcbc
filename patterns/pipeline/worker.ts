// A worker that joins pushers (push/pull), for worker pools whose workers come and go:
//
//   worker(node, handler, { join, slots, timeout, renew }) -> PullWorker
//     .join(pusher) / .leave(pusher) -> Promise<void>;  .pushers;  .close()
//
// It does what puller(handler) does (patterns/pipeline/pipeline.ts: the same handler on the
// node's router) and announces itself to each pusher with JOIN 0x50/5 (body: its slots), which
// the pusher acknowledges with ACK 0x50/7 (patterns/pipeline/joins.ts). A pusher it cannot
// reach yet, one that restarted (new node identity) and one whose connection closed (it
// died, or dropped us after failures and the connection went with it) are joined again by
// the renewal (patterns/renew.ts): retried with a doubling delay up to `timeout` seconds, so
// a pusher that comes back has its workers again within that plus one exchange. LEAVE 0x50/6
// takes the worker out of a pusher's set (its items in flight still finish).
import { ChirpError, type Chirp, type Message, type Target } from "../../adapters/mod.ts";
import { OP, PATTERN, targetKey } from "../header.ts";
import { routerOf } from "../router.ts";
import { call, type ReplyValue } from "../call.ts";
import { Renewal, type RenewOptions } from "../renew.ts";
import { puller, type PullerOptions } from "./pipeline.ts";

/** Options of worker(). */
export interface WorkerOptions extends PullerOptions {
  /** The pushers to join ("host:port"); more with join(). */
  join?: Target | Target[];
  /** Items this worker takes at once (sent in JOIN; default: the pusher's `slots`). */
  slots?: number;
  /** Seconds to wait for a pusher's ACK (default: the node's config.timeout); also the
   * longest wait between two join attempts (unless `renew.retryInterval` says otherwise). */
  timeout?: number;
  /** Joining again after a pusher restarted or was unreachable (patterns/renew.ts); false:
   * only the joins you call. */
  renew?: RenewOptions | false;
}

/** A worker that joins pushers; see the file comment. */
export class PullWorker {
  readonly #node: Chirp;
  readonly #timeout: number;
  readonly #slots: string;
  readonly #pushers = new Map<string, Target>();
  readonly #remove: () => void;
  readonly #renewal: Renewal | null;

  /** Puts `handler` on `node`'s router and joins `options.join` (see worker()). */
  constructor(node: Chirp, handler: (item: Message, header: Uint8Array) => ReplyValue | Promise<ReplyValue>, options: WorkerOptions = {}) {
    this.#node = node;
    this.#timeout = options.timeout ?? node.config.timeout;
    if (options.slots !== undefined && !(Number.isInteger(options.slots) && options.slots >= 1)) {
      throw new ChirpError("VALUE_ERROR", `worker: slots = ${options.slots}; a whole number >= 1`);
    }
    this.#slots = options.slots === undefined ? "" : String(options.slots);
    this.#remove = routerOf(node).use(puller(handler, options));
    this.#renewal = options.renew === false ? null : new Renewal(node, (key) => this.#announce(key), this.#timeout, options.renew);
    const join = options.join === undefined ? [] : Array.isArray(options.join) ? options.join : [options.join];
    for (const p of join) {
      const key = this.#add(p);
      if (this.#renewal) this.#renewal.now(key);
      else void this.#announce(key).catch(() => {});
    }
  }

  /** The pushers this worker joined or is joining. */
  get pushers(): string[] {
    return [...this.#pushers.keys()];
  }

  /** Joins renewals started (first joins, pushers that restarted or were unreachable). */
  get renewals(): number {
    return this.#renewal?.started ?? 0;
  }

  /** Joins `pusher`: resolves once it acknowledged. When it fails (TIMEOUT, CANNOT_CONNECT)
   * the worker keeps trying in the background, as after a pusher restart, until leave(). */
  async join(pusher: Target): Promise<void> {
    const key = this.#add(pusher);
    try {
      await this.#announce(key);
    } catch (e) {
      this.#renewal?.now(key);
      throw e;
    }
  }

  /** Leaves `pusher` (LEAVE; resolves once it acknowledged) and stops rejoining it. */
  async leave(pusher: Target): Promise<void> {
    const key = typeof pusher === "string" ? pusher : targetKey(pusher.address, pusher.port);
    const to = this.#pushers.get(key) ?? pusher;
    this.#pushers.delete(key);
    this.#renewal?.unwatch(key);
    await this.#control(to, OP.PIPELINE.LEAVE, key);
  }

  /** Leaves every pusher (best effort) and stops taking work. */
  async close(): Promise<void> {
    const all = [...this.#pushers.keys()];
    this.#renewal?.close();
    await Promise.allSettled(all.map((k) => this.leave(k)));
    this.#remove();
  }

  #add(pusher: Target): string {
    const key = typeof pusher === "string" ? pusher : targetKey(pusher.address, pusher.port);
    this.#pushers.set(key, pusher);
    this.#renewal?.watch(key);
    return key;
  }

  #announce(key: string): Promise<void> {
    const to = this.#pushers.get(key);
    if (to === undefined) return Promise.resolve();
    return this.#control(to, OP.PIPELINE.JOIN, key, this.#slots);
  }

  #control(to: Target, op: number, label: string, body = ""): Promise<void> {
    return call(this.#node, to, undefined, {
      pattern: PATTERN.PIPELINE,
      op,
      header: body,
      take: (msg, h, c) => {
        if (h?.pattern !== PATTERN.PIPELINE || h.op !== OP.PIPELINE.ACK) return false;
        msg.release();
        c.resolve(undefined, true);
        return true;
      },
      timeout: this.#timeout,
      timeoutMessage: () => `worker: no acknowledgement from pusher ${label} within ${this.#timeout} s`,
    });
  }
}

/** A worker on `node` that runs `handler` for each item (as puller() does) and joins the
 * pushers in `options.join`, again whenever they restart. */
export function worker(
  node: Chirp,
  handler: (item: Message, header: Uint8Array) => ReplyValue | Promise<ReplyValue>,
  options: WorkerOptions = {},
): PullWorker {
  return new PullWorker(node, handler, options);
}
