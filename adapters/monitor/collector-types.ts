// The collector's types: its nodes as it sees them (NodeView, rates, history points), its
// events, its options and its face (Collector). collector.ts implements them; the HTTP side
// (collector-http.ts, collector-metrics.ts) reads them.
import type { Chirp, ChirpConfig } from "../index.ts";
import type { Report } from "./report-format.ts";

/** A node's state as the collector sees it. */
export type NodeState = "up" | "down";

export interface CollectorEvent {
  /** joined: first report; down: `downAfter` intervals without one; up: it reported again
   * (same identity); restarted: it reported with another identity. */
  type: "joined" | "down" | "up" | "restarted";
  /** The node's key (its name, else "address:port"). */
  node: string;
  /** When the collector saw it (Date.now()). */
  time: number;
  identity: string;
  /** restarted: the identity before. */
  previous?: string;
  /** down: milliseconds since the last report. */
  silentMs?: number;
}

/** Per-second rates between a node's last two reports. */
export interface NodeRates {
  messagesIn: number;
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
  /** Send and connection errors (all codes). */
  errors: number;
}

/** One point of a node's history (one per report). */
export interface HistoryPoint extends NodeRates {
  time: number;
  slotsInUse: number;
  queued: number;
  unacked: number;
  connections: number;
  ackRttMs: number | null;
}

export interface NodeView {
  node: string;
  name: string | null;
  /** The address the collector sees the node at, and its listening port. */
  address: string;
  port: number;
  identity: string;
  runtime: string;
  version: string;
  state: NodeState;
  /** When the node went down (Date.now()), or null while up. */
  downSince: number | null;
  /** When the last report arrived. */
  lastSeen: number;
  firstSeen: number;
  /** Its reporting interval (s). */
  every: number;
  /** Reports received from it (since the collector started). */
  reports: number;
  restarts: number;
  lastRestart: number | null;
  rates: NodeRates | null;
  /** The latest report. */
  report: Report;
  /** Recent points, oldest first (only with `history` asked for). */
  history?: HistoryPoint[];
}

export interface CollectorOptions {
  /** The collector's Chirp port (default 0: any free one). */
  port?: number;
  /** Serve HTTP (/metrics, /stats, the dashboard): a port (0 = any free one) or
   * { port, host } (host default 127.0.0.1). Default: no HTTP. */
  http?: number | { port?: number; host?: string };
  /** Intervals without a report after which a node is down (default 3). */
  downAfter?: number;
  /** History points kept per node (default 300). */
  history?: number;
  /** Metric name prefix (default "chirp"). */
  prefix?: string;
  /** More config for the collector's node (TLS, bind addresses, ...). */
  config?: Omit<ChirpConfig, "port" | "onMessage">;
}

export interface Collector {
  /** The collector's Chirp node. */
  readonly node: Chirp;
  /** Its Chirp port: where nodes report to. */
  readonly port: number;
  /** The HTTP address, when serving. */
  readonly http: { host: string; port: number } | null;
  readonly prefix: string;
  /** Every node seen, in the order first seen. */
  nodes(options?: { history?: boolean }): NodeView[];
  /** Recent events, oldest first (the last 200). */
  events(): CollectorEvent[];
  /** Listens for events; returns a function that stops listening. */
  on(listener: (e: CollectorEvent) => void): () => void;
  /** Reports taken and ignored (not a valid report) since the start. */
  counts(): { reports: number; invalid: number };
  close(): Promise<void>;
}
