// The node's stats snapshot (monitor/stats.ts defines its shape): counters in total and per remote,
// with the live gauges (slots in use, queued, unacknowledged, connections) read off the
// engine's records.
import { toHex, type ChirpStats, type RemoteStats } from "../monitor/stats.ts";
import type { Ctx } from "./context.ts";

export function snapshot(ctx: Ctx, startedAt: number, connectionCount: number): ChirpStats {
  const perRemote: RemoteStats[] = [];
  let slots = 0;
  let queued = 0;
  let unacked = 0;
  for (const r of ctx.remotes.values()) {
    let held = 0;
    for (const c of r.conns) held += c.held;
    const live = { slotsInUse: held, queued: r.queued, unacked: ctx.core.x.remoteWaiting(r.idx), connections: r.conns.size };
    queued += live.queued;
    unacked += live.unacked;
    perRemote.push({ address: r.address, port: r.port, ...(r.name !== null ? { name: r.name } : {}), identity: r.peerIdentity, ...r.tally.snapshot(live) });
  }
  for (const c of ctx.conns) if (c) slots += c.held;
  const totals = ctx.tally.snapshot({ slotsInUse: slots, queued, unacked, connections: connectionCount });
  return {
    time: Date.now(),
    uptimeMs: performance.now() - startedAt,
    identity: toHex(ctx.identity),
    port: ctx.port,
    synchronous: ctx.config.synchronous,
    remotes: ctx.remotes.size,
    coreMemoryBytes: ctx.core.memoryBytes,
    ...totals,
    perRemote,
  };
}
