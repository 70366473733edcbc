// Bus: every member sends to every other member it knows (nng's BUS: one hop, no
// forwarding). Membership is the explicit peer list plus every node a bus message came from
// (DATA 0x70/1 or JOIN 0x70/2); LEAVE 0x70/3 removes the sender.
//
//   bus(node, (msg, header) => ..., { peers, maxFailures }) -> Bus
//     .send(data, { header }) -> Promise<BusReport>
//     .join()                 -> announce this node to the explicit peers
//     .close()                -> LEAVE to every member
//
// Members are keyed "host:port"; a sender by Chirp.targetOf (the host name a send reached it
// by, else its address), so that a named peer and the same peer seen as a sender are one
// member. A learned member whose sends fail
// `maxFailures` times in a row (default 3) is dropped; explicit peers stay (they may come
// back) until remove().
//
// Restarts: a member that restarted forgot the members it had learned. Explicit peers are
// sent JOIN again when their node identity changes or a connection to them closes
// (patterns/renew.ts: retried with a doubling delay up to `timeout` seconds while they are
// unreachable); a learned member whose identity changed is sent one JOIN. So a restarted
// member knows its members again within that plus one exchange, before anyone sends DATA.
import { ChirpError, type Chirp, type Message, type Target } from "../../adapters/mod.ts";
import { OP, PATTERN, decodeHeader, encodeHeader, targetKey } from "../header.ts";
import { routerOf, sameId, type MessageHandler } from "../router.ts";
import { Inbox, deliver } from "../inbox.ts";
import { Renewal, type RenewOptions } from "../renew.ts";

/** What one bus send (or join/close announcement) did, member by member. */
export interface BusReport {
  /** Members the message went to (their send resolved). */
  delivered: number;
  /** Members whose send failed ("host:port"), with the send's error. */
  failed: { member: string; error: unknown }[];
  /** Learned members dropped by this send (their `maxFailures`-th failure in a row). */
  dropped: string[];
}

interface Member {
  key: string;
  to: Target;
  explicit: boolean;
  failures: number;
}

/** A bus member's explicit peers, when it drops learned members, its membership callback. */
export interface BusOptions {
  /** Members known from the start. */
  peers?: Target[];
  /** Consecutive failed sends after which a learned member is dropped (default 3). */
  maxFailures?: number;
  /** Called when a member is learned (true) or dropped/left (false). */
  onMembership?: (member: string, joined: boolean) => void;
  /** Seconds between two JOIN attempts at most while an explicit peer is unreachable after
   * a restart or a closed connection (default: the node's config.timeout). */
  timeout?: number;
  /** Joining explicit peers again after they restarted or were unreachable
   * (patterns/renew.ts); false: never. */
  renew?: RenewOptions | false;
}

const keyOf = (t: Target): string => (typeof t === "string" ? t : targetKey(t.address, t.port));

/** One member of a bus: sends to every member it knows, takes what they send (by callback or
 * `for await`) and learns members from their messages (see the file comment; `bus()`). */
export class Bus {
  readonly #node: Chirp;
  readonly #members = new Map<string, Member>();
  readonly #onMessage: (msg: Message, header: Uint8Array) => void;
  readonly #inbox = new Inbox<{ msg: Message; header: Uint8Array }>();
  readonly #iterate: () => AsyncIterator<{ msg: Message; header: Uint8Array }>;
  readonly #maxFailures: number;
  readonly #onMembership?: (member: string, joined: boolean) => void;
  readonly #remove: () => void;
  readonly #renewal: Renewal | null;
  readonly #offIdentity: () => void;
  #closed = false;

  /** `onMessage(msg, applicationHeader)` gets each DATA message (already released); without it,
   * read them with `for await`. Throws VALUE_ERROR for maxFailures below 1. */
  constructor(node: Chirp, onMessage: ((msg: Message, header: Uint8Array) => void) | undefined, options: BusOptions = {}) {
    this.#node = node;
    const d = deliver("bus", onMessage, this.#inbox, (msg, header) => ({ msg, header }));
    this.#onMessage = d.fn;
    this.#iterate = d.iterate;
    this.#maxFailures = options.maxFailures ?? 3;
    this.#onMembership = options.onMembership;
    if (!(this.#maxFailures >= 1)) throw new ChirpError("VALUE_ERROR", "bus: maxFailures must be >= 1");
    const timeout = options.timeout ?? node.config.timeout;
    this.#renewal = options.renew === false ? null : new Renewal(node, (key) => this.#joinOne(key), timeout, options.renew);
    for (const p of options.peers ?? []) this.add(p);
    this.#remove = routerOf(node).use(this.handler);
    // A learned member that restarted does not know us any more: one JOIN (explicit peers
    // are the renewal's).
    this.#offIdentity = node.on("identity", (e) => {
      if (this.#closed) return;
      const m = this.#members.get(node.targetOf(e)) ?? this.#members.get(targetKey(e.address, e.port));
      if (m && !m.explicit) this.#node.send(m.to, undefined, { header: encodeHeader(PATTERN.BUS, OP.BUS.JOIN) }).catch(() => {});
    });
  }

  /** Sends JOIN to one member (a renewal); rejects when the send fails. */
  async #joinOne(key: string): Promise<void> {
    const m = this.#members.get(key);
    if (!m || this.#closed) return;
    await this.#node.send(m.to, undefined, { header: encodeHeader(PATTERN.BUS, OP.BUS.JOIN) });
  }

  /** Takes bus messages (registered on the node's router); released before onMessage. */
  readonly handler: MessageHandler = (msg) => {
    const h = decodeHeader(msg.header);
    if (h?.pattern !== PATTERN.BUS) return false;
    msg.release();
    if (sameId(msg.remoteIdentity, this.#node.identity)) return true; // from ourselves
    const key = this.#node.targetOf(msg);
    if (h.op === OP.BUS.LEAVE) {
      const m = this.#members.get(key);
      if (m && !m.explicit) {
        this.#members.delete(key);
        this.#onMembership?.(key, false);
      }
      return true;
    }
    const m = this.#members.get(key);
    if (!m) {
      this.#members.set(key, { key, to: key, explicit: false, failures: 0 });
      this.#onMembership?.(key, true);
    } else {
      m.failures = 0;
    }
    if (h.op === OP.BUS.DATA) this.#onMessage(msg, h.body);
    return true;
  };

  /** The members this node sends to. */
  get members(): string[] {
    return [...this.#members.keys()];
  }

  /** Adds an explicit member. */
  add(peer: Target): void {
    const key = keyOf(peer);
    const m = this.#members.get(key);
    if (m) m.explicit = true;
    else this.#members.set(key, { key, to: peer, explicit: true, failures: 0 });
    this.#renewal?.watch(key);
  }

  /** Forgets a member (explicit or learned). It is learned again if it sends to us. */
  remove(peer: Target): void {
    this.#members.delete(keyOf(peer));
    this.#renewal?.unwatch(keyOf(peer));
  }

  /** Sends `data` to every member; resolves when every send settled. */
  send(data?: Uint8Array | string, options: { header?: Uint8Array | string } = {}): Promise<BusReport> {
    if (this.#closed) return Promise.reject(new ChirpError("SHUTDOWN", "bus: closed"));
    return this.#fan(OP.BUS.DATA, data, options.header);
  }

  /** Announces this node to every member it knows (so they learn it before it sends). */
  join(): Promise<BusReport> {
    return this.#fan(OP.BUS.JOIN);
  }

  /** Without a callback: every message in order, until close(). */
  [Symbol.asyncIterator](): AsyncIterator<{ msg: Message; header: Uint8Array }> {
    return this.#iterate();
  }

  /** Tells every member this node leaves, and stops taking bus messages. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#renewal?.close();
    this.#offIdentity();
    await this.#fan(OP.BUS.LEAVE);
    this.#remove();
    this.#inbox.end();
  }

  async #fan(op: number, data?: Uint8Array | string, appHeader?: Uint8Array | string): Promise<BusReport> {
    const header = encodeHeader(PATTERN.BUS, op, appHeader);
    const report: BusReport = { delivered: 0, failed: [], dropped: [] };
    await Promise.all([...this.#members.values()].map((m) => this.#node.send(m.to, data, { header }).then(
      () => {
        m.failures = 0;
        report.delivered++;
      },
      (error) => {
        report.failed.push({ member: m.key, error });
        if (++m.failures >= this.#maxFailures && !m.explicit && this.#members.get(m.key) === m) {
          this.#members.delete(m.key);
          report.dropped.push(m.key);
          this.#onMembership?.(m.key, false);
        }
      },
    )));
    return report;
  }
}

/** A bus member on `node`; `onMessage(msg, applicationHeader)` gets every bus DATA message. */
export function bus(node: Chirp, onMessage?: ((msg: Message, header: Uint8Array) => void) | null, options: BusOptions = {}): Bus {
  return new Bus(node, onMessage ?? undefined, options);
}
