// The SVG chart of bench/patterns-scale.ts (pub/sub to 8 and 64 subscribers, push/pull over
// 4 workers, Chirp next to zeromq.js): a bar panel per case, a cluster per runtime, the target
// (Chirp >= 2x zeromq.js) marked on Chirp's bars; and the row types both files share.
import type { RuntimeName } from "../adapters/runtime.ts";
import { barPanel, PANEL_H, PANEL_W, short, text, type Cluster } from "./chart.ts";

/** Chirp's target against zeromq.js (issue 19). */
export const TARGET = 2;

export type Impl = "zeromq" | "chirp";
/** A pattern case; `subscribers` set: pub/sub, else push/pull. */
export interface Case { id: string; title: string; unit: string; subscribers?: number }
/** One row of the results: medians in the case's unit; `baseline` is the runtime whose
 * zeromq.js figure `vsZeromq` divides by; `met`: vsZeromq >= TARGET. */
export interface Row { case: string; runtime: RuntimeName; impl: Impl; mode: string; count: number; runs: number[]; median: number; baseline: string | null; vsZeromq: number | null; met: boolean | null }

export function chart(cases: Case[], rows: Row[], subtitle: string): string {
  const W = 1040, H = 2 * PANEL_H + 110;
  const panel = (c: Case, x: number, y: number): string => {
    const clusters: Cluster[] = [...new Set(rows.filter((r) => r.case === c.id).map((r) => r.runtime))].map((rt) => {
      const mine = rows.filter((r) => r.case === c.id && r.runtime === rt);
      const chirp = mine.find((r) => r.impl === "chirp" && r.vsZeromq !== null);
      return {
        runtime: rt + (chirp && chirp.baseline !== rt ? ` (vs ${chirp.baseline} zmq)` : ""),
        targetValue: chirp ? (chirp.median / chirp.vsZeromq!) * TARGET : undefined,
        bars: mine.map((r) => ({
          kind: r.impl === "zeromq" ? "zeromq" : "chirp",
          color: r.impl === "chirp" && r.mode === "sync" ? "#9fc5e8" : r.impl === "chirp" && r.mode.includes("/") ? "#0b5394" : undefined,
          value: r.median,
          labels: [short(r.median), ...(r.vsZeromq !== null ? [`${r.vsZeromq.toFixed(2)}× zmq`] : [])],
        })),
      };
    });
    return barPanel(x, y, c.title, c.unit, clusters, `red: ${TARGET}× zeromq.js`);
  };
  const legend = [["#e69138", "zeromq.js"], ["#3d85c6", "Chirp async"], ["#0b5394", "Chirp async, more slots per worker"], ["#9fc5e8", "Chirp sync"]]
    .map(([color, label], i) => `<rect x="${560}" y="${440 + i * 22}" width="12" height="12" fill="${color}"/>` + text(578, 450 + i * 22, label, `font-size="12"`)).join("\n");
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    text(W / 2, 24, "Chirp patterns at scale next to zeromq.js: medians, 16 B payloads", `text-anchor="middle" font-size="16" font-weight="bold"`),
    text(W / 2, 42, subtitle, `text-anchor="middle" font-size="11" fill="#555"`),
    ...cases.map((c, i) => panel(c, 10 + (i % 2) * (PANEL_W + 20), 60 + Math.floor(i / 2) * (PANEL_H + 20))),
    legend,
    text(560, 530, `target (issue 19): Chirp >= ${TARGET}× zeromq.js with the same peers and processes`, `font-size="11" fill="#cc0000"`),
    text(560, 548, "red marks on Chirp bars: that runtime's zeromq.js figure x 2 (Bun: Node's)", `font-size="11" fill="#555"`),
    `</svg>`,
  ].join("\n") + "\n";
}
