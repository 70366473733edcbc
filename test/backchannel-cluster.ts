// What the backchannel tests share: a collector in this process, a sink node, and five
// reporting nodes in their own processes on Node, Deno and Bun (test/fixtures/reporter.ts),
// each of which sends a known number of messages to the sink; killing one (SIGKILL) and
// starting it again under the same name.
import type { ChildProcess } from "node:child_process";
import { Chirp } from "../adapters/index.ts";
import type { RuntimeName } from "../adapters/runtime.ts";
import { collector, type Collector, type CollectorEvent } from "../adapters/monitor/mod.ts";
import { Child } from "./support/process.ts";
import { until } from "./support/wait.ts";

export interface Member {
  name: string;
  runtime: RuntimeName;
  mode: "sync" | "async";
  /** Messages it sends to the sink (and of SIZE bytes each). */
  count: number;
  child: ChildProcess;
  port: number;
}

export interface Cluster {
  collector: Collector;
  sink: Chirp;
  members: Member[];
  every: number;
  events: CollectorEvent[];
  /** SIGKILLs a member; resolves with the time of the kill (Date.now()) once it exited. */
  kill(m: Member): Promise<number>;
  /** Starts a killed member again (same name, same count). */
  restart(m: Member): Promise<void>;
  close(): Promise<void>;
}

export const SIZE = 100;

const PLAN: [RuntimeName, "sync" | "async"][] = [["node", "sync"], ["deno", "async"], ["bun", "sync"], ["node", "async"], ["deno", "sync"]];

/** Starts the collector (with HTTP), the sink and five members; resolves once the collector
 * has a report from each showing all its messages sent. `trickle`: the members go on
 * sending about that many messages a second (their counts are then at least `count`). */
export async function startCluster(every = 1, trickle = 0): Promise<Cluster> {
  const c = await collector({ port: 0, http: 0 });
  const events: CollectorEvent[] = [];
  c.on((e) => events.push(e));
  const sink = await Chirp.start({ port: 0, bindV6: null, synchronous: false, onMessage: (m) => m.release() });
  const spawnMember = async (name: string, rt: RuntimeName, mode: "sync" | "async", count: number): Promise<Member> => {
    const args = [`127.0.0.1:${c.port}`, String(every), name, `127.0.0.1:${sink.port}`, String(count), String(SIZE), mode, String(trickle)];
    const p = await Child.start("test/fixtures/reporter.ts", args, { runtime: rt, ms: 30_000 });
    return { name, runtime: rt, mode, count, child: p.child, port: p.port };
  };
  const members = await Promise.all(PLAN.map(([rt, mode], i) => spawnMember(`n${i + 1}-${rt}-${mode}`, rt, mode, 10 * (i + 1))));
  const cluster: Cluster = {
    collector: c,
    sink,
    members,
    every,
    events,
    kill: (m) => new Promise((resolve) => {
      const t = Date.now();
      m.child.once("exit", () => resolve(t));
      m.child.kill("SIGKILL");
    }),
    restart: async (m) => {
      const n = await spawnMember(m.name, m.runtime, m.mode, m.count);
      Object.assign(m, { child: n.child, port: n.port });
    },
    close: async () => {
      for (const m of members) if (m.child.exitCode === null && m.child.signalCode === null) m.child.kill("SIGKILL");
      await Promise.all([c.close(), sink.close()]);
    },
  };
  try {
    await until(() => members.every((m) => c.nodes().some((n) => n.node === m.name && (trickle ? n.report.stats.messagesOut >= m.count : n.report.stats.messagesOut === m.count))), 30_000, "a report from every member with all its messages");
  } catch (e) {
    await cluster.close();
    throw e;
  }
  return cluster;
}
