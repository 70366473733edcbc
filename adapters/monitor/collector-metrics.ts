// The collector's /metrics: every node's latest stats in the Prometheus text format, one
// family per metric with each node's series labelled node="<key>" (renderPrometheus of
// stats.ts per node, regrouped), plus what the collector knows of each node (up, report age,
// restarts, the reporter's own traffic) and its own totals (chirp_collector_*, unlabelled).
import { label, renderPrometheus } from "./stats.ts";
import type { Collector, NodeView } from "./collector-types.ts";

interface Family {
  head: string[];
  samples: string[];
}

/** Adds node="key" as the first label of a sample line. */
function withNode(line: string, node: string): string {
  const l = `node="${label(node)}"`;
  const brace = line.indexOf("{");
  const space = line.indexOf(" ");
  if (brace >= 0 && brace < space) return `${line.slice(0, brace + 1)}${l},${line.slice(brace + 1)}`;
  return `${line.slice(0, space)}{${l}}${line.slice(space)}`;
}

/** Renders the collector's view of all nodes. */
export function renderCollectorMetrics(c: Collector, now: number = Date.now()): string {
  const p = c.prefix;
  const families = new Map<string, Family>();
  const family = (name: string, head: string[] = []): Family => {
    let f = families.get(name);
    if (!f) families.set(name, (f = { head, samples: [] }));
    return f;
  };
  const nodes = c.nodes();
  for (const n of nodes) {
    let current: Family | undefined;
    for (const line of renderPrometheus(n.report.stats, p).split("\n")) {
      if (line === "") continue;
      const help = /^# HELP (\S+)/.exec(line);
      if (help) {
        current = family(help[1], [line]);
        continue;
      }
      if (line.startsWith("# TYPE ")) {
        if (current && current.head.length === 1) current.head.push(line);
        continue;
      }
      current?.samples.push(withNode(line, n.node));
    }
  }
  const own = (name: string, help: string, type: "counter" | "gauge", rows: [NodeView, string, number][]): void => {
    const f = family(`${p}_${name}`, [`# HELP ${p}_${name} ${help}.`, `# TYPE ${p}_${name} ${type}`]);
    for (const [n, extra, v] of rows) f.samples.push(`${p}_${name}{node="${label(n.node)}"${extra}} ${v}`);
  };
  const each = (f: (n: NodeView) => number): [NodeView, string, number][] => nodes.map((n) => [n, "", f(n)]);
  own("node_up", "1 while the node reports, 0 once it missed its intervals (down)", "gauge", each((n) => (n.state === "up" ? 1 : 0)));
  own("node_last_report_age_seconds", "Seconds since the node's last report", "gauge", each((n) => (now - n.lastSeen) / 1000));
  own("node_reports_total", "Reports the collector received from the node", "counter", each((n) => n.reports));
  own("node_restarts_total", "Times the node came back with another identity", "counter", each((n) => n.restarts));
  own("node_report_interval_seconds", "The node's reporting interval", "gauge", each((n) => n.every));
  own("node_process_uptime_seconds", "Seconds since the node's process started", "gauge", each((n) => n.report.processUptimeMs / 1000));
  own("node_meta", "The node's identity, runtime and version", "gauge", nodes.map((n) => [
    n, `,identity="${label(n.identity)}",runtime="${label(n.runtime)}",version="${label(n.version)}",address="${label(n.address)}"`, 1,
  ]));
  own("report_messages_out_total", "Reports the node wrote (not in its messages_out_total)", "counter", each((n) => n.report.own.reports));
  own("report_bytes_out_total", "Bytes of those reports (not in its bytes_out_total)", "counter", each((n) => n.report.own.bytes));
  own("report_dropped_total", "Reports the node skipped because the previous one was in flight", "counter", each((n) => n.report.own.dropped));
  own("report_errors_total", "Reports whose send failed, by error code (not in its send_errors_total)", "counter",
    nodes.flatMap((n) => Object.entries(n.report.own.failed).map(([code, v]): [NodeView, string, number] => [n, `,code="${label(code)}"`, v ?? 0])));
  const out: string[] = [];
  for (const f of families.values()) out.push(...f.head, ...f.samples);
  const counts = c.counts();
  const up = nodes.filter((n) => n.state === "up").length;
  out.push(`# HELP ${p}_collector_reports_total Reports received by the collector.`, `# TYPE ${p}_collector_reports_total counter`, `${p}_collector_reports_total ${counts.reports}`);
  out.push(`# HELP ${p}_collector_invalid_reports_total Messages to the collector that were no valid report.`, `# TYPE ${p}_collector_invalid_reports_total counter`, `${p}_collector_invalid_reports_total ${counts.invalid}`);
  out.push(`# HELP ${p}_collector_nodes Nodes known to the collector, by state.`, `# TYPE ${p}_collector_nodes gauge`, `${p}_collector_nodes{state="up"} ${up}`, `${p}_collector_nodes{state="down"} ${nodes.length - up}`);
  return out.join("\n") + "\n";
}
