// The restart tests' driver (patterns/*/restart.test.ts): one pattern role in a child process
// (test/fixtures/restart-peer.ts) on another runtime than the test, SIGKILLed and restarted on
// the same port; the test's own nodes play the other role. It timestamps the child's lines,
// keeps a tally of what was sent and received (by id "<run>:<seq>"), measures the time from
// the restarted child listening to the first message that flows again, and prints one row of
// the restart table per test ("restart-row {json}", collected by scripts/restart-table.mjs
// into docs/patterns.md).
import process from "node:process";
import type { RuntimeName } from "../../adapters/runtime.ts";
import { Child } from "./process.ts";
import { runtime } from "./runtime.ts";
import { sleep, until } from "./wait.ts";

/** The timeout (seconds) of every node in the restart tests: short, so the tests are fast. */
export const TIMEOUT = 1;
/** Synchronous mode (default), or asynchronous with RESTART_MODE=async. */
export const SYNC = process.env.RESTART_MODE !== "async";
/** The config of the test's own nodes. */
export const NODE = { timeout: TIMEOUT, synchronous: SYNC };
/** Send interval of the senders (ms). */
export const EVERY = 20;

/** The runtime the child runs on: the one after the test's own (node -> deno -> bun -> node). */
export const childRuntime: RuntimeName = ({ node: "deno", deno: "bun", bun: "node" } as const)[runtime];

/** Ids sent and received, with arrival times. */
export class Tally {
  /** Sends started and settled: id -> outcome (a count, "ok", or an error code). */
  readonly sent = new Map<string, string>();
  /** Receipts per id. */
  readonly got = new Map<string, number>();
  /** Arrival time (performance.now()) of each id's first receipt. */
  readonly at = new Map<string, number>();

  send(id: string, outcome: string): void {
    this.sent.set(id, outcome);
  }

  receive(id: string, t = performance.now()): void {
    this.got.set(id, (this.got.get(id) ?? 0) + 1);
    if (!this.at.has(id)) this.at.set(id, t);
  }

  /** The first receipt at or after `t` whose id matches `run` (any run when omitted). */
  firstAfter(t: number, run?: string): number | undefined {
    let best: number | undefined;
    for (const [id, a] of this.at) if (a >= t && (run === undefined || id.startsWith(`${run}:`)) && (best === undefined || a < best)) best = a;
    return best;
  }

  /** Ids sent (or received: a send whose line was lost with a killed process) never received. */
  lost(filter: (id: string) => boolean = () => true): number {
    let n = 0;
    for (const id of this.sent.keys()) if (filter(id) && !this.got.has(id)) n++;
    return n;
  }

  /** Receipts beyond the first, over all ids. */
  duplicated(): number {
    let n = 0;
    for (const c of this.got.values()) n += c - 1;
    return n;
  }
}

/** The role in the child process: start, SIGKILL, restart on the same port. */
export class Role {
  child!: Child & { port: number };
  port = 0;
  run = 0;
  /** When the current run printed "ready" (performance.now()). */
  readyAt = 0;
  /** When the previous run was killed. */
  killedAt = 0;

  constructor(readonly role: string, readonly tally: Tally, readonly options: { peer?: number; sync?: boolean } = {}, readonly rt: RuntimeName = childRuntime) {}

  /** Starts (or restarts) the child and resolves when it listens. */
  async start(): Promise<void> {
    this.run++;
    const cfg = { role: this.role, run: this.run, port: this.port, peer: this.options.peer, timeout: TIMEOUT, sync: this.options.sync ?? SYNC, every: EVERY };
    const c = new Child("test/fixtures/restart-peer.ts", [JSON.stringify(cfg)], { runtime: this.rt });
    c.onEvent((e) => {
      const t = performance.now();
      const text = typeof e.text === "string" ? e.text : "";
      const [what, id, outcome] = text.split(" ");
      if (what === "got" || what === "done") this.tally.receive(id, t);
      else if (what === "sent") this.tally.send(id, outcome);
      if (e.ev === "ready") this.readyAt = t;
    });
    this.port = await c.ready();
    this.child = Object.assign(c, { port: this.port });
  }

  /** SIGKILLs the child, waits `downMs`, starts it again on the same port. */
  async restart(downMs = 200): Promise<void> {
    this.child.kill("SIGKILL");
    await this.child.exit;
    this.killedAt = performance.now();
    await sleep(downMs);
    await this.start();
  }

  async stop(): Promise<void> {
    if (this.child && !this.child.exited) await this.child.stop();
  }
}

/** Waits until `t()` gives a time (traffic resumed), failing after `ms`; returns it. */
export async function resumed(t: () => number | undefined, ms: number, what: string): Promise<number> {
  await until(() => t() !== undefined, ms, what);
  return t()!;
}

/** Calls `send(id)` every EVERY ms with ids "<tag>:<seq>" until the returned stop() is
 * called; stop() resolves once every send settled. Outcomes go to `tally.send`. */
export function sendLoop(tag: string, tally: Tally, send: (id: string) => Promise<string>): () => Promise<void> {
  let seq = 0;
  const pending = new Set<Promise<void>>();
  const timer = setInterval(() => {
    const id = `${tag}:${++seq}`;
    const p = send(id).then((o) => tally.send(id, o), (e) => tally.send(id, (e as { code?: string })?.code ?? String(e)))
      .finally(() => pending.delete(p));
    pending.add(p);
  }, EVERY);
  return async () => {
    clearInterval(timer);
    await Promise.allSettled([...pending]);
  };
}

/** One row of the restart table, printed for scripts/restart-table.mjs. */
export interface Row {
  pattern: string;
  restarted: string;
  /** Runtimes: the restarted role's, and the test's. */
  runtimes: string;
  /** "sync" or "async". */
  mode?: string;
  /** ms from the restarted process listening to traffic flowing again (each direction). */
  resumeMs: number[];
  lost: number;
  duplicated: number;
  note: string;
}

export function printRow(r: Row): void {
  console.log(`restart-row ${JSON.stringify({ ...r, mode: SYNC ? "sync" : "async" })}`);
}

/** The documented bound on resuming: twice the timeout (ms). */
export const RESUME_BOUND_MS = 2 * TIMEOUT * 1000;
