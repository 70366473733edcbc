// The remote table (protocol.md §5.1): one Remote per peer node, by (address, listening port), by the
// core's remote index, and by the target string a send named (the hot path's cache).
import type { Core } from "../core.ts";
import { ChirpError } from "../errors.ts";
import type { Tally } from "../monitor/stats.ts";
import { Remote } from "./records.ts";

export class RemoteTable {
  readonly #byKey = new Map<string, Remote>();
  readonly #byIdx: (Remote | undefined)[] = [];
  /** Target strings given to send() -> remote (cleared when it grows past 1024). */
  readonly byTarget = new Map<string, Remote>();

  constructor(readonly core: Core, readonly maxRemotes: number, readonly total: Tally) {}

  get size(): number {
    return this.#byKey.size;
  }

  values(): IterableIterator<Remote> {
    return this.#byKey.values();
  }

  /** The remote for a core index (events name remotes by index). */
  at(idx: number): Remote | undefined {
    return this.#byIdx[idx];
  }

  /** The remote for (address, port), made (and allocated in the core) on first use. */
  get(address: string, port: number, now: number): Remote {
    const key = `${address}|${port}`;
    let r = this.#byKey.get(key);
    if (r) return r;
    const idx = this.core.x.remoteAlloc(now);
    if (idx < 0) throw new ChirpError("ENOMEM", `too many remotes (maxRemotes ${this.maxRemotes})`);
    r = new Remote(idx, key, address, port, this.total);
    this.#byKey.set(key, r);
    this.#byIdx[idx] = r;
    return r;
  }

  /** Forgets a remote (the caller closed its connections and freed it in the core). */
  delete(r: Remote): void {
    this.#byKey.delete(r.key);
    if (this.#byIdx[r.idx] === r) this.#byIdx[r.idx] = undefined;
  }
}
