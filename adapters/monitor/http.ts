// serveMetrics: a node's counters over HTTP, for Prometheus (GET /metrics) and for
// `chirpcat monitor` (GET /stats, JSON). Uses node:http, which Node, Deno and Bun all provide.
// Separate from the package's main entry (import from "chirp-wasm/monitor") so that nodes that
// do not serve metrics never load an HTTP server.
import { createServer } from "node:http";
import type { Chirp } from "../chirp.ts";
import { ChirpError } from "../errors.ts";
import { renderPrometheus } from "./stats.ts";

/** The HTTP server `serveMetrics` started. */
export interface MetricsServer {
  /** The port the HTTP server listens on. */
  readonly port: number;
  /** Stops the HTTP server and drops its open connections; the node itself keeps running.
   * Resolves once the server is closed. */
  close(): Promise<void>;
}

/** Where `serveMetrics` listens and how it names the Prometheus metrics. */
export interface MetricsOptions {
  /** Default 0: the system picks a free port. */
  port?: number;
  /** Default "127.0.0.1" (counters are not for the whole network unless you say so). */
  host?: string;
  /** Metric name prefix, default "chirp". */
  prefix?: string;
}

/** Serves `node.stats()`: GET /metrics (Prometheus text format 0.0.4) and GET /stats (JSON). */
export function serveMetrics(node: Chirp, options: MetricsOptions = {}): Promise<MetricsServer> {
  const { port = 0, host = "127.0.0.1", prefix = "chirp" } = options;
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (path === "/metrics") {
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
      res.end(renderPrometheus(node.stats(), prefix));
    } else if (path === "/stats") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(node.stats()));
    } else {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found: try /metrics or /stats\n");
    }
  });
  return new Promise((resolve, reject) => {
    server.once("error", (e: Error & { code?: string }) => {
      reject(new ChirpError(e.code === "EADDRINUSE" ? "EADDRINUSE" : "FATAL", `cannot serve metrics on ${host}:${port}: ${e.message}`, { cause: e }));
    });
    server.listen(port, host, () => {
      const addr = server.address();
      const bound = typeof addr === "object" && addr ? addr.port : port;
      resolve({
        port: bound,
        close: () => new Promise<void>((done) => {
          server.close(() => done());
          (server as { closeAllConnections?: () => void }).closeAllConnections?.();
        }),
      });
    });
  });
}

export { renderPrometheus };
