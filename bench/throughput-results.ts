// The shape of bench/throughput.ts's results (bench/results/throughput.json): rows of runs
// per group and runtime, the soak's memory samples, the targets of issues #5 and #14. Read by
// bench/chart.ts (the SVG) and bench/compare.ts.
import type { RuntimeName } from "../adapters/runtime.ts";
import type { MachineInfo } from "./harness.ts";

/** Targets of issue #5 (async, sync, 1 KiB), #14 (the await loop: ≥ 1.5× zeromq.js's on
 * Node, ≥ 300 k msg/s elsewhere; timer gaps under 50 ms) and #19 (synchronous with a window
 * of 16: ≥ 50 % of the asynchronous rate). */
export const TARGETS = { asyncMsgPerSec: 1_000_000, syncVsRaw: 0.9, kibVsRaw: 0.6, awaitVsZeromq: 1.5, awaitMsgPerSec: 300_000, timerGapMs: 50, windowVsAsync: 0.5 };

/** Synchronous window of the "chirp-window" rows (both nodes; protocol.md §4.7). */
export const BENCH_SYNC_WINDOW = 16;

/** "chirp-await": a plain `for (…) await node.send()` loop; "chirp": sends in windows (--window);
 * "chirp-window": the same sends in synchronous mode with a window of BENCH_SYNC_WINDOW. */
export type Kind = "raw" | "chirp" | "chirp-await" | "chirp-window" | "zeromq";
export type Mode = "async" | "sync";

export interface Row {
  kind: Kind;
  mode: Mode;
  payload: number;
  label: string;
  count: number;
  /** msg/s (round trips/s in sync mode) of each run. */
  runs: number[];
  median: number;
  /** Payload MB/s (10^6 bytes) of the median, one-way rows. */
  mbPerSec: number | null;
  /** Chirp async rows: the longest gap between ticks of a 10 ms interval in the sender during
   * each run (ms; target under 50: the event loop keeps turning). */
  timerGapMs?: number[];
}

export interface Group {
  title: string;
  mode: Mode;
  payload: number;
  /** The comparison the issue sets for Chirp in this group. */
  target: string;
  pass: boolean | null;
  rows: Row[];
  /** Chirp's median over each baseline's median. */
  chirpVsRaw: number | null;
  chirpVsZeromq: number | null;
  /** The await loop's median over zeromq.js's await loop (16 B one-way). */
  awaitVsZeromq?: number | null;
  zeromqVsRaw: number | null;
}

export interface MemSample { n: number; rss: number; coreMemoryBytes: number }
export interface MemSide { samples: MemSample[]; rssStart: number; rssWarm: number; rssEnd: number; rssMax: number; coreStart: number; coreEnd: number; coreChanged: boolean }
export interface Soak { runtime: RuntimeName; count: number; msgPerSec: number; receiver: MemSide; sender: MemSide }

export interface Results {
  date: string;
  command: string;
  options: Record<string, number | string>;
  machine: MachineInfo;
  pinning: string;
  /** os.loadavg() (1, 5, 15 minutes) when the bench started and ended. */
  loadAverage: { start: number[]; end: number[] };
  /** "zeromq.js <version>, libzmq <version>", or null without zeromq. */
  zeromq: string | null;
  targets: typeof TARGETS;
  notes: string[];
  results: { runtime: RuntimeName; version: string; groups: Group[] }[];
  soak: Soak[];
}
