// The reporter of the control backchannel: `startReporting(node, { to, every })` sends the
// node's stats to a collector (collector.ts) every `every` seconds, as an ordinary Chirp
// message marked REPORT/SNAPSHOT in the header registry (report-format.ts). Reports never
// wait in a queue: while one is in flight the next is dropped and counted, so an unreachable
// collector costs one dropped report per interval and no memory. The reporter's own messages
// and bytes are taken out of the counters it reports (in total and in the collector's
// per-remote row) and reported apart, in `own`.
import os from "node:os";
import process from "node:process";
import type { Chirp } from "../chirp.ts";
import { ChirpError, type ChirpErrorCode } from "../errors.ts";
import { detectRuntime } from "../runtime.ts";
import { parseTarget } from "../target.ts";
import type { ChirpStats, Counters, RemoteStats } from "./stats.ts";
import { PACKAGE_VERSION, REPORT_HEADER, encodeReport, type OwnTraffic } from "./report-format.ts";

/** Where `startReporting` sends the node's reports, how often, and under which name. */
export interface ReportOptions {
  /** The collector's Chirp address, "host:port" ("[v6]:port"). */
  to: string;
  /** Seconds between two reports, 0.05 to 3600 (default 1). The collector marks the node
   * down after 3 intervals without a report. */
  every?: number;
  /** A name for the node (the collector keys and labels nodes by it; default: the address
   * the collector sees and the node's port). */
  name?: string;
  /** Per-remote rows in a report, the busiest first (default 64; the rest are counted in
   * `perRemoteOmitted`; the totals always cover every remote). */
  maxRemoteRows?: number;
  /** Failed reports (the node goes on; each failure is also counted in `own.failed`). */
  onError?: (e: unknown) => void;
}

/** A running reporter, as `startReporting` returns it. */
export interface Reporter {
  /** The collector's address, as given in `ReportOptions.to`. */
  readonly to: string;
  /** Seconds between two reports (`ReportOptions.every`, default 1). */
  readonly every: number;
  /** The reporter's own traffic so far (a copy). */
  own(): OwnTraffic;
  /** Stops reporting (reports in flight finish). Idempotent. */
  stop(): void;
}

type Errors = Partial<Record<ChirpErrorCode, number>>;

/** What the reporter sent through one per-remote row (rows start again from zero when the
 * node forgets an idle remote). */
interface RowShare {
  reports: number;
  bytes: number;
  failed: Errors;
}

const add = (e: Errors, code: ChirpErrorCode, n = 1): void => {
  e[code] = (e[code] ?? 0) + n;
};

function subtractErrors(from: Errors, own: Errors): Errors {
  const out: Errors = { ...from };
  for (const [code, n] of Object.entries(own) as [ChirpErrorCode, number][]) {
    const left = (out[code] ?? 0) - n;
    if (left > 0) out[code] = left;
    else delete out[code];
  }
  return out;
}

function subtractFrom<C extends Counters>(c: C, own: RowShare): C {
  return {
    ...c,
    messagesOut: Math.max(0, c.messagesOut - own.reports),
    bytesOut: Math.max(0, c.bytesOut - own.bytes),
    sendErrors: subtractErrors(c.sendErrors, own.failed),
  };
}

/** Round trips to the microsecond (a report is small JSON). */
function compact<C extends Counters>(c: C): C {
  return c.lastAckRttMs === null ? c : { ...c, lastAckRttMs: Math.round(c.lastAckRttMs * 1000) / 1000 };
}

function runtimeVersion(rt: string): string {
  const v = process.versions as Record<string, string | undefined>;
  return v[rt] ?? v.node ?? "";
}

/** Starts reporting `node`'s stats to the collector at `options.to`. The first report goes
 * out at once, the next every `every` seconds. The timer does not keep the process alive;
 * reporting stops by itself when the node closes. Throws VALUE_ERROR for a bad target or
 * interval. */
export function startReporting(node: Chirp, options: ReportOptions): Reporter {
  const { to, name, onError, maxRemoteRows = 64 } = options;
  const every = options.every ?? 1;
  if (typeof every !== "number" || !(every >= 0.05 && every <= 3600)) {
    throw new ChirpError("VALUE_ERROR", `report every ${String(every)}: expected seconds from 0.05 to 3600`);
  }
  const { address, port } = parseTarget(to);
  const isCollector = (r: RemoteStats): boolean => r.address === address && r.port === port;
  const rt = detectRuntime();
  const meta = {
    name: name ?? null,
    runtime: rt,
    runtimeVersion: runtimeVersion(rt),
    version: PACKAGE_VERSION,
    pid: process.pid,
    hostname: os.hostname(),
  };
  const own: OwnTraffic = { reports: 0, bytes: 0, dropped: 0, failed: {} };
  let row: RowShare = { reports: 0, bytes: 0, failed: {} };
  let seq = 0;
  let inFlight = false;
  let stopped = false;

  /** The node's stats with the reporter's traffic taken out; also the collector row's raw
   * messagesOut (for a failed report: was it written?). */
  const cleanStats = (): { stats: ChirpStats; rowOut: number; omitted: number } => {
    const raw = node.stats();
    const mine = raw.perRemote.find(isCollector);
    // The row is new (the node forgot the idle remote and met it again): nothing of ours in it.
    if (!mine || mine.messagesOut < row.reports) row = { reports: 0, bytes: 0, failed: {} };
    let perRemote = raw.perRemote.map((r) => compact(isCollector(r) ? subtractFrom(r, row) : r));
    const omitted = Math.max(0, perRemote.length - maxRemoteRows);
    if (omitted > 0) perRemote = perRemote.sort((a, b) => b.messagesIn + b.messagesOut - a.messagesIn - a.messagesOut).slice(0, maxRemoteRows);
    const stats: ChirpStats = {
      ...compact(subtractFrom(raw, { reports: own.reports, bytes: own.bytes, failed: own.failed })),
      uptimeMs: Math.round(raw.uptimeMs),
      perRemote,
    };
    return { stats, rowOut: mine?.messagesOut ?? 0, omitted };
  };

  const tick = (): void => {
    if (stopped) return;
    seq++;
    if (inFlight) {
      own.dropped++;
      return;
    }
    let data: Uint8Array;
    let rowOut: number;
    try {
      const clean = cleanStats();
      rowOut = clean.rowOut;
      data = encodeReport({
        v: 1, seq, every, ...meta,
        processUptimeMs: Math.round(process.uptime() * 1000),
        stats: clean.stats,
        ...(clean.omitted ? { perRemoteOmitted: clean.omitted } : {}),
        own: { ...own, failed: { ...own.failed } },
      });
    } catch (e) {
      onError?.(e);
      return;
    }
    const bytes = REPORT_HEADER.length + data.length;
    const written = (): void => {
      own.reports++;
      own.bytes += bytes;
      row.reports++;
      row.bytes += bytes;
    };
    inFlight = true;
    node.send(to, data, { header: REPORT_HEADER }).then(written, (e: unknown) => {
      const code = ((e as ChirpError).code ?? "FATAL") as ChirpErrorCode;
      if (code === "SHUTDOWN") {
        stop();
        return;
      }
      add(own.failed, code);
      add(row.failed, code);
      // A report can fail after it was written (synchronous mode: no ACK in time, or the
      // connection closed before it). Its bytes are in the collector's row then.
      const now = node.stats().perRemote.find(isCollector);
      if (now && now.messagesOut > rowOut) written();
      onError?.(e);
    }).finally(() => {
      inFlight = false;
    });
  };

  const timer = setInterval(tick, every * 1000);
  // The reporter must not keep a process alive that has nothing else to do.
  (timer as { unref?: () => void }).unref?.();
  (globalThis as { Deno?: { unrefTimer?: (id: number) => void } }).Deno?.unrefTimer?.(timer as unknown as number);
  const first = setTimeout(tick, 0);
  (first as { unref?: () => void }).unref?.();

  function stop(): void {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    clearTimeout(first);
  }
  return {
    to,
    every,
    own: () => ({ ...own, failed: { ...own.failed } }),
    stop,
  };
}
