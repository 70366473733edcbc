// The remote table (protocol.md §5.1): the JavaScript object of each of the core's remotes, by
// the core's remote index, and caches from "address|port" keys and from the target strings a
// send named (the hot path) to them. The core finds or makes remotes (remoteOpen, and for
// incoming connections at their handshake); this table only maps indices to objects.
import type { Core } from "../core/core.ts";
import { ChirpError } from "../errors.ts";
import type { Tally } from "../monitor/stats.ts";
import { Remote } from "./records.ts";

export class RemoteTable {
  readonly #byIdx: (Remote | undefined)[] = [];
  readonly #byKey = new Map<string, Remote>();
  #size = 0;
  /** Target strings given to send() -> remote (cleared when it grows past 1024). */
  readonly byTarget = new Map<string, Remote>();

  /** Called with a remote the core evicted (an idle one, to make room: protocol.md §5.1). */
  onEvicted: (r: Remote) => void = () => {};

  constructor(readonly core: Core, readonly maxRemotes: number, readonly total: Tally) {}

  get size(): number {
    return this.#size;
  }

  *values(): IterableIterator<Remote> {
    for (const r of this.#byIdx) if (r) yield r;
  }

  /** The remote for a core index (events name remotes by index). */
  at(idx: number): Remote | undefined {
    return this.#byIdx[idx];
  }

  /** The remote for (address, port): the core's (remoteOpen finds or makes it). */
  get(address: string, port: number, now: number): Remote {
    const key = `${address}|${port}`;
    const hit = this.#byKey.get(key);
    if (hit && !hit.freed) return hit;
    const core = this.core;
    core.setAddress(address);
    const idx = core.x.remoteOpen(port, now);
    if (idx < 0) throw new ChirpError("ENOMEM", `too many remotes (maxRemotes ${this.maxRemotes}, each with a connection or work pending): cannot send to ${address}:${port}`);
    const r = this.adopt(idx, address, port);
    this.#byKey.set(key, r);
    return r;
  }

  /** The live remote for (address, port), if there is one (makes none). */
  find(address: string, port: number): Remote | undefined {
    const hit = this.#byKey.get(`${address}|${port}`);
    return hit && !hit.freed ? hit : undefined;
  }

  /** The object for the core's remote `idx`, made on first sight (an incoming connection's
   * handshake names a remote the core made itself). An object there for another peer is one
   * the core evicted to make this one (remoteOpen, handshake): it is forgotten first. */
  adopt(idx: number, address: string, port: number): Remote {
    const key = `${address}|${port}`;
    let r = this.#byIdx[idx];
    if (r && r.key === key) return r;
    if (r) {
      this.delete(r);
      this.onEvicted(r);
    }
    r = new Remote(idx, key, address, port, this.total);
    this.#byIdx[idx] = r;
    this.#size++;
    if (!this.#byKey.get(r.key)) this.#byKey.set(r.key, r);
    return r;
  }

  /** Forgets a remote (the caller closed its connections and freed it in the core). */
  delete(r: Remote): void {
    if (this.#byKey.get(r.key) === r) this.#byKey.delete(r.key);
    if (this.#byIdx[r.idx] === r) {
      this.#byIdx[r.idx] = undefined;
      this.#size--;
    }
  }
}
