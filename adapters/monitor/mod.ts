// The package's monitoring entry ("chirp-wasm/monitor"): one node's counters over HTTP
// (serveMetrics), and the control backchannel: nodes report to a collector over Chirp itself
// (startReporting), the collector keeps every node's counters, notices who went down and
// serves /metrics, /stats and a dashboard (collector). docs/monitoring.md tells how.
export { serveMetrics, renderPrometheus, type MetricsServer, type MetricsOptions } from "./http.ts";
export { startReporting, type ReportOptions, type Reporter } from "./report.ts";
export { REPORT_HEADER, REPORT_VERSION, decodeReport, encodeReport, isReportHeader, type Report, type OwnTraffic } from "./report-format.ts";
export { collector } from "./collector.ts";
export type { Collector, CollectorEvent, CollectorOptions, HistoryPoint, NodeRates, NodeState, NodeView } from "./collector-types.ts";
export { collectorStats, type CollectorStats } from "./collector-http.ts";
export { renderCollectorMetrics } from "./collector-metrics.ts";
