// The shape of bench/throughput.ts's results (bench/results/throughput.json): rows of runs
// per group and runtime, the soak's memory samples, the targets of issue #5. Read by
// bench/chart.ts (the SVG) and bench/compare.ts.
import type { RuntimeName } from "../adapters/runtime.ts";
import type { MachineInfo } from "./harness.ts";

/** Targets of issue #5. */
export const TARGETS = { asyncMsgPerSec: 1_000_000, syncVsRaw: 0.9, kibVsRaw: 0.6 };

export type Kind = "raw" | "chirp" | "zeromq";
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
