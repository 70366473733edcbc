// Publish/subscribe: subscribers tell a publisher which topic prefixes they want; the
// publisher sends each published message to every subscriber with a matching prefix.
//
//   publisher(node, { maxFailures, onDrop })    -> Publisher
//     .publish(topic, data)                     -> Promise<PublishReport>
//   subscriber(node, (topic, msg) => ...)       -> Subscriber
//     .subscribe(publisher, prefix) / .unsubscribe(publisher, prefix) -> Promise<void>
//
// A subscription is a SUBSCRIBE 0x20/1 message whose header body is the prefix; the publisher
// answers ACK 0x20/4 with its identity, so subscribe() resolves once the publisher recorded
// it (in either mode) and rejects with TIMEOUT when nothing answers. Prefixes are bytes
// compared bytewise; "" matches every topic. The publisher keys subscribers by their
// address and listening port; a SUBSCRIBE from the same address:port with a new node
// identity (the subscriber restarted) replaces the old subscriptions. A subscriber whose
// sends fail `maxFailures` times in a row (default 1: it went away) is dropped with all its
// subscriptions; so is one whose node identity changed (it restarted: its new process
// subscribes anew). Subscribers filter too (as nng's SUB does), so a message for a topic they
// no longer want is dropped on arrival.
//
// Restarts (patterns/renew.ts): a subscriber renews all its subscriptions at a publisher when
// the publisher's identity changes or a connection to it closes, retrying with a doubling
// delay up to `renew.retryInterval` (default its timeout) while the publisher is unreachable,
// so deliveries resume within that plus one exchange after the publisher listens again.
// What is published meanwhile, or before the subscriber renewed, is not delivered to it.
import { ChirpError, type Chirp, type Message, type Target } from "../../adapters/mod.ts";
import { OP, PATTERN, bytes, decodeHeader, encodeHeader, hex, startsWith, targetKey, text } from "../header.ts";
import { routerOf, type MessageHandler, type Router } from "../router.ts";
import { call } from "../call.ts";
import { Inbox, deliver } from "../inbox.ts";
import { Renewal, type RenewOptions } from "../renew.ts";

/** What one `publish()` did: to how many subscribers it went, which failed, who was dropped. */
export interface PublishReport {
  /** Subscribers the message went to (send resolved). */
  delivered: number;
  /** Subscribers whose send failed, with the error. */
  failed: { subscriber: string; error: unknown }[];
  /** Subscribers dropped by this publish (after maxFailures). */
  dropped: string[];
}

/** One subscriber as the publisher records it (`Publisher.subscribers`). */
export interface SubscriberInfo {
  /** "address:port" of the subscriber. */
  target: string;
  /** Its topic prefixes (UTF-8 decoded). */
  prefixes: string[];
}

interface Sub {
  target: string;
  identity: string;
  prefixes: Map<string, Uint8Array>;
  failures: number;
}

/** When a publisher drops a subscriber, and the callbacks for drops and (un)subscriptions. */
export interface PublisherOptions {
  /** Consecutive failed sends after which a subscriber is dropped (default 1). */
  maxFailures?: number;
  /** Called when a subscriber is dropped. */
  onDrop?: (subscriber: string, err: unknown) => void;
  /** Called when a subscription is added or removed. */
  onSubscription?: (subscriber: string, prefix: Uint8Array, subscribed: boolean) => void;
}

/** Topics whose bytes and PUBLISH header a publisher keeps (then it starts over). */
const TOPIC_CACHE = 256;

/** Sends each published message to every subscriber with a matching topic prefix and keeps
 * the subscriptions (see the file comment; made by `publisher()`). */
export class Publisher {
  readonly #node: Chirp;
  readonly #subs = new Map<string, Sub>();
  readonly #topics = new Map<string, { t: Uint8Array; header: Uint8Array }>();
  readonly #maxFailures: number;
  readonly #options: PublisherOptions;
  readonly #remove: () => void;
  readonly #offIdentity: () => void;

  /** Registers on `router` (default: the node's, `routerOf(node)`). Throws VALUE_ERROR for
   * maxFailures below 1. */
  constructor(node: Chirp, options: PublisherOptions = {}, router: Router = routerOf(node)) {
    this.#node = node;
    this.#options = options;
    this.#maxFailures = options.maxFailures ?? 1;
    if (!(this.#maxFailures >= 1)) throw new ChirpError("VALUE_ERROR", "publisher: maxFailures must be >= 1");
    this.#remove = router.use(this.handler);
    // A subscriber that restarted forgot what it subscribed to; its new process subscribes
    // anew (a SUBSCRIBE that came first already carries the new identity and stays).
    this.#offIdentity = node.on("identity", (e) => {
      for (const key of new Set([node.targetOf(e), targetKey(e.address, e.port)])) {
        const sub = this.#subs.get(key);
        if (sub && sub.identity !== e.current) {
          this.#subs.delete(key);
          this.#options.onDrop?.(key, new ChirpError("CANNOT_CONNECT", `subscriber ${key} restarted (node identity ${e.current})`));
        }
      }
    });
  }

  /** Takes SUBSCRIBE and UNSUBSCRIBE messages (registered on the node's router). */
  readonly handler: MessageHandler = (msg) => {
    const h = decodeHeader(msg.header);
    if (h?.pattern !== PATTERN.PUBSUB || (h.op !== OP.PUBSUB.SUBSCRIBE && h.op !== OP.PUBSUB.UNSUBSCRIBE)) return false;
    const key = this.#node.targetOf(msg);
    const id = hex(msg.remoteIdentity);
    const prefix = h.body.slice();
    msg.release();
    let sub = this.#subs.get(key);
    if (h.op === OP.PUBSUB.SUBSCRIBE) {
      if (!sub || sub.identity !== id) {
        sub = { target: key, identity: id, prefixes: new Map(), failures: 0 };
        this.#subs.set(key, sub);
      }
      sub.prefixes.set(hex(prefix), prefix);
      sub.failures = 0;
      this.#options.onSubscription?.(key, prefix, true);
    } else if (sub && sub.prefixes.delete(hex(prefix))) {
      if (sub.prefixes.size === 0) this.#subs.delete(key);
      this.#options.onSubscription?.(key, prefix, false);
    }
    msg.reply(undefined, { header: encodeHeader(PATTERN.PUBSUB, OP.PUBSUB.ACK) }).catch(() => {});
    return true;
  };

  /** Current subscribers and their prefixes. */
  get subscribers(): SubscriberInfo[] {
    return [...this.#subs.values()].map((s) => ({ target: s.target, prefixes: [...s.prefixes.values()].map(text) }));
  }

  /** Sends `data` under `topic` to every subscriber with a matching prefix (once each) and
   * resolves when every send settled. The header body carries the topic, so a PUBLISH has no
   * application header: put everything else in `data`. */
  async publish(topic: Uint8Array | string, data?: Uint8Array | string): Promise<PublishReport> {
    let t: Uint8Array, header: Uint8Array;
    const known = typeof topic === "string" ? this.#topics.get(topic) : undefined;
    if (known !== undefined) ({ t, header } = known);
    else {
      t = bytes(topic);
      header = encodeHeader(PATTERN.PUBSUB, OP.PUBSUB.PUBLISH, t);
      if (typeof topic === "string") {
        // A publisher's topics are few and repeat: their bytes and header are made once (the
        // send copies the header, so one can serve every publish). Bounded, for callers that
        // make up a topic per message.
        if (this.#topics.size >= TOPIC_CACHE) this.#topics.clear();
        this.#topics.set(topic, { t, header });
      }
    }
    const targets: Sub[] = [];
    for (const s of this.#subs.values()) {
      for (const p of s.prefixes.values()) {
        if (startsWith(t, p)) {
          targets.push(s);
          break;
        }
      }
    }
    const report: PublishReport = { delivered: 0, failed: [], dropped: [] };
    await Promise.all(targets.map((s) => this.#node.send(s.target, data, { header }).then(
      () => {
        s.failures = 0;
        report.delivered++;
      },
      (error) => {
        report.failed.push({ subscriber: s.target, error });
        if (++s.failures >= this.#maxFailures && this.#subs.get(s.target) === s) {
          this.#subs.delete(s.target);
          report.dropped.push(s.target);
          this.#options.onDrop?.(s.target, error);
        }
      },
    )));
    return report;
  }

  /** Stops taking subscriptions (they then fall to the node's other handlers). */
  close(): void {
    this.#remove();
    this.#offIdentity();
    this.#subs.clear();
  }
}

/** A publisher on `node`. */
export function publisher(node: Chirp, options: PublisherOptions = {}): Publisher {
  return new Publisher(node, options);
}

/** How long a subscriber waits for a publisher to acknowledge (un)subscribing. */
export interface SubscriberOptions {
  /** Seconds to wait for the publisher's ACK (default: the node's config.timeout). */
  timeout?: number;
  /** Renewing the subscriptions at a publisher that restarted or was unreachable (see
   * patterns/renew.ts; default on, retrying up to every `timeout` seconds); false: never. */
  renew?: RenewOptions | false;
}

/** Subscribes to topic prefixes at publishers and takes what they publish, by callback or
 * `for await` (see the file comment; made by `subscriber()`). */
export class Subscriber {
  readonly #node: Chirp;
  readonly #router: Router;
  readonly #onMessage: (topic: string, msg: Message) => void;
  readonly #inbox = new Inbox<{ topic: string; msg: Message }>();
  readonly #iterate: () => AsyncIterator<{ topic: string; msg: Message }>;
  readonly #timeout: number;
  /** Prefixes per publisher, as given (a key per target string). */
  readonly #subs = new Map<string, { to: Target; prefixes: Map<string, Uint8Array> }>();
  readonly #remove: () => void;
  readonly #renewal: Renewal | null;
  /** Messages dropped because no local subscription matched their topic. */
  filtered = 0;

  /** `onMessage(topic, msg)` gets each matching message (already released); without it, read
   * them with `for await`. Registers on `router` (default: the node's, `routerOf(node)`). */
  constructor(node: Chirp, onMessage: ((topic: string, msg: Message) => void) | undefined, options: SubscriberOptions = {}, router: Router = routerOf(node)) {
    this.#node = node;
    this.#router = router;
    const d = deliver("subscriber", onMessage, this.#inbox, (topic, msg) => ({ topic, msg }));
    this.#onMessage = d.fn;
    this.#iterate = d.iterate;
    this.#timeout = options.timeout ?? node.config.timeout;
    this.#renewal = options.renew === false ? null : new Renewal(node, (key) => this.#resubscribe(key), this.#timeout, options.renew);
    this.#remove = router.use(this.handler);
  }

  /** Renewals started (a publisher restarted or its connection closed); see patterns/renew.ts. */
  get renewals(): number {
    return this.#renewal?.started ?? 0;
  }

  /** Subscribes again to every prefix at the publisher `key` (a renewal). */
  async #resubscribe(key: string): Promise<void> {
    const s = this.#subs.get(key);
    if (!s) return;
    await Promise.all([...s.prefixes.values()].map((p) => this.#control(s.to, OP.PUBSUB.SUBSCRIBE, p)));
  }

  /** Takes PUBLISH messages (registered on the node's router). The message is released
   * before `onMessage` sees it. */
  readonly handler: MessageHandler = (msg) => {
    const h = decodeHeader(msg.header);
    if (h?.pattern !== PATTERN.PUBSUB || h.op !== OP.PUBSUB.PUBLISH) return false;
    msg.release();
    if (!this.#wants(h.body)) {
      this.filtered++;
      return true;
    }
    this.#onMessage(this.#topicText(h.body), msg);
    return true;
  };

  #lastTopic: Uint8Array = new Uint8Array(0);
  #lastText = "";

  /** The topic as text: decoded once while messages keep coming under the same topic. */
  #topicText(b: Uint8Array): string {
    const last = this.#lastTopic;
    if (b.length === last.length) {
      let i = 0;
      while (i < b.length && b[i] === last[i]) i++;
      if (i === b.length) return this.#lastText;
    }
    this.#lastTopic = b.slice();
    return (this.#lastText = text(b));
  }

  #wants(topic: Uint8Array): boolean {
    for (const s of this.#subs.values()) for (const p of s.prefixes.values()) if (startsWith(topic, p)) return true;
    return false;
  }

  /** Subscribes to topics starting with `prefix` ("" = all) at `publisher`; resolves when the
   * publisher acknowledged it. On failure the local subscription is taken back; so it is when
   * `signal` aborts first (rejecting with the signal's reason; a SUBSCRIBE already sent may
   * still be recorded by the publisher, and a later unsubscribe removes it). */
  async subscribe(publisher: Target, prefix: Uint8Array | string = "", options: { signal?: AbortSignal } = {}): Promise<void> {
    const p = bytes(prefix).slice();
    const key = typeof publisher === "string" ? publisher : targetKey(publisher.address, publisher.port);
    let s = this.#subs.get(key);
    if (!s) this.#subs.set(key, (s = { to: publisher, prefixes: new Map() }));
    const had = s.prefixes.has(hex(p));
    s.prefixes.set(hex(p), p); // accept matching messages from now on, so none is missed
    try {
      await this.#control(publisher, OP.PUBSUB.SUBSCRIBE, p, options.signal);
      if (this.#subs.get(key) === s) this.#renewal?.watch(key);
    } catch (e) {
      if (!had && this.#subs.get(key) === s) {
        s.prefixes.delete(hex(p));
        if (s.prefixes.size === 0) this.#subs.delete(key);
      }
      throw e;
    }
  }

  /** Removes a subscription at `publisher`; resolves when the publisher acknowledged it. */
  async unsubscribe(publisher: Target, prefix: Uint8Array | string = ""): Promise<void> {
    const p = bytes(prefix);
    const key = typeof publisher === "string" ? publisher : targetKey(publisher.address, publisher.port);
    const s = this.#subs.get(key);
    if (s) {
      s.prefixes.delete(hex(p));
      if (s.prefixes.size === 0) {
        this.#subs.delete(key);
        this.#renewal?.unwatch(key);
      }
    }
    await this.#control(publisher, OP.PUBSUB.UNSUBSCRIBE, p);
  }

  /** Without a callback: every message in order, until close(). */
  [Symbol.asyncIterator](): AsyncIterator<{ topic: string; msg: Message }> {
    return this.#iterate();
  }

  /** Unsubscribes everything (best effort) and stops taking messages. */
  async close(): Promise<void> {
    const all = [...this.#subs.values()].flatMap((s) => [...s.prefixes.values()].map((p) => [s.to, p] as const));
    this.#subs.clear();
    this.#renewal?.close();
    await Promise.allSettled(all.map(([to, p]) => this.#control(to, OP.PUBSUB.UNSUBSCRIBE, p)));
    this.#remove();
    this.#inbox.end();
  }

  #control(to: Target, op: number, prefix: Uint8Array, signal?: AbortSignal): Promise<void> {
    const label = typeof to === "string" ? to : targetKey(to.address, to.port);
    return call(this.#node, to, undefined, {
      signal,
      pattern: PATTERN.PUBSUB,
      op,
      header: prefix,
      router: this.#router,
      take: (msg, h, c) => {
        if (h?.pattern !== PATTERN.PUBSUB || h.op !== OP.PUBSUB.ACK) return false;
        msg.release();
        c.resolve(undefined, true);
        return true;
      },
      timeout: this.#timeout,
      timeoutMessage: () => `no acknowledgement from publisher ${label} within ${this.#timeout} s`,
    });
  }
}

/** A subscriber on `node`; `onMessage(topic, msg)` gets every matching message (released). */
export function subscriber(node: Chirp, onMessage?: ((topic: string, msg: Message) => void) | null, options: SubscriberOptions = {}): Subscriber {
  return new Subscriber(node, onMessage ?? undefined, options);
}
