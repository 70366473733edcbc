// Sends to a host name: the name is resolved (resolve.ts, one lookup for concurrent sends)
// before its remote is known, since remotes are keyed by address and port (protocol.md §5.1).
// Sends wait in a small per-name queue meanwhile; then they go to the first address that
// connects (tried in order), and later sends go straight to that remote until the cache time
// ends. A name that does not resolve fails its sends with CANNOT_CONNECT.
import { ChirpError } from "../errors.ts";
import type { NameCache } from "../resolve.ts";
import type { Remote, SendOptions } from "./records.ts";
import type { Ctx } from "./context.ts";

interface Waiting {
  data: Uint8Array;
  options: SendOptions | undefined;
  resolve: (id: Uint8Array) => void;
  reject: (e: unknown) => void;
}

/** One "name|port": idle (nothing known), resolving, probing (trying addresses in order) or
 * bound (to the remote of the address that connected, until `until`). */
interface NameEntry {
  host: string;
  port: number;
  state: "idle" | "resolving" | "probing" | "bound";
  waiting: Waiting[];
  addresses: string[];
  /** probing: the address now tried. */
  at: number;
  remote: Remote | null;
  until: number;
}

/** Most names kept; beyond it idle and bound entries are forgotten. */
const MAX_NAMES = 1024;

export class Names {
  readonly #entries = new Map<string, NameEntry>();

  constructor(readonly ctx: Ctx, readonly cache: NameCache | null) {}

  send(host: string, port: number, data: Uint8Array, options: SendOptions | undefined): Promise<Uint8Array> {
    const key = `${host}|${port}`;
    let e = this.#entries.get(key);
    if (e === undefined) {
      if (this.#entries.size >= MAX_NAMES) this.#prune();
      e = { host, port, state: "idle", waiting: [], addresses: [], at: 0, remote: null, until: 0 };
      this.#entries.set(key, e);
    }
    if (e.state === "bound") {
      const r = e.remote!;
      if (!r.freed && e.until > performance.now()) return this.ctx.sender.enqueue(r, data, options);
      e.state = "idle";
      e.remote = null;
    }
    if (e.state !== "probing" && e.waiting.length >= this.ctx.config.maxQueued) {
      return Promise.reject(new ChirpError("ENOMEM", `the queue of sends to ${host}:${port} waiting for its lookup is full (maxQueued ${this.ctx.config.maxQueued})`));
    }
    return new Promise<Uint8Array>((resolve, reject) => {
      const w: Waiting = { data, options, resolve, reject };
      if (e.state === "probing") this.#try(e, w, e.at);
      else {
        e.waiting.push(w);
        if (e.state === "idle") this.#resolve(e);
      }
    });
  }

  /** The node closes: sends still waiting for a lookup fail with `err` now. */
  close(err: ChirpError): void {
    this.cache?.close();
    for (const e of this.#entries.values()) {
      for (const w of e.waiting.splice(0)) w.reject(err);
      e.state = "idle";
    }
  }

  #prune(): void {
    for (const [k, e] of this.#entries) if (e.state === "idle" || e.state === "bound") this.#entries.delete(k);
  }

  #resolve(e: NameEntry): void {
    e.state = "resolving";
    if (this.cache === null) {
      this.#fail(e, "no resolver: the runtime has none; set config.resolve");
      return;
    }
    this.cache.lookup(e.host).then((found) => {
      if (e.state !== "resolving") return; // the node closed meanwhile
      if (this.ctx.closing) {
        this.#fail(e, "the node is closing", "SHUTDOWN");
        return;
      }
      e.addresses = found.addresses;
      e.until = found.until;
      // An address already connected goes first (no dial); else the resolver's order.
      const live = found.addresses.findIndex((a) => this.ctx.remotes.find(a, e.port)?.conns.size);
      e.at = live < 0 ? 0 : live;
      e.state = "probing";
      for (const w of e.waiting.splice(0)) this.#try(e, w, e.at);
    }, (err: unknown) => {
      if (e.state === "resolving") this.#fail(e, `cannot resolve host "${e.host}": ${(err as Error)?.message ?? String(err)}`);
    });
  }

  #fail(e: NameEntry, why: string, code: "CANNOT_CONNECT" | "SHUTDOWN" = "CANNOT_CONNECT"): void {
    e.state = "idle";
    const err = new ChirpError(code, `${why} (${e.host}:${e.port})`);
    for (const w of e.waiting.splice(0)) w.reject(err);
  }

  /** Sends `w` to address `i`; a dial failure there moves it (and the probe) to the next one. */
  #try(e: NameEntry, w: Waiting, i: number): void {
    let r: Remote;
    let p: Promise<Uint8Array>;
    try {
      if (this.ctx.closing) throw new ChirpError("SHUTDOWN", "this node is closing");
      r = this.ctx.remotes.get(e.addresses[i], e.port, performance.now());
      r.name = e.host;
      p = this.ctx.sender.enqueue(r, w.data, w.options);
    } catch (err) {
      w.reject(err);
      return;
    }
    p.then((id) => {
      if (e.state === "probing") {
        e.state = "bound";
        e.remote = r;
      }
      w.resolve(id);
    }, (err: ChirpError) => {
      const dialFailed = err?.code === "CANNOT_CONNECT" || (err?.code === "TIMEOUT" && /connect timeout/.test(err.message));
      if (e.state === "probing" && dialFailed) {
        if (e.at === i) e.at = i + 1;
        if (e.at < e.addresses.length) {
          this.#try(e, w, e.at);
          return;
        }
        e.state = "idle";
      }
      const many = e.addresses.length > 1 ? ` (every address of ${e.host}: ${e.addresses.join(", ")})` : ` (${e.host})`;
      w.reject(dialFailed ? new ChirpError(err.code, `${err.message}${many}`) : err);
    });
  }
}
