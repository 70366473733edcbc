// Load: 500 synchronous Chirp nodes in 5 processes (test/fixtures/load-peers.ts, 100 nodes
// each) send to one receiver node (in this process) at once, one message at a time each, for a
// few seconds. Checked by identity: every resolved send arrived exactly once and intact, nothing
// arrived that was not sent, nothing failed; the receiver's wasm memory stayed the same; every
// process closed cleanly. Latency (send -> resolve, i.e. write + the receiver's release + ACK)
// is reported, never asserted. The receiver keeps its default maxConnections (1024) and
// maxRemotes (1024): 500 senders need 500 of each. Knobs: CHIRP_LOAD_PROCS (5),
// CHIRP_LOAD_PER_PROC (100), CHIRP_LOAD_SECONDS (3).
import { test } from "uvu";
import * as assert from "uvu/assert";
import process from "node:process";
import { node } from "./support/nodes.ts";
import { Child } from "./support/process.ts";
import { patternOk } from "./support/payload.ts";
import { hex } from "./support/wire.ts";
import { runtime } from "./support/runtime.ts";

const PROCS = Number(process.env.CHIRP_LOAD_PROCS ?? 5);
const PER = Number(process.env.CHIRP_LOAD_PER_PROC ?? 100);
const SECONDS = Number(process.env.CHIRP_LOAD_SECONDS ?? 3);
const TIMEOUT = 20; // s: generous, so that a slow box reports high latency instead of failures

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

test(`load: ${PROCS * PER} sync nodes in ${PROCS} ${runtime} processes send to one node for ${SECONDS} s`, async () => {
  const magic = crypto.getRandomValues(new Uint8Array(9));
  const magicHex = hex(magic);
  const got = new Map<string, number>(); // identity -> times received
  let corrupt = 0;
  let foreign = 0;
  let peakConns = 0;
  const receiver = await node({
    timeout: TIMEOUT,
    backlog: 127,
    onMessage(m) {
      const id = m.identity;
      let ours = true;
      for (let i = 0; i < 9; i++) if (id[7 + i] !== magic[i]) ours = false;
      if (!ours) {
        foreign++;
      } else {
        const seq = new DataView(id.buffer, id.byteOffset).getUint32(3);
        const size = Number(new TextDecoder().decode(m.header));
        if (m.data.length !== size || !patternOk(id[15] ^ (seq & 255), m.data)) corrupt++;
        const k = hex(id.subarray(0, 7));
        got.set(k, (got.get(k) ?? 0) + 1);
      }
      m.release();
    },
  });
  const mem0 = receiver.coreMemoryBytes;
  const procs: Child[] = [];
  try {
    const t0 = Date.now();
    for (let p = 0; p < PROCS; p++) {
      procs.push(new Child("test/fixtures/load-peers.ts", [JSON.stringify({ proc: p, count: PER, target: receiver.port, timeout: TIMEOUT, magic: magicHex })]));
    }
    await Promise.all(procs.map((lp, p) => lp.waitFor((e) => e.ev === "ready", 60_000, `load process ${p} to start ${PER} nodes`)));
    console.log(`load: ${PROCS * PER} nodes started in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const watch = setInterval(() => {
      peakConns = Math.max(peakConns, receiver.connectionCount);
    }, 50);
    const start = Date.now() + 200;
    const until = start + SECONDS * 1000;
    for (const lp of procs) lp.send({ op: "go", until });
    const done = await Promise.all(procs.map((lp, p) => lp.waitFor((e) => e.ev === "done", SECONDS * 1000 + 4 * TIMEOUT * 1000, `load process ${p} to finish`)));
    clearInterval(watch);
    peakConns = Math.max(peakConns, receiver.connectionCount);
    const elapsed = (Date.now() - start) / 1000;

    // Count by identity: resolved at the senders vs received at the receiver.
    let sent = 0;
    let ok = 0;
    let lost = 0;
    let dup = 0;
    let silentNodes = 0;
    const failures = new Map<string, number>();
    const lat: number[] = [];
    for (const d of done) {
      const p = d.proc as number;
      (d.nodes as { sent: number; ok: number; failed: [number, string][] }[]).forEach((n, i) => {
        sent += n.sent;
        ok += n.ok;
        if (n.ok === 0) silentNodes++;
        const failedSeqs = new Set(n.failed.map(([s]) => s));
        for (const [, code] of n.failed) failures.set(code, (failures.get(code) ?? 0) + 1);
        for (let seq = 0; seq < n.sent; seq++) {
          const id = new Uint8Array(7);
          id[0] = p;
          id[1] = i >> 8;
          id[2] = i & 255;
          new DataView(id.buffer).setUint32(3, seq);
          const k = hex(id);
          const c = got.get(k) ?? 0;
          if (c > 1) dup++;
          if (!failedSeqs.has(seq) && c === 0) lost++;
          got.delete(k);
        }
      });
      for (const l of d.lat as number[]) lat.push(l);
    }
    const phantom = got.size; // received, but no sender ever sent it
    lat.sort((a, b) => a - b);
    const memAfter = receiver.coreMemoryBytes;
    console.log(`load (${runtime}): ${PROCS * PER} senders, ${sent} sends in ${elapsed.toFixed(1)} s (${Math.round(ok / elapsed)} msg/s): ${ok} resolved, ${sent - ok} failed ${JSON.stringify(Object.fromEntries(failures))}; receiver: lost ${lost}, duplicated ${dup}, phantom ${phantom}, corrupt ${corrupt}, foreign ${foreign}`);
    console.log(`load (${runtime}): latency send -> resolve: p50 ${percentile(lat, 50)} ms, p90 ${percentile(lat, 90)} ms, p99 ${percentile(lat, 99)} ms, max ${lat.at(-1)} ms; receiver connections peak ${peakConns}, wasm memory ${mem0} -> ${memAfter} bytes`);
    assert.is(lost, 0, "resolved sends that never arrived");
    assert.is(dup, 0, "messages received twice");
    assert.is(phantom, 0, "messages received that nobody sent");
    assert.is(corrupt, 0, "messages with wrong bytes");
    assert.is(sent - ok, 0, `failed sends: ${JSON.stringify(Object.fromEntries(failures))}`);
    assert.is(silentNodes, 0, "senders that got nothing through");
    assert.is(memAfter, mem0, "the receiver's wasm memory grew");
    assert.ok(peakConns <= receiver.config.maxConnections);

    // Clean shutdown everywhere.
    for (const lp of procs) {
      lp.send({ op: "close" });
      lp.endInput(); // Bun stays alive while its stdin pipe is open
    }
    const closed = await Promise.all(procs.map((lp, p) => lp.waitFor((e) => e.ev === "closed", 30_000, `load process ${p} to close`)));
    for (const c of closed) assert.is(c.pending, 0);
    const exits = await Promise.all(procs.map((lp) => lp.exit));
    for (const e of exits) assert.equal(e, { code: 0, signal: null }, "a load process did not exit cleanly");
  } finally {
    for (const lp of procs) lp.kill("SIGKILL");
    await receiver.close();
  }
});

test.run();
