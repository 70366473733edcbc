// chirpcat monitor HOST:PORT: polls a node's metrics server (--metrics, serveMetrics in
// adapters/monitor/http.ts) at /stats and shows its counters with rates per second computed
// from successive snapshots; or a collector's (chirpcat collect --http): one table of all its
// nodes, down ones first and marked (in red on a terminal), rates from the collector. On a terminal the view is redrawn in place (ANSI cursor home and
// erase); otherwise, or with --once, each snapshot is printed as plain text after the last.
// --format json prints each /stats snapshot as one line; --format prometheus the /metrics text.
import process from "node:process";
import type { ChirpStats, Counters } from "../adapters/index.ts";
import type { CollectorStats } from "../adapters/monitor/mod.ts";
import { EXIT, MONITOR_FORMATS, UsageError, type MonitorFormat } from "./options.ts";
import type { Ctx } from "./context.ts";
import { sleep } from "./io.ts";

/** The base URL of a metrics server: "HOST:PORT", "[v6]:PORT" or an http(s) URL. */
export function metricsBase(target: string): string {
  if (/^https?:\/\//.test(target)) return target.replace(/\/(metrics|stats)?$/, "");
  if (!/^(\[[^\]]+\]|[^:\s/]+):\d+$/.test(target)) throw new UsageError(`monitor target "${target}" is not HOST:PORT (the node's --metrics address) or a URL`);
  return `http://${target}`;
}

const RATE_FIELDS = ["messagesIn", "messagesOut", "bytesIn", "bytesOut"] as const;

/** Per-second rates of the growing counters between two snapshots (null: no earlier one). */
function rates(cur: Counters & { time?: number }, prev: (Counters & { time?: number }) | undefined, dtMs: number): Record<(typeof RATE_FIELDS)[number], number> | null {
  if (!prev || dtMs <= 0) return null;
  const r = {} as Record<(typeof RATE_FIELDS)[number], number>;
  for (const f of RATE_FIELDS) r[f] = Math.max(0, cur[f] - prev[f]) / (dtMs / 1000);
  return r;
}

const rate = (v: number | undefined): string => (v === undefined ? "-" : v.toFixed(1));
const errors = (e: Counters["sendErrors"]): string => {
  const parts = Object.entries(e).filter(([, n]) => (n ?? 0) > 0).map(([k, n]) => `${k} ${n}`);
  return parts.length ? parts.join(", ") : "-";
};
const rtt = (ms: number | null): string => (ms === null ? "-" : `${ms.toFixed(2)} ms`);

function duration(ms: number): string {
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${h}:${String(m).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}

/** The view of one snapshot as lines (rates from the previous snapshot, if any). */
export function renderStats(s: ChirpStats, prev: ChirpStats | undefined, source: string): string[] {
  const dt = prev ? s.time - prev.time : 0;
  const r = rates(s, prev, dt);
  const lines: string[] = [];
  lines.push(`chirp node ${s.identity}  port ${s.port}  ${s.synchronous ? "sync" : "async"}  up ${duration(s.uptimeMs)}  remotes ${s.remotes}  core ${(s.coreMemoryBytes / 1048576).toFixed(1)} MiB  (${source})`);
  lines.push("");
  lines.push(`  ${"".padEnd(18)} ${"total".padStart(14)} ${"per second".padStart(12)}`);
  const row = (label: string, total: string, perSecond = ""): void => {
    lines.push(`  ${label.padEnd(18)} ${total.padStart(14)} ${perSecond.padStart(12)}`.trimEnd());
  };
  row("messages in", String(s.messagesIn), rate(r?.messagesIn));
  row("messages out", String(s.messagesOut), rate(r?.messagesOut));
  row("bytes in", String(s.bytesIn), rate(r?.bytesIn));
  row("bytes out", String(s.bytesOut), rate(r?.bytesOut));
  row("slots in use", String(s.slotsInUse));
  row("queued", String(s.queued));
  row("unacked", String(s.unacked));
  row("connections", String(s.connections));
  row("last ACK RTT", rtt(s.lastAckRttMs));
  lines.push(`  ${"send errors".padEnd(18)} ${errors(s.sendErrors)}`);
  lines.push(`  ${"connection errors".padEnd(18)} ${errors(s.connectionErrors)}`);
  lines.push("");
  const cols: [string, number][] = [["remote", 24], ["node", 10], ["msgs in", 9], ["msgs out", 9], ["in/s", 9], ["out/s", 9], ["bytes in", 11], ["bytes out", 11], ["conns", 6], ["queued", 7], ["unacked", 8], ["ACK RTT", 10], ["errors", 0]];
  const fmt = (vals: string[]): string => "  " + vals.map((v, i) => (i === 0 || i === 1 || i === vals.length - 1 ? v.padEnd(cols[i][1]) : v.padStart(cols[i][1]))).join(" ").trimEnd();
  lines.push(fmt(cols.map(([c]) => c)));
  if (s.perRemote.length === 0) lines.push("  (no remotes)");
  for (const p of s.perRemote) {
    const key = `${p.address.includes(":") ? `[${p.address}]` : p.address}:${p.port}`;
    const before = prev?.perRemote.find((x) => x.address === p.address && x.port === p.port);
    const pr = rates(p, before ?? (prev ? { ...p, messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0 } : undefined), dt);
    const errs = [errors(p.sendErrors), errors(p.connectionErrors)].filter((e) => e !== "-").join("; ") || "-";
    lines.push(fmt([
      key, p.identity ? p.identity.slice(0, 8) : "-", String(p.messagesIn), String(p.messagesOut), rate(pr?.messagesIn), rate(pr?.messagesOut),
      String(p.bytesIn), String(p.bytesOut), String(p.connections), String(p.queued), String(p.unacked), rtt(p.lastAckRttMs), errs,
    ]));
  }
  return lines;
}

const clock = (t: number): string => new Date(t).toISOString().slice(11, 19);

/** The view of a collector's /stats: one row per node (down ones first). */
export function renderCollector(d: CollectorStats, source: string, color = false): string[] {
  const c = d.collector;
  const lines: string[] = [];
  lines.push(`chirp collector ${c.identity.slice(0, 8)}  port ${c.port}  ${d.nodes.length} nodes: ${c.up} up, ${c.down} down  reports ${c.reports}  (${source})`);
  lines.push("");
  const cols: [string, number][] = [["node", 22], ["state", 22], ["runtime", 7], ["mode", 5], ["msgs in", 9], ["msgs out", 9], ["in/s", 8], ["out/s", 8], ["bytes in", 11], ["bytes out", 11], ["conns", 5], ["queued", 6], ["unacked", 7], ["ACK RTT", 10], ["errors", 0]];
  const left = new Set([0, 1, 2, 3, cols.length - 1]);
  const fmt = (vals: string[]): string => "  " + vals.map((v, i) => (left.has(i) ? v.padEnd(cols[i][1]) : v.padStart(cols[i][1]))).join(" ").trimEnd();
  lines.push(fmt(cols.map(([h]) => h)));
  if (d.nodes.length === 0) lines.push("  (no node has reported yet)");
  const nodes = d.nodes.slice().sort((a, b) => (a.state === b.state ? (a.node < b.node ? -1 : 1) : a.state === "down" ? -1 : 1));
  for (const n of nodes) {
    const s = n.report.stats;
    const state = n.state === "down" ? `DOWN since ${clock(n.downSince!)}` : n.restarts > 0 ? `up, restarted ${clock(n.lastRestart!)}` : "up";
    const errs = [errors(s.sendErrors), errors(s.connectionErrors)].filter((e) => e !== "-").join("; ") || "-";
    const row = fmt([
      n.node, state, n.runtime, s.synchronous ? "sync" : "async", String(s.messagesIn), String(s.messagesOut), rate(n.rates?.messagesIn), rate(n.rates?.messagesOut),
      String(s.bytesIn), String(s.bytesOut), String(s.connections), String(s.queued), String(s.unacked), rtt(s.lastAckRttMs), errs,
    ]);
    lines.push(color && n.state === "down" ? `\x1b[1;31m${row}\x1b[0m` : row);
  }
  return lines;
}

async function get(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  const body = await res.text();
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status} ${body.trim().slice(0, 100)}`);
  return body;
}

export async function runMonitor(ctx: Ctx, format: string): Promise<number> {
  const v = ctx.values;
  if (!(MONITOR_FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format ${format}: monitor takes ${MONITOR_FORMATS.join(", ")}`);
  if (ctx.targets.length !== 1) throw new UsageError(`monitor takes one HOST:PORT (a node's --metrics or a collector's --http address), got ${ctx.targets.length}`);
  const base = metricsBase(ctx.targets[0]);
  const interval = v.interval === undefined ? 1 : Number(v.interval);
  if (!(interval >= 0.05 && interval <= 86400)) throw new UsageError(`--interval ${String(v.interval)}: expected seconds from 0.05 to 86400`);
  const count = v.once ? 1 : v.count === undefined ? 0 : Number(v.count);
  if (!Number.isInteger(count) || count < 0) throw new UsageError(`--count ${String(v.count)}: expected an integer >= 0`);
  const live = format === "table" && !v.once && process.stdout.isTTY === true;
  let prev: ChirpStats | undefined;
  let first = true;
  for (let i = 0; count === 0 || i < count; i++) {
    if (i > 0) {
      await Promise.race([sleep(interval * 1000), ctx.stopped]);
      if (ctx.isStopped()) break;
    }
    let text: string;
    try {
      if (format === "prometheus") {
        text = await get(`${base}/metrics`);
      } else {
        const body = await get(`${base}/stats`);
        let s: ChirpStats | CollectorStats;
        try {
          s = JSON.parse(body) as ChirpStats | CollectorStats;
        } catch {
          ctx.out.err(`error: ${base}/stats did not answer JSON: ${body.slice(0, 80)}`);
          return EXIT.ERROR;
        }
        if (format === "json") text = JSON.stringify(s) + "\n";
        else if ("nodes" in s && "collector" in s) text = renderCollector(s, base, live).join("\n") + "\n";
        else {
          text = renderStats(s, prev, base).join("\n") + "\n";
          prev = s;
        }
      }
    } catch (e) {
      const why = `cannot read ${base}: ${(e as Error).message}${(e as { cause?: Error }).cause ? ` (${(e as { cause?: Error }).cause!.message})` : ""}`;
      if (count === 1) {
        ctx.out.err(`error: ${why}`);
        return EXIT.CANNOT_CONNECT;
      }
      if (live) ctx.out.write(`\x1b[H\x1b[2J${why}\nretrying every ${interval} s (Ctrl-C ends)\n`);
      else ctx.out.err(`error: ${why}`);
      prev = undefined;
      continue;
    }
    if (live) {
      // Cursor home, each line cleared to its end, then the rest of the screen erased.
      ctx.out.write(`${first ? "\x1b[2J" : ""}\x1b[H${text.replace(/\n/g, "\x1b[K\n")}\x1b[J`);
      first = false;
    } else {
      ctx.out.write(format === "table" && i > 0 ? `\n${text}` : text);
    }
  }
  return EXIT.OK;
}
