// The report message of the control backchannel: what a node sends its collector each
// interval, how it is marked (header registry, patterns/header.ts: pattern REPORT 0x80, op
// SNAPSHOT 1) and how a collector reads it back. The format is documented for other
// implementations (a libchirp C or Python node can report too) in docs/monitoring.md.
//
//   header: C1 80 01                        (magic+version, pattern REPORT, op SNAPSHOT)
//   data:   one JSON object, UTF-8:  { v: 1, seq, every, name, runtime, ..., stats, own }
import { MAGIC, OP, PATTERN } from "../../patterns/header.ts";
import type { ChirpStats, Counters, RemoteStats } from "./stats.ts";
import type { ChirpErrorCode } from "../errors.ts";

/** The report's header bytes: an ordinary Chirp message header (protocol.md §2.1). */
export const REPORT_HEADER: Uint8Array = new Uint8Array([MAGIC, PATTERN.REPORT, OP.REPORT.SNAPSHOT]);

/** The report schema's version (the JSON field `v`). */
export const REPORT_VERSION = 1;

/** The chirp-wasm version reported (test/backchannel.test.ts checks it against package.json). */
export const PACKAGE_VERSION = "0.1.0";

/** The reporter's own traffic, counted apart: it is already subtracted from `stats`. */
export interface OwnTraffic {
  /** Reports written (sent) so far, not counting this one. */
  reports: number;
  /** Their bytes (header + data). */
  bytes: number;
  /** Reports not sent because the previous one was still in flight. */
  dropped: number;
  /** Reports whose send failed, by error code. */
  failed: Partial<Record<ChirpErrorCode, number>>;
}

/** One report (the JSON in the message's data). */
export interface Report {
  /** The schema's version, `REPORT_VERSION`; `decodeReport` refuses any other (the
   * collector counts such a report invalid). */
  v: 1;
  /** 1 for the first report of this node, +1 each interval (dropped ones included). */
  seq: number;
  /** The reporting interval in seconds: the collector expects the next report by then. */
  every: number;
  /** A name the node was given (the collector shows it and keys nodes by it), or null. */
  name: string | null;
  /** The JavaScript runtime the node runs on: "node", "deno" or "bun" (another
   * implementation names its own). */
  runtime: string;
  /** That runtime's version ("20.19.0"; empty when unknown). */
  runtimeVersion: string;
  /** chirp-wasm's version (another implementation puts its own, e.g. "libchirp 1.2.1"). */
  version: string;
  /** The reporting process's id. */
  pid: number;
  /** The host name of the machine the node runs on (os.hostname()). */
  hostname: string;
  /** Milliseconds since the process started (the node's own uptime is stats.uptimeMs). */
  processUptimeMs: number;
  /** The node's `stats()` (README "Monitoring"), the reporter's own traffic taken out. */
  stats: ChirpStats;
  /** Per-remote rows left out (the reporter sends the busiest, default 64). */
  perRemoteOmitted?: number;
  /** The reporter's own reports, counted apart (see OwnTraffic). */
  own: OwnTraffic;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A report as the message data: the JSON text, UTF-8 (send it with `REPORT_HEADER`). */
export function encodeReport(r: Report): Uint8Array {
  return encoder.encode(JSON.stringify(r));
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);
const isNum = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x);

/** Whether a message header marks a report (other bytes after the op are allowed). */
export function isReportHeader(h: Uint8Array): boolean {
  return h.length >= 3 && h[0] === MAGIC && h[1] === PATTERN.REPORT && h[2] === OP.REPORT.SNAPSHOT;
}

/** Reads a report's data; null when it is not a version-1 report with the fields a
 * collector needs (`seq`, `every`, `stats.identity`, `stats.port`, the counters). Fields a
 * foreign reporter leaves out get neutral values. */
export function decodeReport(data: Uint8Array): Report | null {
  let j: unknown;
  try {
    j = JSON.parse(decoder.decode(data));
  } catch {
    return null;
  }
  if (!isObj(j) || j.v !== 1 || !isNum(j.seq) || !isNum(j.every) || j.every <= 0 || !isObj(j.stats)) return null;
  const s = j.stats;
  if (typeof s.identity !== "string" || !isNum(s.port)) return null;
  for (const f of ["messagesIn", "messagesOut", "bytesIn", "bytesOut"]) if (!isNum(s[f])) return null;
  const own = isObj(j.own) ? j.own : {};
  const counters = (c: Record<string, unknown>): Counters => ({
    messagesIn: Number(c.messagesIn) || 0,
    messagesOut: Number(c.messagesOut) || 0,
    bytesIn: Number(c.bytesIn) || 0,
    bytesOut: Number(c.bytesOut) || 0,
    sendErrors: isObj(c.sendErrors) ? (c.sendErrors as Counters["sendErrors"]) : {},
    connectionErrors: isObj(c.connectionErrors) ? (c.connectionErrors as Counters["connectionErrors"]) : {},
    slotsInUse: Number(c.slotsInUse) || 0,
    queued: Number(c.queued) || 0,
    unacked: Number(c.unacked) || 0,
    connections: Number(c.connections) || 0,
    lastAckRttMs: isNum(c.lastAckRttMs) ? c.lastAckRttMs : null,
  });
  const perRemote: RemoteStats[] = (Array.isArray(s.perRemote) ? s.perRemote : []).filter(isObj).map((r) => ({
    ...counters(r),
    address: String(r.address ?? ""),
    port: Number(r.port) || 0,
    identity: typeof r.identity === "string" ? r.identity : null,
  }));
  return {
    v: 1,
    seq: j.seq,
    every: j.every,
    name: typeof j.name === "string" && j.name !== "" ? j.name : null,
    runtime: String(j.runtime ?? "unknown"),
    runtimeVersion: String(j.runtimeVersion ?? ""),
    version: String(j.version ?? ""),
    pid: Number(j.pid) || 0,
    hostname: String(j.hostname ?? ""),
    processUptimeMs: Number(j.processUptimeMs) || 0,
    stats: {
      ...counters(s),
      time: isNum(s.time) ? s.time : Date.now(),
      uptimeMs: Number(s.uptimeMs) || 0,
      identity: s.identity,
      port: s.port,
      synchronous: s.synchronous !== false,
      remotes: Number(s.remotes) || perRemote.length,
      coreMemoryBytes: Number(s.coreMemoryBytes) || 0,
      perRemote,
    },
    ...(isNum(j.perRemoteOmitted) && j.perRemoteOmitted > 0 ? { perRemoteOmitted: j.perRemoteOmitted } : {}),
    own: {
      reports: Number(own.reports) || 0,
      bytes: Number(own.bytes) || 0,
      dropped: Number(own.dropped) || 0,
      failed: isObj(own.failed) ? (own.failed as OwnTraffic["failed"]) : {},
    },
  };
}
