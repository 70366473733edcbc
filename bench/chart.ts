// The SVG chart of bench/throughput.ts's results (hand-written SVG, no dependency): three
// grouped bar charts of the medians per runtime (16 B one-way msg/s, await loop and windows,
// with the 1 M msg/s target line and the sender's longest timer gap, 16 B round trips/s and 1 KiB MB/s with each runtime's target marked at 90 % / 60 % of
// its raw baseline; Chirp's bars labelled with their ratios), and the soak's RSS over the run.
// Its text and bar-panel helpers also draw bench/compare.ts's chart.
import type { Results } from "./throughput-results.ts";

const W = 1040;
export const PANEL_W = 500;
export const PANEL_H = 300;
export const COLORS = { raw: "#9e9e9e", zeromq: "#e69138", "chirp-await": "#9fc5e8", "chirp-window": "#6aa84f", chirp: "#3d85c6" } as const;
const RT_COLORS: Record<string, string> = { node: "#3d85c6", deno: "#6aa84f", bun: "#a64d79" };
const TARGET = "#cc0000";

const esc = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export function text(x: number, y: number, s: string, attrs = ""): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attrs}>${esc(s)}</text>`;
}

/** 1.2M, 754k, 115, 0.9 */
export function short(v: number): string {
  if (v >= 1e6) return `${Number((v / 1e6).toFixed(v >= 1e7 ? 1 : 2))}M`;
  if (v >= 1e4) return `${Math.round(v / 1e3)}k`;
  if (v >= 100 || Number.isInteger(v)) return String(Math.round(v));
  return v.toFixed(1);
}

/** Gridline values from 0 past `max`: about five steps of 1, 2 or 5 x 10^k. */
function linearTicks(max: number): number[] {
  const raw = Math.max(max, 1e-9) / 5;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * p).find((x) => x >= raw)!;
  const ticks = [0];
  while (ticks[ticks.length - 1] < max) ticks.push(ticks.length * step);
  return ticks;
}

/** A bar: filled with `color`, else its kind's colour. */
export interface Bar { kind: string; color?: string; value: number; labels: string[] }
export interface Cluster { runtime: string; bars: Bar[]; targetValue?: number }

/** A grouped bar chart in a panel at (x0, y0); `targetLine` is a value drawn across it,
 * `targetNote` says what the red marks are. `log`: logarithmic value axis. */
export function barPanel(x0: number, y0: number, title: string, unit: string, clusters: Cluster[], targetNote: string, targetLine?: number, log = false): string {
  const out: string[] = [];
  const left = x0 + 58, right = x0 + PANEL_W - 10, top = y0 + 48, bottom = y0 + PANEL_H - 30;
  const values = [...clusters.flatMap((c) => [...c.bars.map((b) => b.value), c.targetValue ?? 0]), targetLine ?? 0].filter((v) => v > 0);
  const ticks: number[] = [];
  let y: (v: number) => number;
  if (log) {
    const lo = Math.floor(Math.log10(Math.min(...values))), hi = Math.ceil(Math.log10(Math.max(...values) * 1.6));
    y = (v) => bottom - ((Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo)) * (bottom - top);
    for (let e = lo; e <= hi; e++) ticks.push(10 ** e);
  } else {
    ticks.push(...linearTicks(Math.max(1, ...values) * 1.25));
    const max = ticks[ticks.length - 1];
    y = (v) => bottom - (v / max) * (bottom - top);
  }
  out.push(text(x0 + PANEL_W / 2, y0 + 20, title, `text-anchor="middle" font-size="14" font-weight="bold"`));
  out.push(text(x0 + 8, top - 10, unit + (log ? " (log scale)" : ""), `font-size="11" fill="#555"`));
  out.push(text(right, top - 10, targetNote, `text-anchor="end" font-size="11" fill="${TARGET}"`));
  for (const v of ticks) {
    const yy = y(v);
    out.push(`<line x1="${left}" y1="${yy.toFixed(1)}" x2="${right}" y2="${yy.toFixed(1)}" stroke="#e5e5e5"/>`);
    out.push(text(left - 6, yy + 4, short(v), `text-anchor="end" font-size="10" fill="#555"`));
  }
  if (targetLine !== undefined) {
    const ty = y(targetLine);
    out.push(`<line x1="${left}" y1="${ty.toFixed(1)}" x2="${right}" y2="${ty.toFixed(1)}" stroke="${TARGET}" stroke-width="1.5" stroke-dasharray="6 3"/>`);
  }
  out.push(`<line x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}" stroke="#333"/>`);
  const cw = (right - left) / Math.max(1, clusters.length);
  clusters.forEach((c, ci) => {
    const bw = Math.min(46, (cw - 24) / Math.max(1, c.bars.length));
    const start = left + ci * cw + (cw - bw * c.bars.length) / 2;
    out.push(text(left + ci * cw + cw / 2, bottom + 18, c.runtime, `text-anchor="middle" font-size="12"`));
    c.bars.forEach((b, bi) => {
      const bx = start + bi * bw, by = y(b.value);
      out.push(`<rect x="${(bx + 2).toFixed(1)}" y="${by.toFixed(1)}" width="${(bw - 4).toFixed(1)}" height="${(bottom - by).toFixed(1)}" fill="${b.color ?? COLORS[b.kind as keyof typeof COLORS] ?? "#333"}"><title>${esc(`${c.runtime} ${b.kind}: ${b.labels.join(", ")}`)}</title></rect>`);
      // Labels above the bar; above a red mark instead when they would cross it.
      let labelY = by - 4;
      const marks: number[] = [];
      if (b.kind === "chirp" && c.targetValue !== undefined) {
        const ty = y(c.targetValue);
        out.push(`<line x1="${(bx - 2).toFixed(1)}" y1="${ty.toFixed(1)}" x2="${(bx + bw + 2).toFixed(1)}" y2="${ty.toFixed(1)}" stroke="${TARGET}" stroke-width="2" stroke-dasharray="4 2"/>`);
        marks.push(ty);
      }
      if (targetLine !== undefined) marks.push(y(targetLine));
      for (const ty of marks) {
        if (ty > labelY - b.labels.length * 11 - 2 && ty < labelY + 4) labelY = ty - 4;
      }
      b.labels.forEach((l, li) => {
        out.push(text(bx + bw / 2, labelY - (b.labels.length - 1 - li) * 11, l, `text-anchor="middle" font-size="${li === 0 ? 10 : 9}"${li === 0 ? "" : ` fill="${COLORS.chirp}" font-weight="bold"`}`));
      });
    });
  });
  return out.join("\n");
}

function soakPanel(x0: number, y0: number, res: Results): string {
  const out: string[] = [];
  const left = x0 + 58, right = x0 + PANEL_W - 10, top = y0 + 48, bottom = y0 + PANEL_H - 30;
  out.push(text(x0 + PANEL_W / 2, y0 + 20, "Soak: RSS during a Chirp async run (16 B)", `text-anchor="middle" font-size="14" font-weight="bold"`));
  if (!res.soak.length) {
    out.push(text(x0 + PANEL_W / 2, y0 + PANEL_H / 2, "no soak in this run (--soak 0)", `text-anchor="middle" font-size="12" fill="#555"`));
    return out.join("\n");
  }
  const maxN = Math.max(...res.soak.map((s) => s.count));
  // Head room above the lines for the legend.
  const rssTicks = linearTicks((Math.max(...res.soak.flatMap((s) => [s.receiver.rssMax, s.sender.rssMax])) / 1048576) * 1.7);
  const maxRss = rssTicks[rssTicks.length - 1];
  const x = (n: number): number => left + (n / maxN) * (right - left);
  const y = (mib: number): number => bottom - (mib / maxRss) * (bottom - top);
  out.push(text(x0 + 8, top - 10, "RSS MiB", `font-size="11" fill="#555"`));
  for (const v of rssTicks) {
    const yy = y(v);
    out.push(`<line x1="${left}" y1="${yy.toFixed(1)}" x2="${right}" y2="${yy.toFixed(1)}" stroke="#e5e5e5"/>`);
    out.push(text(left - 6, yy + 4, short(v), `text-anchor="end" font-size="10" fill="#555"`));
  }
  for (let i = 0; i <= 4; i++) out.push(text(x((maxN * i) / 4), bottom + 14, short((maxN * i) / 4), `text-anchor="middle" font-size="10" fill="#555"`));
  out.push(`<line x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}" stroke="#333"/>`);
  out.push(text(right, bottom + 26, "messages", `text-anchor="end" font-size="10" fill="#555"`));
  let ly = top + 4;
  for (const s of res.soak) {
    const color = RT_COLORS[s.runtime] ?? "#333";
    for (const [who, m, dash] of [["receiver", s.receiver, ""], ["sender", s.sender, ` stroke-dasharray="5 3"`]] as const) {
      const pts = m.samples.map((p) => `${x(p.n).toFixed(1)},${y(p.rss / 1048576).toFixed(1)}`).join(" ");
      out.push(`<polyline points="${pts}" fill="none" stroke="${color}" stroke-width="2"${dash}/>`);
      const wasm = m.coreChanged ? "wasm memory CHANGED" : "wasm memory unchanged";
      out.push(`<line x1="${left + 8}" y1="${ly}" x2="${left + 30}" y2="${ly}" stroke="${color}" stroke-width="2"${dash}/>`);
      out.push(text(left + 34, ly + 4, `${s.runtime} ${who}: ${(m.rssStart / 1048576).toFixed(0)} → ${(m.rssEnd / 1048576).toFixed(0)} MiB (max ${(m.rssMax / 1048576).toFixed(0)}), ${wasm}`, `font-size="10"`));
      ly += 13;
    }
  }
  return out.join("\n");
}

export function chartSvg(res: Results): string {
  const cluster = (gi: number, value: (r: { median: number; mbPerSec: number | null }) => number, target?: (raw: number) => number): Cluster[] =>
    res.results.map((rt) => {
      const g = rt.groups[gi];
      const raw = g.rows.find((r) => r.kind === "raw");
      return {
        runtime: rt.runtime,
        targetValue: target && raw ? target(value(raw)) : undefined,
        bars: g.rows.map((r) => {
          const labels = [short(value(r))];
          if (r.kind === "chirp") {
            if (g.chirpVsRaw !== null) labels.push(`${g.chirpVsRaw.toFixed(2)}× raw`);
            if (g.chirpVsZeromq !== null) labels.push(`${g.chirpVsZeromq.toFixed(2)}× zmq`);
          }
          if (r.kind === "chirp-await" && g.awaitVsZeromq != null) labels.push(`${g.awaitVsZeromq.toFixed(2)}× zmq`);
          if (r.timerGapMs?.length) labels.push(`gap ${Math.max(...r.timerGapMs).toFixed(0)} ms`);
          return { kind: r.kind, value: value(r), labels };
        }),
      };
    });
  const t = res.targets;
  const m = res.machine;
  const H = 2 * PANEL_H + 124;
  const legendY = 58;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    text(W / 2, 24, "Chirp throughput: medians per runtime, one connection, two processes", `text-anchor="middle" font-size="16" font-weight="bold"`),
    text(W / 2, 42, `${m.cpuModel}, ${m.cpuCount} CPUs, ${res.pinning}; median of ${res.options.runs} runs; load average ${res.loadAverage.start[0].toFixed(1)} at start; ${res.date.slice(0, 10)}; ${Object.entries(m.runtimes).map(([k, v]) => `${k} ${v}`).join(", ")}`, `text-anchor="middle" font-size="11" fill="#555"`),
    ...(["raw", "zeromq", "chirp-await", "chirp-window", "chirp"] as const).map((k, i) => `<rect x="${70 + i * 150}" y="${legendY}" width="12" height="12" fill="${COLORS[k]}"/>` + text(70 + i * 150 + 16, legendY + 10, k === "raw" ? "raw sockets (baseline)" : k === "zeromq" ? "zeromq.js (Node)" : k === "chirp-await" ? "Chirp await loop" : k === "chirp-window" ? "Chirp sync, window 16" : "Chirp async (windows)", `font-size="11"`)),
    `<line x1="830" y1="${legendY + 6}" x2="856" y2="${legendY + 6}" stroke="${TARGET}" stroke-width="2" stroke-dasharray="4 2"/>` + text(860, legendY + 10, "target", `font-size="11" fill="${TARGET}"`),
    barPanel(10, 80, "16 B one-way (Chirp async)", "msg/s", cluster(0, (r) => r.median), `target: ${short(t.asyncMsgPerSec)} msg/s`, t.asyncMsgPerSec, true),
    barPanel(10 + PANEL_W + 20, 80, "16 B round trips (Chirp sync)", "round trips/s", cluster(1, (r) => r.median, (raw) => raw * t.syncVsRaw), `target: ${t.syncVsRaw * 100} % of raw`),
    barPanel(10, 80 + PANEL_H + 20, "1 KiB one-way (Chirp async)", "MB/s payload", cluster(2, (r) => r.mbPerSec ?? 0, (raw) => raw * t.kibVsRaw), `target: ${t.kibVsRaw * 100} % of raw`),
    soakPanel(10 + PANEL_W + 20, 80 + PANEL_H + 20, res),
    text(W / 2, H - 8, `targets: async ≥ ${short(t.asyncMsgPerSec)} msg/s; sync ≥ ${t.syncVsRaw * 100} % of raw round trips; 1 KiB ≥ ${t.kibVsRaw * 100} % of raw MB/s (red marks at those fractions of each runtime's raw bar)`, `text-anchor="middle" font-size="11" fill="#555"`),
    `</svg>`,
  ];
  return parts.join("\n") + "\n";
}
