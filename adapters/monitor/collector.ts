// The collector of the control backchannel: a Chirp node that takes the reports of many
// nodes (report.ts, report-format.ts) and keeps the latest snapshot, the rates and a short
// history of each; marks a node down after it missed `downAfter` intervals (default 3), up
// when it reports again, restarted when its identity changed; emits those as events; and
// serves them over HTTP (collector-http.ts: /metrics, /stats, the dashboard at /).
// Its node runs in asynchronous mode: it only receives, and it releases every report as soon
// as it is read, so a synchronous reporter's send completes at once either way.
import { Chirp, type Message } from "../index.ts";
import { targetKey } from "../../patterns/header.ts";
import { decodeReport, isReportHeader, type Report } from "./report-format.ts";
import { serveCollector, type CollectorHttp } from "./collector-http.ts";
import type { Collector, CollectorEvent, CollectorOptions, HistoryPoint, NodeRates, NodeView } from "./collector-types.ts";

export type { Collector, CollectorEvent, CollectorOptions, HistoryPoint, NodeRates, NodeState, NodeView } from "./collector-types.ts";

interface Entry {
  view: NodeView;
  history: HistoryPoint[];
}

const errorsOf = (r: Report): number => {
  let n = 0;
  for (const v of Object.values(r.stats.sendErrors)) n += v ?? 0;
  for (const v of Object.values(r.stats.connectionErrors)) n += v ?? 0;
  return n;
};

function ratesBetween(cur: Report, prev: Report): NodeRates | null {
  const dt = (cur.stats.time - prev.stats.time) / 1000;
  if (!(dt > 0)) return null;
  const per = (a: number, b: number): number => Math.max(0, a - b) / dt;
  return {
    messagesIn: per(cur.stats.messagesIn, prev.stats.messagesIn),
    messagesOut: per(cur.stats.messagesOut, prev.stats.messagesOut),
    bytesIn: per(cur.stats.bytesIn, prev.stats.bytesIn),
    bytesOut: per(cur.stats.bytesOut, prev.stats.bytesOut),
    errors: per(errorsOf(cur), errorsOf(prev)),
  };
}

/** Starts a collector: its Chirp node on `port` and, with `http`, its HTTP server. */
export async function collector(options: CollectorOptions = {}): Promise<Collector> {
  const downAfter = options.downAfter ?? 3;
  const keep = options.history ?? 300;
  const prefix = options.prefix ?? "chirp";
  const entries = new Map<string, Entry>();
  const events: CollectorEvent[] = [];
  const listeners = new Set<(e: CollectorEvent) => void>();
  let reports = 0;
  let invalid = 0;

  const emit = (e: CollectorEvent): void => {
    events.push(e);
    if (events.length > 200) events.shift();
    for (const l of [...listeners]) {
      try {
        l(e);
      } catch {
        // A listener's failure is its own; the collector goes on.
      }
    }
  };

  const take = (m: Message): void => {
    const r = isReportHeader(m.header) ? decodeReport(m.data) : null;
    m.release();
    if (!r) {
      invalid++;
      return;
    }
    reports++;
    const now = Date.now();
    const key = r.name ?? targetKey(m.address, r.stats.port);
    const e = entries.get(key);
    if (!e) {
      const view: NodeView = {
        node: key, name: r.name, address: m.address, port: r.stats.port, identity: r.stats.identity, runtime: r.runtime,
        version: r.version, state: "up", downSince: null, lastSeen: now, firstSeen: now, every: r.every, reports: 1,
        restarts: 0, lastRestart: null, rates: null, report: r,
      };
      entries.set(key, { view, history: [] });
      point(entries.get(key)!, r, null);
      emit({ type: "joined", node: key, time: now, identity: r.stats.identity });
      return;
    }
    const v = e.view;
    const previous = v.identity;
    const restarted = previous !== r.stats.identity;
    const wasDown = v.state === "down";
    const rates = restarted ? null : ratesBetween(r, v.report);
    Object.assign(v, {
      name: r.name, address: m.address, port: r.stats.port, identity: r.stats.identity, runtime: r.runtime, version: r.version,
      state: "up", downSince: null, lastSeen: now, every: r.every, reports: v.reports + 1, rates, report: r,
    });
    if (restarted) {
      v.restarts++;
      v.lastRestart = now;
      emit({ type: "restarted", node: key, time: now, identity: r.stats.identity, previous });
    } else if (wasDown) {
      emit({ type: "up", node: key, time: now, identity: r.stats.identity });
    }
    point(e, r, rates);
  };

  const point = (e: Entry, r: Report, rates: NodeRates | null): void => {
    const s = r.stats;
    e.history.push({
      time: s.time, messagesIn: rates?.messagesIn ?? 0, messagesOut: rates?.messagesOut ?? 0, bytesIn: rates?.bytesIn ?? 0,
      bytesOut: rates?.bytesOut ?? 0, errors: rates?.errors ?? 0, slotsInUse: s.slotsInUse, queued: s.queued, unacked: s.unacked,
      connections: s.connections, ackRttMs: s.lastAckRttMs,
    });
    if (e.history.length > keep) e.history.shift();
  };

  const node = await Chirp.start({ ...options.config, synchronous: false, port: options.port ?? 0, onMessage: take });

  // Down detection: a node is down once `downAfter` of its intervals passed without a report.
  const check = (): void => {
    const now = Date.now();
    for (const { view: v } of entries.values()) {
      const silent = now - v.lastSeen;
      if (v.state === "up" && silent > downAfter * v.every * 1000) {
        v.state = "down";
        v.downSince = now;
        v.rates = null;
        emit({ type: "down", node: v.node, time: now, identity: v.identity, silentMs: silent });
      }
    }
  };
  const checker = setInterval(check, 50);

  const c: Collector = {
    node,
    port: node.port,
    http: null,
    prefix,
    nodes: (o = {}) => [...entries.values()].map((e) => ({ ...e.view, ...(o.history ? { history: e.history.slice() } : {}) })),
    events: () => events.slice(),
    on: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    counts: () => ({ reports, invalid }),
    close: async () => {
      clearInterval(checker);
      await server?.close();
      await node.close();
    },
  };
  let server: CollectorHttp | undefined;
  if (options.http !== undefined) {
    const h = typeof options.http === "number" ? { port: options.http } : options.http;
    try {
      server = await serveCollector(c, { port: h.port ?? 0, host: h.host ?? "127.0.0.1" });
    } catch (e) {
      clearInterval(checker);
      await node.close();
      throw e;
    }
    (c as { http: Collector["http"] }).http = { host: server.host, port: server.port };
  }
  return c;
}
