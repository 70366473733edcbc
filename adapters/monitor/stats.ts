// Monitoring: the counters a node keeps (per remote and in total), the snapshot `stats()`
// returns, the connection events, and the Prometheus text rendering of a snapshot.
import type { ChirpErrorCode } from "../errors.ts";

/** Counters kept for the whole node and for each remote. Bytes are payload bytes (header +
 * data), not wire bytes. */
export interface Counters {
  /** Messages received (handed to the application). */
  messagesIn: number;
  /** Messages written to a socket (asynchronous mode: sent; synchronous mode: also counted
   * before their ACK). */
  messagesOut: number;
  /** Payload bytes (header + data) of the messages counted in `messagesIn`. */
  bytesIn: number;
  /** Payload bytes (header + data) of the messages counted in `messagesOut`. */
  bytesOut: number;
  /** Rejected sends, by error code. */
  sendErrors: Partial<Record<ChirpErrorCode, number>>;
  /** Connections closed by an error (not by an orderly close, idle collection or shutdown),
   * by error code. */
  connectionErrors: Partial<Record<ChirpErrorCode, number>>;
  /** Received messages not yet released (each holds a slot). */
  slotsInUse: number;
  /** Sends waiting to be written. */
  queued: number;
  /** Synchronous mode: messages written and waiting for the receiver's ACK. */
  unacked: number;
  /** Open connections (including ones still dialling or handshaking). */
  connections: number;
  /** Synchronous mode: the last time from writing a message to its ACK, in milliseconds. */
  lastAckRttMs: number | null;
}

/** One remote (a peer node, by address and listening port). */
export interface RemoteStats extends Counters {
  /** The remote's IP address text ("127.0.0.1", "::1"). */
  address: string;
  /** The remote's listening port: the dialled one, or the one an incoming connection's
   * handshake announced (protocol.md §1.4, §5.1). */
  port: number;
  /** The host name a send last reached this remote by (absent: none, only addresses). */
  name?: string;
  /** The peer node's identity (hex) from its last handshake, or null before any. */
  identity: string | null;
}

/** `Chirp.stats()`: a snapshot of the node's counters. */
export interface ChirpStats extends Counters {
  /** When the snapshot was taken (Date.now()). */
  time: number;
  /** Milliseconds since the node started (`new Chirp(...)`), from a monotonic clock. */
  uptimeMs: number;
  /** This node's identity (hex). */
  identity: string;
  /** The port the node listens on (the bound one when configured as 0). */
  port: number;
  /** The node's mode: true when each message waits for the receiver's ACK (config
   * `synchronous`, protocol.md §4.1). */
  synchronous: boolean;
  /** Remotes the node knows (with a queue, a connection or recent traffic). */
  remotes: number;
  /** Bytes of WebAssembly memory the protocol core holds; fixed once the node started. */
  coreMemoryBytes: number;
  /** One entry per known remote (as counted in `remotes`). */
  perRemote: RemoteStats[];
}

/** A connection finished its handshake. */
export interface OpenEvent {
  /** The event's kind, as given to `Chirp.on`. */
  type: "open";
  /** The peer's IP address text. */
  address: string;
  /** The peer's listening port. */
  port: number;
  /** True when this node dialled the connection, false when it accepted it. */
  outgoing: boolean;
  /** The peer node's identity (hex). */
  identity: string;
}

/** A connection closed (also a dial that failed: `opened` is false). */
export interface CloseEvent {
  /** The event's kind, as given to `Chirp.on`. */
  type: "close";
  /** The peer's IP address text (for a dial, the dialled address). */
  address: string;
  /** The peer's listening port (0 for an incoming connection closed before its handshake). */
  port: number;
  /** True when this node dialled the connection, false when it accepted it. */
  outgoing: boolean;
  /** Whether the connection had finished its handshake (an "open" event was emitted). */
  opened: boolean;
  /** The error code, or null for an orderly close (peer closed, idle, shutdown). */
  code: ChirpErrorCode | null;
  /** Why it closed, as text for people (an error message, or what the orderly close was). */
  reason: string;
}

/** A peer's node identity changed: it restarted. */
export interface IdentityEvent {
  /** The event's kind, as given to `Chirp.on`. */
  type: "identity";
  /** The peer's IP address text. */
  address: string;
  /** The peer's listening port. */
  port: number;
  /** The identity (hex) its earlier handshake carried. */
  previous: string;
  /** The identity (hex) its latest handshake carried. */
  current: string;
}

/** The connection events `Chirp.on` and `Chirp.once` take, by name, with what each delivers. */
export interface ChirpEvents {
  /** A connection finished its handshake. */
  open: OpenEvent;
  /** A connection closed, or a dial failed. */
  close: CloseEvent;
  /** A peer came back with another node identity (it restarted). */
  identity: IdentityEvent;
}

/** Mutable counters the engine updates (the parts that are not computed at snapshot time). */
export class Tally {
  messagesIn = 0;
  messagesOut = 0;
  bytesIn = 0;
  bytesOut = 0;
  sendErrors: Partial<Record<ChirpErrorCode, number>> = {};
  connectionErrors: Partial<Record<ChirpErrorCode, number>> = {};
  lastAckRttMs: number | null = null;
  constructor(readonly parent: Tally | null = null) {}

  sendError(code: ChirpErrorCode, n = 1): void {
    this.sendErrors[code] = (this.sendErrors[code] ?? 0) + n;
    this.parent?.sendError(code, n);
  }

  connectionError(code: ChirpErrorCode): void {
    this.connectionErrors[code] = (this.connectionErrors[code] ?? 0) + 1;
    this.parent?.connectionError(code);
  }

  ackRtt(ms: number): void {
    this.lastAckRttMs = ms;
    if (this.parent) this.parent.lastAckRttMs = ms;
  }

  snapshot(live: { slotsInUse: number; queued: number; unacked: number; connections: number }): Counters {
    return {
      messagesIn: this.messagesIn,
      messagesOut: this.messagesOut,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      sendErrors: { ...this.sendErrors },
      connectionErrors: { ...this.connectionErrors },
      ...live,
      lastAckRttMs: this.lastAckRttMs,
    };
  }
}

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
export { hex as toHex };

/** Prometheus label value escaping (text exposition format 0.0.4). */
export function label(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

interface Metric {
  name: string;
  help: string;
  type: "counter" | "gauge";
  of: (c: Counters) => number | null;
}

const PER_COUNTERS: Metric[] = [
  { name: "messages_in_total", help: "Messages received", type: "counter", of: (c) => c.messagesIn },
  { name: "messages_out_total", help: "Messages written", type: "counter", of: (c) => c.messagesOut },
  { name: "bytes_in_total", help: "Payload bytes (header + data) received", type: "counter", of: (c) => c.bytesIn },
  { name: "bytes_out_total", help: "Payload bytes (header + data) written", type: "counter", of: (c) => c.bytesOut },
  { name: "slots_in_use", help: "Received messages not yet released", type: "gauge", of: (c) => c.slotsInUse },
  { name: "queued_messages", help: "Sends waiting to be written", type: "gauge", of: (c) => c.queued },
  { name: "unacked_messages", help: "Synchronous sends written and waiting for their ACK", type: "gauge", of: (c) => c.unacked },
  { name: "connections", help: "Open connections", type: "gauge", of: (c) => c.connections },
  { name: "last_ack_rtt_seconds", help: "Last time from writing a synchronous message to its ACK", type: "gauge", of: (c) => (c.lastAckRttMs === null ? null : c.lastAckRttMs / 1000) },
];

/** Renders a snapshot in the Prometheus text exposition format. Node totals have no labels;
 * per-remote series are `<prefix>_remote_*{remote="address:port"}`; errors are labelled by
 * code. */
export function renderPrometheus(s: ChirpStats, prefix = "chirp"): string {
  const out: string[] = [];
  const head = (name: string, help: string, type: string): void => {
    out.push(`# HELP ${prefix}_${name} ${help}.`, `# TYPE ${prefix}_${name} ${type}`);
  };
  const remoteLabel = (r: RemoteStats): string => `remote="${label(r.address.includes(":") ? `[${r.address}]:${r.port}` : `${r.address}:${r.port}`)}"`;
  for (const m of PER_COUNTERS) {
    const v = m.of(s);
    head(m.name, m.help, m.type);
    out.push(`${prefix}_${m.name} ${v ?? "NaN"}`);
    head(`remote_${m.name}`, `${m.help}, per remote`, m.type);
    for (const r of s.perRemote) {
      const rv = m.of(r);
      if (rv !== null) out.push(`${prefix}_remote_${m.name}{${remoteLabel(r)}} ${rv}`);
    }
  }
  for (const [name, help, pick] of [
    ["send_errors_total", "Rejected sends, by error code", (c: Counters) => c.sendErrors],
    ["connection_errors_total", "Connections closed by an error, by error code", (c: Counters) => c.connectionErrors],
  ] as const) {
    head(name, help, "counter");
    for (const [code, n] of Object.entries(pick(s))) out.push(`${prefix}_${name}{code="${label(code)}"} ${n}`);
    head(`remote_${name}`, `${help}, per remote`, "counter");
    for (const r of s.perRemote) {
      for (const [code, n] of Object.entries(pick(r))) out.push(`${prefix}_remote_${name}{${remoteLabel(r)},code="${label(code)}"} ${n}`);
    }
  }
  head("remotes", "Remotes the node knows", "gauge");
  out.push(`${prefix}_remotes ${s.remotes}`);
  head("core_memory_bytes", "WebAssembly memory of the protocol core (fixed after start)", "gauge");
  out.push(`${prefix}_core_memory_bytes ${s.coreMemoryBytes}`);
  head("uptime_seconds", "Seconds since the node started", "gauge");
  out.push(`${prefix}_uptime_seconds ${s.uptimeMs / 1000}`);
  head("info", "The node's identity, port and mode", "gauge");
  out.push(`${prefix}_info{identity="${s.identity}",port="${s.port}",synchronous="${s.synchronous}"} 1`);
  return out.join("\n") + "\n";
}
