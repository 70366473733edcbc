// Pair: a node talks to exactly one peer (nng's PAIR). A node started with `peer` is bound
// to it; one without takes the first node that says HELLO (or sends DATA) as its peer.
// Any other node is refused: its message is released, not delivered, and answered with
// REFUSED 0x10/4 (data: the reason), so its connect() rejects with PairRefusedError and its
// later sends are refused the same way.
//
//   pair(node, (msg, header) => ..., { peer, timeout }) -> Pair
//     .connect(to?) -> HELLO 0x10/1, resolves on WELCOME 0x10/2, rejects on REFUSED
//     .send(data, { header }) -> DATA 0x10/3 to the peer (connects first if needed)
//     .close()      -> BYE 0x10/5: the peer forgets us and may pair with someone else
//
// The peer is keyed "host:port" (a sender by Chirp.targetOf, so a peer given by name matches). A learned peer is also forgotten when
// `maxFailures` sends to it fail in a row (default 1: it went away), so another may pair.
//
// Restarts: a node with a configured `peer` says HELLO again when the peer's node identity
// changes or a connection to it closes (patterns/renew.ts: retried with a doubling delay up to
// `timeout` seconds while the peer is unreachable), so a peer that restarted is paired again
// within that plus one exchange, before either side sends. A refusal ends the retrying.
import { ChirpError, type Chirp, type Message, type Target } from "../../adapters/mod.ts";
import { OP, PATTERN, decodeHeader, encodeHeader, targetKey, text } from "../header.ts";
import { routerOf, type MessageHandler, type Router } from "../router.ts";
import { Call } from "../call.ts";
import { Inbox, deliver } from "../inbox.ts";
import { Renewal, type RenewOptions } from "../renew.ts";

/** A pair peer refused us: it is paired with another node. `code` is "REFUSED". */
export class PairRefusedError extends Error {
  /** Always "REFUSED" (compare it like ChirpError's codes). */
  readonly code = "REFUSED";
  /** The node that refused us ("host:port"). */
  readonly from: string;
  /** `reason`: the refusing node's text (REFUSED's data); `from`: that node. */
  constructor(reason: string, from: string) {
    super(`REFUSED: ${from}: ${reason}`);
    this.name = "PairRefusedError";
    this.from = from;
  }
}

/** A pair's fixed peer (or none: the first to reach it), its timeouts and callbacks. */
export interface PairOptions {
  /** The one peer this node talks to. Without it, the first node to reach us is the peer. */
  peer?: Target;
  /** Seconds connect() waits for WELCOME (default: the node's config.timeout). */
  timeout?: number;
  /** Consecutive failed sends after which a learned peer is forgotten (default 1). */
  maxFailures?: number;
  /** Called when a refusal arrives for a DATA message we sent. */
  onRefused?: (err: PairRefusedError) => void;
  /** Called when a node we refused tried to reach us (its address:port). */
  onIntruder?: (from: string) => void;
  /** Pairing again with a configured peer that restarted or was unreachable
   * (patterns/renew.ts; default on, retrying up to every `timeout` seconds); false: never. */
  renew?: RenewOptions | false;
}

const keyOf = (t: Target): string => (typeof t === "string" ? t : targetKey(t.address, t.port));

/** One end of a pair: talks to exactly one peer and refuses every other node, taking the
 * peer's messages by callback or `for await` (see the file comment; made by `pair()`). */
export class Pair {
  readonly #node: Chirp;
  readonly #router: Router;
  readonly #onMessage: (msg: Message, header: Uint8Array) => void;
  readonly #inbox = new Inbox<{ msg: Message; header: Uint8Array }>();
  readonly #iterate: () => AsyncIterator<{ msg: Message; header: Uint8Array }>;
  readonly #options: PairOptions;
  readonly #configured: boolean;
  readonly #remove: () => void;
  readonly #renewal: Renewal | null = null;
  #peer: { key: string; to: Target } | null;
  #welcomed = false;
  #connecting: Promise<void> | null = null;
  #refused: PairRefusedError | null = null;
  #failures = 0;
  /** Messages from other nodes that were refused. */
  refusedCount = 0;

  /** `onMessage(msg, applicationHeader)` gets each DATA message from the peer (already
   * released); without it, read them with `for await`. */
  constructor(node: Chirp, onMessage: ((msg: Message, header: Uint8Array) => void) | undefined, options: PairOptions = {}) {
    this.#node = node;
    this.#router = routerOf(node);
    const d = deliver("pair", onMessage, this.#inbox, (msg, header) => ({ msg, header }));
    this.#onMessage = d.fn;
    this.#iterate = d.iterate;
    this.#options = options;
    this.#configured = options.peer !== undefined;
    this.#peer = options.peer !== undefined ? { key: keyOf(options.peer), to: options.peer } : null;
    this.#remove = this.#router.use(this.handler);
    if (this.#peer && options.renew !== false) {
      this.#renewal = new Renewal(node, () => this.#repair(), options.timeout ?? node.config.timeout, options.renew);
      this.#renewal.watch(this.#peer.key);
    }
  }

  /** Pairs again (a renewal): a refusal is an answer, not a failure to retry. */
  #repair(): Promise<void> {
    this.#welcomed = false;
    return this.connect().catch((e) => {
      if (!(e instanceof PairRefusedError)) throw e;
    });
  }

  /** The peer's "address:port", or null while unpaired. */
  get peer(): string | null {
    return this.#peer?.key ?? null;
  }

  /** Takes pair messages (registered on the node's router). */
  readonly handler: MessageHandler = (msg) => {
    const h = decodeHeader(msg.header);
    if (h?.pattern !== PATTERN.PAIR) return false;
    msg.release();
    const from = this.#node.targetOf(msg);
    switch (h.op) {
      case OP.PAIR.REFUSED: {
        // A refusal for a DATA message (connect() takes its own through the router).
        const err = new PairRefusedError(text(msg.data), from);
        if (this.#peer?.key === from) {
          this.#refused = err;
          this.#welcomed = false;
        }
        this.#options.onRefused?.(err);
        return true;
      }
      case OP.PAIR.BYE:
        if (this.#peer?.key === from) {
          this.#welcomed = false;
          if (!this.#configured) this.#peer = null;
        }
        return true;
      case OP.PAIR.WELCOME: // a late WELCOME (connect() timed out): nothing to do
        return true;
      default:
        break;
    }
    // HELLO or DATA: accept from our peer, or take the sender as our peer if we have none.
    if (this.#peer === null) this.#peer = { key: from, to: from };
    if (this.#peer.key !== from) {
      this.refusedCount++;
      this.#options.onIntruder?.(from);
      msg.reply(`pair: already paired with ${this.#peer.key}`, { header: encodeHeader(PATTERN.PAIR, OP.PAIR.REFUSED) }).catch(() => {});
      return true;
    }
    this.#failures = 0;
    this.#refused = null;
    if (h.op === OP.PAIR.HELLO) {
      msg.reply(undefined, { header: encodeHeader(PATTERN.PAIR, OP.PAIR.WELCOME) }).catch(() => {});
    } else {
      this.#onMessage(msg, h.body);
    }
    return true;
  };

  /** Says HELLO to `to` (default: the configured or learned peer) and resolves when it
   * welcomes us; rejects with PairRefusedError when it is paired with someone else, with
   * TIMEOUT when nothing answers, with VALUE_ERROR when `to` is not our configured peer. */
  connect(to?: Target): Promise<void> {
    if (to !== undefined) {
      const key = keyOf(to);
      if (this.#peer && this.#peer.key !== key) {
        return Promise.reject(new ChirpError("VALUE_ERROR", `pair: already paired with ${this.#peer.key}`));
      }
      this.#peer ??= { key, to };
    }
    const peer = this.#peer;
    if (!peer) return Promise.reject(new ChirpError("VALUE_ERROR", "pair: no peer to connect to"));
    const timeout = this.#options.timeout ?? this.#node.config.timeout;
    return new Promise<void>((resolve, reject) => {
      new Call(this.#node, {
        pattern: PATTERN.PAIR,
        op: OP.PAIR.HELLO,
        router: this.#router,
        take: (msg, h, c) => {
          if (h?.pattern !== PATTERN.PAIR || (h.op !== OP.PAIR.WELCOME && h.op !== OP.PAIR.REFUSED)) return false;
          msg.release();
          if (h.op === OP.PAIR.WELCOME) c.resolve(undefined, true);
          else c.reject(new PairRefusedError(text(msg.data), this.#node.targetOf(msg)), true);
          return true;
        },
        timeout,
        timeoutMessage: () => `pair: no answer from ${peer.key} within ${timeout} s`,
        settle: (err) => {
          if (err === undefined) {
            this.#welcomed = true;
            this.#refused = null;
            resolve();
          } else {
            if (err instanceof PairRefusedError) this.#refused = err;
            if (!this.#configured && this.#peer === peer && !(err instanceof PairRefusedError)) this.#peer = null;
            reject(err);
          }
        },
      }).send(peer.to);
    });
  }

  /** Sends `data` to the peer. Connects first when we have not been welcomed (so a refusal
   * rejects here with PairRefusedError); resolves like Chirp.send. */
  async send(data?: Uint8Array | string, options: { header?: Uint8Array | string } = {}): Promise<Uint8Array> {
    if (this.#refused) throw this.#refused;
    if (!this.#welcomed) {
      this.#connecting ??= this.connect().finally(() => (this.#connecting = null));
      await this.#connecting;
    }
    const peer = this.#peer;
    if (!peer) throw new ChirpError("VALUE_ERROR", "pair: no peer");
    try {
      const id = await this.#node.send(peer.to, data, { header: encodeHeader(PATTERN.PAIR, OP.PAIR.DATA, options.header) });
      this.#failures = 0;
      return id;
    } catch (e) {
      if (++this.#failures >= (this.#options.maxFailures ?? 1)) {
        this.#welcomed = false;
        if (!this.#configured && this.#peer === peer) this.#peer = null;
      }
      throw e;
    }
  }

  /** Without a callback: every message in order, until close(). */
  [Symbol.asyncIterator](): AsyncIterator<{ msg: Message; header: Uint8Array }> {
    return this.#iterate();
  }

  /** Says BYE to the peer (best effort) and stops taking pair messages. */
  async close(): Promise<void> {
    const peer = this.#peer;
    this.#renewal?.close();
    this.#remove();
    this.#inbox.end();
    if (peer && this.#welcomed) await this.#node.send(peer.to, undefined, { header: encodeHeader(PATTERN.PAIR, OP.PAIR.BYE) }).catch(() => {});
    this.#welcomed = false;
    if (!this.#configured) this.#peer = null;
  }
}

/** A pair endpoint on `node`; `onMessage(msg, applicationHeader)` gets the peer's DATA. */
export function pair(node: Chirp, onMessage?: ((msg: Message, header: Uint8Array) => void) | null, options: PairOptions = {}): Pair {
  return new Pair(node, onMessage ?? undefined, options);
}
