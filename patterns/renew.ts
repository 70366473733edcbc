// Renewal: what a pattern role told a peer (a subscriber's subscriptions, a worker's JOIN, a
// pair's HELLO, a bus member's JOIN) is told again when the peer may have forgotten it, so
// roles survive a peer restart. Written once for the patterns that keep state at a peer.
//
// When: (1) the peer's node identity changed (the "identity" event: it restarted; the
// handshake carries the identity, protocol.md §1.4), or (2) a connection to the peer that had
// been open closed (the "close" event with `opened`: the peer died, or the connection idled
// out, after which renewing costs one message and keeps a connection whose loss is seen).
// Dials that never opened are the renewal's own failures and do not start another one.
//
// How: at most one renewal runs per peer. It calls `renew(key)`; when that rejects (the peer
// is unreachable, or did not answer within the role's timeout) it tries again after a delay
// that starts at 50 ms and doubles up to `retryInterval` seconds (jittered below it), up to
// `maxRetries` attempts, then gives up (`onGiveUp`) until the next event. A trigger during a
// renewal makes it run once more. A SHUTDOWN (our node is closing) ends it. So once the peer
// listens again, its state is back within retryInterval plus one exchange.
//
// Peers are matched by Chirp.targetOf(event) or "address:port", against the keys the role
// watches (the targets as the user gave them). Uses the public API only.
import { ChirpError, type Chirp } from "../adapters/mod.ts";
import { targetKey } from "./header.ts";

/** How a role renews its state at a peer that restarted or was unreachable. */
export interface RenewOptions {
  /** Longest wait between two attempts while the peer is unreachable, in seconds (default:
   * the role's timeout). Renewal after a restart takes at most this plus one exchange. */
  retryInterval?: number;
  /** Attempts per renewal before it gives up until the next event (default: no limit; the
   * attempts are spaced by the doubling delay, so an unreachable peer costs one attempt per
   * retryInterval). */
  maxRetries?: number;
  /** Called when a renewal gave up after maxRetries, with the peer and the last error. */
  onGiveUp?: (peer: string, err: unknown) => void;
  /** Called after each successful renewal (the peer's state is back). */
  onRenewed?: (peer: string) => void;
}

/** First retry delay (ms); it doubles up to retryInterval. */
const FIRST_DELAY_MS = 50;

interface Run {
  again: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
  wake: (() => void) | undefined;
}

/** Renews a role's state at the peers it watches (see the file comment). */
export class Renewal {
  readonly #node: Chirp;
  readonly #renew: (key: string) => Promise<void>;
  readonly #capMs: number;
  readonly #maxRetries: number;
  readonly #options: RenewOptions;
  readonly #watched = new Set<string>();
  readonly #runs = new Map<string, Run>();
  readonly #off: (() => void)[];
  #closed = false;
  /** Renewals started (by events or now()). */
  started = 0;
  /** Attempts that failed and were retried or gave up. */
  failedAttempts = 0;

  /** Renews with `renew(key)` on `node`'s events; `timeout` (seconds) is the default
   * retryInterval. Call watch(key) for each peer. */
  constructor(node: Chirp, renew: (key: string) => Promise<void>, timeout: number, options: RenewOptions = {}) {
    this.#node = node;
    this.#renew = renew;
    this.#options = options;
    this.#capMs = (options.retryInterval ?? timeout) * 1000;
    this.#maxRetries = options.maxRetries ?? Infinity;
    if (!(this.#capMs > 0) || !(this.#maxRetries >= 1)) throw new ChirpError("VALUE_ERROR", "renew: retryInterval must be > 0 and maxRetries >= 1");
    this.#off = [
      node.on("identity", (e) => this.#event(e)),
      node.on("close", (e) => {
        if (e.opened) this.#event(e);
      }),
    ];
  }

  /** Renews the state at `key` when its peer restarts or its connection closes. */
  watch(key: string): void {
    this.#watched.add(key);
  }

  /** Stops watching `key` (a renewal in progress ends after its current attempt). */
  unwatch(key: string): void {
    this.#watched.delete(key);
    const run = this.#runs.get(key);
    if (run) this.#stop(key, run);
  }

  /** Whether a renewal for `key` is running (waiting for the peer). */
  renewing(key: string): boolean {
    return this.#runs.has(key);
  }

  /** Starts a renewal of `key` now (or has the running one go once more). */
  now(key: string): void {
    if (this.#closed || !this.#watched.has(key)) return;
    const run = this.#runs.get(key);
    if (run) {
      run.again = true;
      return;
    }
    const r: Run = { again: false, timer: undefined, wake: undefined };
    this.#runs.set(key, r);
    this.started++;
    void this.#loop(key, r);
  }

  /** Stops every renewal and stops listening for events. */
  close(): void {
    this.#closed = true;
    for (const off of this.#off) off();
    for (const [k, r] of this.#runs) this.#stop(k, r);
    this.#watched.clear();
  }

  #event(e: { address: string; port: number }): void {
    if (this.#watched.size === 0) return;
    const named = this.#node.targetOf(e);
    if (this.#watched.has(named)) this.now(named);
    const plain = targetKey(e.address, e.port);
    if (plain !== named && this.#watched.has(plain)) this.now(plain);
  }

  #stop(key: string, run: Run): void {
    if (this.#runs.get(key) === run) this.#runs.delete(key);
    if (run.timer !== undefined) clearTimeout(run.timer);
    run.wake?.();
  }

  async #loop(key: string, run: Run): Promise<void> {
    let delay = FIRST_DELAY_MS;
    let attempts = 0;
    const live = (): boolean => !this.#closed && this.#runs.get(key) === run;
    while (live()) {
      run.again = false;
      attempts++;
      try {
        await this.#renew(key);
        if (!live()) return;
        if (run.again) continue;
        this.#runs.delete(key);
        this.#options.onRenewed?.(key);
        return;
      } catch (err) {
        if (!live()) return;
        this.failedAttempts++;
        if ((err as { code?: string })?.code === "SHUTDOWN") return this.#stop(key, run);
        if (attempts >= this.#maxRetries) {
          this.#stop(key, run);
          this.#options.onGiveUp?.(key, err);
          return;
        }
        // Jitter (75..100 % of the delay) keeps many roles from retrying in step.
        const wait = Math.min(delay, this.#capMs) * (0.75 + Math.random() / 4);
        delay *= 2;
        await new Promise<void>((resolve) => {
          run.wake = resolve;
          run.timer = setTimeout(resolve, wait);
        });
        run.timer = undefined;
        run.wake = undefined;
      }
    }
  }
}
