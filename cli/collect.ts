// chirpcat collect: runs the control backchannel's collector (adapters/monitor/collector.ts)
// on --port (default 9000): nodes report to it (chirpcat --report, or startReporting in the
// API); --http serves the dashboard, /metrics and /stats. Prints one line per event on
// stdout ("TIME down NODE ..."), status lines on stderr; runs until SIGINT/SIGTERM, or until
// --count reports came. Also the [HOST:]PORT parser shared with --metrics.
import { collector, type Collector, type CollectorEvent } from "../adapters/monitor/mod.ts";
import type { ChirpConfig } from "../adapters/index.ts";
import { EXIT, UsageError } from "./options.ts";
import type { Ctx } from "./context.ts";
import { exitCodeOf, sleep } from "./io.ts";

/** "PORT", "HOST:PORT" or "[v6]:PORT" (host default 127.0.0.1), for --metrics and --http. */
export function hostPort(value: unknown, option: string): { host: string; port: number } {
  const m = /^(?:(.+):)?(\d+)$/.exec(String(value));
  const port = Number(m?.[2]);
  if (!m || !(port >= 0 && port <= 65535)) throw new UsageError(`--${option} ${String(value)}: expected PORT or HOST:PORT (port 0 to 65535)`);
  return { host: m[1]?.replace(/^\[(.*)\]$/, "$1") ?? "127.0.0.1", port };
}

/** One event as a line: ISO time, type, node, then what it says. */
export function eventLine(e: CollectorEvent): string {
  const what = e.type === "restarted" ? `identity ${e.previous} -> ${e.identity}`
    : e.type === "down" ? `identity ${e.identity}, silent ${(e.silentMs! / 1000).toFixed(1)} s`
    : `identity ${e.identity}`;
  return `${new Date(e.time).toISOString()} ${e.type} ${e.node} ${what}`;
}

export async function runCollect(ctx: Ctx, cfg: ChirpConfig): Promise<number> {
  const v = ctx.values;
  if (ctx.targets.length > 0) throw new UsageError(`collect takes no target (got ${ctx.targets.join(" ")}); nodes report to its --port`);
  const http = v.http !== undefined ? hostPort(v.http, "http") : undefined;
  const count = v.count === undefined ? 0 : Number(v.count);
  if (!Number.isInteger(count) || count < 0) throw new UsageError(`--count ${String(v.count)}: expected an integer >= 0`);
  const { port, onMessage: _, ...config } = cfg;
  let c: Collector;
  try {
    c = await collector({ port, ...(http ? { http } : {}), config });
  } catch (e) {
    ctx.out.err((e as Error).message);
    return exitCodeOf(e);
  }
  const info = (s: string): void => {
    if (!v.quiet) ctx.out.err(s);
  };
  info(`collecting reports on port ${c.port} (async)`);
  if (c.http) {
    const h = c.http.host.includes(":") ? `[${c.http.host}]` : c.http.host;
    info(`dashboard on http://${h}:${c.http.port}/ (and /metrics, /stats)`);
  }
  const off = c.on((e) => {
    if (!v.quiet) ctx.out.write(eventLine(e) + "\n");
  });
  try {
    while (!ctx.isStopped() && (count === 0 || c.counts().reports < count)) await Promise.race([sleep(50), ctx.stopped]);
  } finally {
    off();
    await c.close();
  }
  return EXIT.OK;
}
