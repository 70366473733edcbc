// Host names: the resolver contract (config.resolve, or the runtime's own in
// node|deno|bun/resolve.ts, registered as Transport.resolve) and the cache in front of it:
// results live `resolveCacheTime` seconds, concurrent lookups of one name share one call, and
// a lookup that does not answer within the connect timeout fails.
import { normalizeAddress } from "./target.ts";

/** Resolves a host name to its addresses (IPv4/IPv6 text), in the order to try them. */
export type Resolve = (host: string) => Promise<string[]>;

interface Entry {
  addresses: string[];
  /** performance.now() after which the entry is looked up again. */
  until: number;
}

/** Cached results, one lookup in flight per name, a bounded number of names. */
export class NameCache {
  readonly #cache = new Map<string, Entry>();
  readonly #inflight = new Map<string, Promise<Entry>>();
  /** Lookups' timeout timers: close() stops them (a closed node keeps no timer alive). */
  readonly #timers = new Map<ReturnType<typeof setTimeout>, (e: Error) => void>();

  constructor(
    readonly resolve: Resolve,
    /** How long a result is used, in ms (0: every lookup asks the resolver). */
    readonly cacheMs: number,
    /** A lookup still pending after this many ms fails. */
    readonly timeoutMs: number,
    readonly maxNames = 1024,
  ) {}

  /** A fresh cached result, or undefined. */
  peek(host: string, now = performance.now()): Entry | undefined {
    const e = this.#cache.get(host);
    return e !== undefined && e.until > now ? e : undefined;
  }

  /** The addresses of `host` (normalised, duplicates removed): the cache's, or one lookup
   * shared by every caller while it runs. Rejects with the resolver's error, a timeout, or
   * "no addresses". */
  lookup(host: string): Promise<Entry> {
    const hit = this.peek(host);
    if (hit) return Promise.resolve(hit);
    let p = this.#inflight.get(host);
    if (p) return p;
    p = this.#ask(host).finally(() => this.#inflight.delete(host));
    this.#inflight.set(host, p);
    return p;
  }

  /** Ends the lookups in flight (they reject with "closed") and stops their timers. */
  close(): void {
    for (const [t, reject] of this.#timers) {
      clearTimeout(t);
      reject(new Error("closed"));
    }
    this.#timers.clear();
  }

  async #ask(host: string): Promise<Entry> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
      this.#timers.set(timer, reject);
    });
    let raw: unknown;
    try {
      raw = await Promise.race([Promise.resolve().then(() => this.resolve(host)), timeout]);
    } finally {
      clearTimeout(timer);
      this.#timers.delete(timer!);
    }
    if (!Array.isArray(raw)) throw new Error(`the resolver returned ${typeof raw}, not an array of addresses`);
    const addresses: string[] = [];
    for (const a of raw) {
      const n = typeof a === "string" ? normalizeAddress(a) : null;
      if (n === null) throw new Error(`the resolver returned ${JSON.stringify(a)}, not an IP address`);
      if (!addresses.includes(n)) addresses.push(n);
    }
    if (addresses.length === 0) throw new Error("no addresses");
    const e = { addresses, until: performance.now() + this.cacheMs };
    if (this.cacheMs > 0) {
      if (this.#cache.size >= this.maxNames) this.#cache.clear();
      this.#cache.set(host, e);
    }
    return e;
  }
}
