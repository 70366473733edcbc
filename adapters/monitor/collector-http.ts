// The collector's HTTP server (node:http, which Node, Deno and Bun all provide): the
// dashboard at / (dashboard.ts, one page with everything inline), GET /metrics (every node,
// Prometheus text format 0.0.4, collector-metrics.ts), GET /stats (JSON: the collector, its
// nodes and recent events; /stats?history=1 adds each node's recent points for the charts).
import { createServer } from "node:http";
import { ChirpError } from "../errors.ts";
import type { Collector, CollectorEvent, NodeView } from "./collector-types.ts";
import { renderCollectorMetrics } from "./collector-metrics.ts";
import { DASHBOARD_HTML } from "./dashboard.ts";

export interface CollectorHttp {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

/** What GET /stats answers. */
export interface CollectorStats {
  /** The collector itself: its node's identity (hex), its Chirp port, when the document was
   * made (Date.now()), its uptime in ms, reports taken and invalid ones (`counts()`), and how
   * many nodes are up and down. */
  collector: { identity: string; port: number; time: number; uptimeMs: number; reports: number; invalid: number; up: number; down: number };
  /** Every node seen (`Collector.nodes()`), with history only for /stats?history=1. */
  nodes: NodeView[];
  /** Recent events, oldest first (`Collector.events()`). */
  events: CollectorEvent[];
}

/** The collector's /stats document. */
export function collectorStats(c: Collector, history = false): CollectorStats {
  const nodes = c.nodes({ history });
  const s = c.node.stats();
  const up = nodes.filter((n) => n.state === "up").length;
  return {
    collector: { identity: s.identity, port: c.port, time: Date.now(), uptimeMs: s.uptimeMs, ...c.counts(), up, down: nodes.length - up },
    nodes,
    events: c.events(),
  };
}

export function serveCollector(c: Collector, options: { port: number; host: string }): Promise<CollectorHttp> {
  const { port, host } = options;
  const server = createServer((req, res) => {
    const [path, query = ""] = (req.url ?? "/").split("?");
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (path === "/" || path === "/index.html") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
      res.end(DASHBOARD_HTML);
    } else if (path === "/metrics") {
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
      res.end(renderCollectorMetrics(c));
    } else if (path === "/stats") {
      const history = new URLSearchParams(query).get("history") === "1";
      res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
      res.end(JSON.stringify(collectorStats(c, history)));
    } else {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found: try /, /metrics or /stats\n");
    }
  });
  return new Promise((resolve, reject) => {
    server.once("error", (e: Error & { code?: string }) => {
      reject(new ChirpError(e.code === "EADDRINUSE" ? "EADDRINUSE" : "FATAL", `cannot serve the collector on ${host}:${port}: ${e.message}`, { cause: e }));
    });
    server.listen(port, host, () => {
      const addr = server.address();
      resolve({
        host,
        port: typeof addr === "object" && addr ? addr.port : port,
        close: () => new Promise<void>((done) => {
          server.close(() => done());
          (server as { closeAllConnections?: () => void }).closeAllConnections?.();
        }),
      });
    });
  });
}
