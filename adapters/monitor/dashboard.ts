// The collector's web dashboard (served at / by collector-http.ts): one self-contained page,
// no network beyond its own collector (styles, script and charts are inline; the charts are
// SVG drawn by the script below). It polls /stats?history=1 every second and redraws: one
// card per node with live charts of messages/s, bytes/s, slots, queue, unacknowledged and
// the ACK round trip; errors by code; down nodes first, in red, with the time they went down;
// restarts marked. Each card carries data-node and data-state for tests and scripts.

const STYLE = `
*{box-sizing:border-box}body{margin:0;font:13px/1.35 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f4f5f7;color:#1d2330}
header{display:flex;align-items:center;gap:16px;padding:10px 18px;background:#1d2330;color:#fff}
header h1{font-size:17px;margin:0;font-weight:600}#summary{display:flex;gap:8px}
.pill{padding:2px 10px;border-radius:10px;font-weight:600;background:#3a4254}.pill.up{background:#1f883d}.pill.down{background:#d1242f}
#updated{margin-left:auto;opacity:.7;font-size:12px}
main{display:grid;grid-template-columns:repeat(auto-fill,minmax(400px,1fr));gap:12px;padding:12px 18px}
.node{background:#fff;border:1px solid #d0d7de;border-left:6px solid #1f883d;border-radius:6px;padding:10px 12px}
.node.down{border-color:#d1242f;border-left-color:#d1242f;background:#fff0f0}
.head{display:flex;align-items:center;gap:8px}.head h2{font-size:15px;margin:0;font-weight:600;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.badge{margin-left:auto;padding:1px 8px;border-radius:4px;font-weight:700;font-size:12px;color:#fff;background:#1f883d}
.down .badge{background:#d1242f}.restart{padding:1px 6px;border-radius:4px;font-size:12px;background:#fff3cd;color:#7a4b00;border:1px solid #e3b341}
.meta{color:#57606a;font-size:12px;margin:2px 0 4px}.downline{color:#d1242f;font-weight:700;margin:4px 0}
.nums{display:grid;grid-template-columns:repeat(5,1fr);gap:2px 8px;margin:4px 0}.nums div{font-size:11px;color:#57606a}.nums b{display:block;font-size:14px;color:#1d2330}
.charts{display:grid;grid-template-columns:1fr 1fr;gap:6px}.chart{border:1px solid #eaeef2;border-radius:4px;padding:2px 4px;background:#fff}
.chart .t{font-size:11px;color:#57606a;display:flex;gap:6px}.chart .t i{font-style:normal}.down .chart{opacity:.55}
.errors{font-size:12px;margin-top:4px;color:#57606a}.errors b{color:#d1242f}

.events{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:10px 12px}.events h2{font-size:14px;margin:0 0 4px}
.events ol{margin:0;padding-left:18px;font-size:12px;color:#57606a}.events .down{color:#d1242f;font-weight:600}.events .restarted{color:#9a6700;font-weight:600}.events .up,.events .joined{color:#1f883d}
.empty{padding:30px 18px;color:#57606a}`;

// The page's script (plain ES2017, no imports): poll, then render cards and charts.
const SCRIPT = `
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({"&":"&amp;","<":"&lt;",">":"&gt;","\\"":"&quot;","'":"&#39;"})[c]);
const clock = (t) => new Date(t).toLocaleTimeString("en-GB", { hour12: false });
const ago = (ms) => { const s = Math.max(0, Math.round(ms / 1000)); return s < 120 ? s + " s" : s < 7200 ? Math.round(s / 60) + " min" : Math.round(s / 3600) + " h"; };
const si = (v) => v >= 1e9 ? (v / 1e9).toFixed(1) + "G" : v >= 1e6 ? (v / 1e6).toFixed(1) + "M" : v >= 1e3 ? (v / 1e3).toFixed(1) + "k" : v >= 10 || v === 0 ? String(Math.round(v)) : v.toFixed(1);
const dur = (ms) => { const s = Math.floor(ms / 1000); return Math.floor(s / 3600) + ":" + String(Math.floor(s % 3600 / 60)).padStart(2, "0") + ":" + String(s % 60).padStart(2, "0"); };
// The charts' time axis: the history there is, from 20 s up to 2 min.
function chart(title, pts, series, now, unit) {
  const W = 180, H = 46;
  const WINDOW = Math.min(120000, Math.max(20000, pts.length ? now - pts[0].time : 0));
  let max = 0;
  for (const p of pts) for (const s of series) { const v = p[s.k]; if (v !== null && v > max) max = v; }
  const top = max > 0 ? max * 1.1 : 1;
  const x = (t) => (W * (1 - (now - t) / WINDOW)).toFixed(1);
  const y = (v) => (H - 2 - (H - 4) * v / top).toFixed(1);
  let lines = "";
  for (const s of series) {
    const xy = pts.filter((p) => p[s.k] !== null && now - p.time <= WINDOW).map((p) => x(p.time) + "," + y(p[s.k]));
    if (xy.length === 1) xy.unshift("0," + xy[0].split(",")[1]);
    if (xy.length) lines += '<polyline fill="none" stroke="' + s.c + '" stroke-width="1.6" points="' + xy.join(" ") + '"/>';
  }
  const last = pts.length ? pts[pts.length - 1] : null;
  const legend = series.map((s) => '<i style="color:' + s.c + '">' + s.l + " " + (last && last[s.k] !== null ? si(last[s.k]) : "-") + "</i>").join("");
  return '<div class="chart"><div class="t">' + title + (unit ? " (" + unit + ")" : "") + legend + '<span style="margin-left:auto">max ' + si(max) + '</span></div>' +
    '<svg viewBox="0 0 ' + W + " " + H + '" width="100%" height="' + H + '" preserveAspectRatio="none"><line x1="0" y1="' + (H - 1) + '" x2="' + W + '" y2="' + (H - 1) + '" stroke="#d0d7de"/>' + lines + "</svg></div>";
}
function errorsOf(c) { return Object.entries(c.sendErrors || {}).map(([k, v]) => ["send " + k, v]).concat(Object.entries(c.connectionErrors || {}).map(([k, v]) => ["conn " + k, v])); }
function card(n, now) {
  const s = n.report.stats, r = n.rates || { messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0, errors: 0 };
  const down = n.state === "down";
  const h = n.history || [];
  const errs = errorsOf(s);
  const restart = n.restarts > 0 ? '<span class="restart" title="identity changed">restarted ' + clock(n.lastRestart) + (n.restarts > 1 ? " \\u00d7" + n.restarts : "") + "</span>" : "";
  return '<article class="node ' + n.state + '" data-node="' + esc(n.node) + '" data-state="' + n.state + '" data-restarts="' + n.restarts + '">' +
    '<div class="head"><h2 title="' + esc(n.node) + '">' + esc(n.node) + "</h2>" + restart + '<span class="badge">' + (down ? "DOWN" : "UP") + "</span></div>" +
    '<div class="meta">' + esc(n.runtime) + " " + esc(n.report.runtimeVersion) + " \\u00b7 " + (s.synchronous ? "sync" : "async") + " \\u00b7 port " + s.port + " \\u00b7 id " + esc(n.identity.slice(0, 8)) + " \\u00b7 pid " + n.report.pid + " \\u00b7 up " + dur(s.uptimeMs) + "</div>" +
    (down ? '<div class="downline">DOWN since ' + clock(n.downSince) + " (" + ago(now - n.downSince) + " ago) \\u00b7 last report " + clock(n.lastSeen) + "</div>" : "") +
    '<div class="nums"><div><b>' + si(r.messagesIn) + "</b>msgs in/s</div><div><b>" + si(r.messagesOut) + "</b>msgs out/s</div><div><b>" + si(s.messagesIn) + "</b>msgs in</div><div><b>" + si(s.messagesOut) + "</b>msgs out</div><div><b>" + s.connections + "</b>connections</div>" +
    "<div><b>" + si(r.bytesIn) + "</b>B in/s</div><div><b>" + si(r.bytesOut) + "</b>B out/s</div><div><b>" + s.slotsInUse + "</b>slots in use</div><div><b>" + s.queued + " / " + s.unacked + "</b>queued / unacked</div><div><b>" + (s.lastAckRttMs === null ? "-" : s.lastAckRttMs.toFixed(2) + " ms") + "</b>ACK RTT</div></div>" +
    '<div class="charts">' +
    chart("msgs/s", h, [{ k: "messagesIn", c: "#0969da", l: "in" }, { k: "messagesOut", c: "#8250df", l: "out" }], now) +
    chart("bytes/s", h, [{ k: "bytesIn", c: "#0969da", l: "in" }, { k: "bytesOut", c: "#8250df", l: "out" }], now) +
    chart("slots", h, [{ k: "slotsInUse", c: "#1f883d", l: "slots" }, { k: "queued", c: "#bf8700", l: "queue" }, { k: "unacked", c: "#cf222e", l: "unack" }], now) +
    chart("RTT", h, [{ k: "ackRttMs", c: "#0550ae", l: "ms" }, { k: "errors", c: "#d1242f", l: "err/s" }], now) +
    "</div>" +
    '<div class="errors">errors: ' + (errs.length ? errs.map(([k, v]) => "<b>" + esc(k) + " " + v + "</b>").join(", ") : "none") +
    " \\u00b7 reports " + n.reports + " (every " + n.every + " s, dropped " + n.report.own.dropped + ")</div></article>";
}
async function poll() {
  let d;
  try {
    const res = await fetch("/stats?history=1", { cache: "no-store" });
    d = await res.json();
  } catch (e) {
    $("updated").textContent = "collector unreachable: " + e.message;
    return;
  }
  const now = d.collector.time;
  const nodes = d.nodes.slice().sort((a, b) => (a.state === b.state ? (a.node < b.node ? -1 : 1) : a.state === "down" ? -1 : 1));
  const up = nodes.length - d.collector.down;
  $("summary").innerHTML = '<span class="pill">' + nodes.length + " nodes</span>" + '<span class="pill up">' + up + " up</span>" + (d.collector.down ? '<span class="pill down" id="downcount">' + d.collector.down + " down</span>" : "");
  const events = '<section class="events"><h2>Events</h2><ol>' + d.events.slice(-14).reverse().map((e) => '<li class="' + e.type + '">' + clock(e.time) + " " + e.type + " " + esc(e.node) + (e.type === "restarted" ? " (identity " + esc(e.previous.slice(0, 8)) + " \\u2192 " + esc(e.identity.slice(0, 8)) + ")" : e.type === "down" ? " (silent " + ago(e.silentMs) + ")" : "") + "</li>").join("") + "</ol></section>";
  $("nodes").innerHTML = (nodes.length ? nodes.map((n) => card(n, now)).join("") : '<div class="empty">No node has reported yet. Start one with startReporting(node, { to: "host:' + d.collector.port + '" }).</div>') + events;
  $("updated").textContent = "collector port " + d.collector.port + " \\u00b7 " + d.collector.reports + " reports \\u00b7 updated " + clock(now);
  document.title = (d.collector.down ? "(" + d.collector.down + " down) " : "") + "Chirp collector";
}
poll();
setInterval(poll, 1000);
`;

/** The dashboard page, complete. */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Chirp collector</title><style>${STYLE}</style></head>
<body><header><h1>Chirp collector</h1><div id="summary"></div><span id="updated">loading\u2026</span></header>
<main id="nodes"></main>
<script>${SCRIPT}</script></body></html>
`;
