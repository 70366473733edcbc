// The collector's types: its nodes as it sees them (NodeView, rates, history points), its
// events, its options and its face (Collector). collector.ts implements them; the HTTP side
// (collector-http.ts, collector-metrics.ts) reads them.
import type { Chirp, ChirpConfig } from "../index.ts";
import type { Report } from "./report-format.ts";

/** A node's state as the collector sees it. */
export type NodeState = "up" | "down";

/** A change in a node's state, as the collector noticed it (`Collector.on`, `events()`). */
export interface CollectorEvent {
  /** joined: first report; down: `downAfter` intervals without one; up: it reported again
   * (same identity); restarted: it reported with another identity. */
  type: "joined" | "down" | "up" | "restarted";
  /** The node's key (its name, else "address:port"). */
  node: string;
  /** When the collector saw it (Date.now()). */
  time: number;
  /** The node's identity (hex) at the time of the event (restarted: the new one). */
  identity: string;
  /** restarted: the identity before. */
  previous?: string;
  /** down: milliseconds since the last report. */
  silentMs?: number;
}

/** Per-second rates between a node's last two reports. */
export interface NodeRates {
  /** Messages received per second. */
  messagesIn: number;
  /** Messages written per second. */
  messagesOut: number;
  /** Payload bytes (header + data) received per second. */
  bytesIn: number;
  /** Payload bytes (header + data) written per second. */
  bytesOut: number;
  /** Send and connection errors (all codes). */
  errors: number;
}

/** One point of a node's history (one per report). */
export interface HistoryPoint extends NodeRates {
  /** When the node took the report's snapshot (its `stats.time`, the node's clock). The
   * rates are 0 for a node's first point and the first after a restart. */
  time: number;
  /** Received messages the node held unreleased (`Counters.slotsInUse`). */
  slotsInUse: number;
  /** Sends waiting to be written (`Counters.queued`). */
  queued: number;
  /** Synchronous sends waiting for their ACK (`Counters.unacked`). */
  unacked: number;
  /** Open connections (`Counters.connections`). */
  connections: number;
  /** The last ACK round trip in milliseconds (`Counters.lastAckRttMs`), or null. */
  ackRttMs: number | null;
}

/** One node as the collector knows it: who it is, whether it is up, its latest report. */
export interface NodeView {
  /** The key the collector files the node under: its name, else "address:port". */
  node: string;
  /** The name the node reports under (`ReportOptions.name`), or null. */
  name: string | null;
  /** The address the collector sees the node's reports come from. */
  address: string;
  /** The node's listening port (its report's `stats.port`). */
  port: number;
  /** The node's identity (hex) from its latest report; another one means it restarted. */
  identity: string;
  /** The runtime it reports ("node", "deno", "bun", or another implementation's). */
  runtime: string;
  /** The implementation's version it reports (`Report.version`). */
  version: string;
  /** "down" once `CollectorOptions.downAfter` of its intervals passed without a report. */
  state: NodeState;
  /** When the node went down (Date.now()), or null while up. */
  downSince: number | null;
  /** When the last report arrived. */
  lastSeen: number;
  /** When its first report arrived (Date.now()). */
  firstSeen: number;
  /** Its reporting interval (s). */
  every: number;
  /** Reports received from it (since the collector started). */
  reports: number;
  /** Times it reported with a new identity (a restart). */
  restarts: number;
  /** When the last restart was seen (Date.now()), or null if none. */
  lastRestart: number | null;
  /** Rates between its last two reports; null after its first report, after a restart and
   * while down. */
  rates: NodeRates | null;
  /** The latest report. */
  report: Report;
  /** Recent points, oldest first (only with `history` asked for). */
  history?: HistoryPoint[];
}

/** How `collector()` starts: its Chirp port, its HTTP server, when a node counts as down. */
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

/** A running collector, as `collector()` resolves it: the nodes that report to it and
 * their events. */
export interface Collector {
  /** The collector's Chirp node. */
  readonly node: Chirp;
  /** Its Chirp port: where nodes report to. */
  readonly port: number;
  /** The HTTP address, when serving. */
  readonly http: { host: string; port: number } | null;
  /** The metric name prefix its /metrics uses (`CollectorOptions.prefix`, default "chirp"). */
  readonly prefix: string;
  /** Every node seen, in the order first seen. */
  nodes(options?: { history?: boolean }): NodeView[];
  /** Recent events, oldest first (the last 200). */
  events(): CollectorEvent[];
  /** Listens for events; returns a function that stops listening. */
  on(listener: (e: CollectorEvent) => void): () => void;
  /** Reports taken and ignored (not a valid report) since the start. */
  counts(): { reports: number; invalid: number };
  /** Stops down detection, the HTTP server and the collector's node. */
  close(): Promise<void>;
}
