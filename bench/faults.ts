// The hostile-peer battery of issue 15, re-runnable: each attack against a victim node in its
// own process (test/fixtures/peer.ts, defaults unless said), from this process, on 127.0.0.1.
// Prints one line per figure and a closing JSON line (prefix "RESULT "). Run it in a checkout
// built with npm run build (copy it into another checkout to measure that one):
//
//   node build/js/bench/faults.js [--runtimes node,deno,bun] [--only crash,churn,storm,tls,partition]
//
// crash:     50 connections, each a handshake and a frame header announcing 100 MiB, then 1 byte,
//            the victim under ulimit -v (a limit it starts under, see ULIMIT_KIB); then a good
//            peer sends one message. Figures: survived, good peer served, onError lines.
// churn:     5,000 short-lived peers in sequence, each a handshake (its own port), one REQ_ACK
//            message, its ACK awaited, close. Figure: how many got their ACK.
// storm:     2,000 junk connections (218 random bytes each, then close), then a Chirp node
//            sends one sync message, retried every 250 ms. Figure: ms until it succeeded.
// tls:       2,000 TCP connections from 127.0.0.2 (TLS by the loopback rule, protocol.md §1.2)
//            that send 5 bytes of a TLS record and stall. Figures: the victim's open fds after them,
//            ms to open them all (mostly the attacker's SYN retries when the victim's accept
//            queue is full: about 1 s each), and the victim's CPU ms (user + system, from
//            /proc/PID/stat) while they were opened.
// partition: a sync sender (timeout 2 s) through a TCP proxy to the victim; the proxy goes
//            silent (drops everything, new connections accepted and ignored), then 20 sends
//            are queued. Figure: ms until the slowest settled, and how they failed.
import process from "node:process";
import * as net from "node:net";
import { readdirSync, readFileSync } from "node:fs";
import { Chirp } from "../adapters/index.ts";
import type { RuntimeName } from "../adapters/runtime.ts";
import { Child, type Json } from "../test/support/process.ts";
import { RawPeer } from "../test/support/raw-peer.ts";
import { handshake, frame } from "../test/support/wire.ts";
import { testCertDir } from "../test/support/tls-certs.ts";
import { runtimesArg, strArg } from "./harness.ts";

const ULIMIT_KIB: Record<RuntimeName, number> = { node: 13_000_000, deno: 46_000_000, bun: 2_000_000 };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const errLines = (v: Child): string[] => v.events.filter((e) => e.ev === "err").map((e) => String(e.msg ?? e.code));

function victim(rt: RuntimeName, cfg: Json, ulimitKiB?: number): Promise<Child & { port: number }> {
  return Child.start("test/fixtures/peer.ts", [JSON.stringify(cfg)], { runtime: rt, ulimitKiB });
}

/** Distinct error lines with their counts (the first few). */
function summary(lines: string[]): string[] {
  const n = new Map<string, number>();
  for (const l of lines) {
    const k = l.replace(/\d+\.\d+\.\d+\.\d+(:\d+)?/g, "ADDR").replace(/\b\d{4,}\b/g, "N");
    n.set(k, (n.get(k) ?? 0) + 1);
  }
  return [...n].slice(0, 6).map(([k, c]) => `${c}× ${k}`);
}

async function crash(rt: RuntimeName): Promise<Json> {
  const v = await victim(rt, { synchronous: false }, ULIMIT_KIB[rt]);
  const peers: RawPeer[] = [];
  for (let i = 0; i < 50; i++) {
    const p = await RawPeer.connect(v.port).catch(() => null);
    if (!p) break;
    p.write(handshake(20000 + i));
    p.write(frame({ dataLen: 100 * 1024 * 1024, data: new Uint8Array(1) }));
    peers.push(p);
  }
  await sleep(500);
  const good = await Chirp.start({ port: 0, bindV6: null, synchronous: false, timeout: 2 });
  const served = await good.send(`127.0.0.1:${v.port}`, "good").then(() => v.waitFor((e) => e.ev === "recv", 3000, "recv").then(() => true, () => false), () => false);
  await good.close();
  for (const p of peers) p.close();
  await sleep(1000);
  const survived = !v.exited;
  const errors = errLines(v);
  await v.stop();
  return { survived, served, exit: v.exitCode ?? v.signal, stderr: survived ? "" : v.errTail(2), errors: errors.length, lines: summary(errors) };
}

async function oneSync(port: number, hsPort: number): Promise<boolean> {
  const p = await RawPeer.connect(port).catch(() => null);
  if (!p) return false;
  const id = crypto.getRandomValues(new Uint8Array(16));
  p.write(handshake(hsPort));
  p.write(frame({ type: 1, identity: id, data: new Uint8Array([1]) }));
  const t0 = Date.now();
  while (Date.now() - t0 < 3000) {
    if (p.frames().some((f) => f.type === 2 && f.identity.every((b, i) => b === id[i]))) break;
    if (p.closed) break;
    await sleep(1);
  }
  const ok = p.frames().some((f) => f.type === 2);
  p.close();
  return ok;
}

async function churn(rt: RuntimeName): Promise<Json> {
  const v = await victim(rt, {});
  let ok = 0;
  for (let i = 0; i < 5000; i++) if (await oneSync(v.port, 10000 + i)) ok++;
  const errors = errLines(v);
  await v.stop();
  return { succeeded: ok, of: 5000, lines: summary(errors) };
}

async function storm(rt: RuntimeName): Promise<Json> {
  const v = await victim(rt, {});
  const t0 = Date.now();
  for (let b = 0; b < 20; b++) {
    await Promise.all(Array.from({ length: 100 }, async () => {
      const p = await RawPeer.connect(v.port).catch(() => null);
      if (!p) return;
      p.write(crypto.getRandomValues(new Uint8Array(218)));
      const s = Date.now();
      while (!p.closed && p.buf.length < 18 && Date.now() - s < 1000) await sleep(2);
      p.close();
    }));
  }
  const stormMs = Date.now() - t0;
  await sleep(200);
  const a = await Chirp.start({ port: 0, bindV6: null, timeout: 2 });
  const t1 = Date.now();
  let refused = 0;
  let servedMs = -1;
  while (Date.now() - t1 < 70_000) {
    if (await a.send(`127.0.0.1:${v.port}`, "legit").then(() => true, () => false)) {
      servedMs = Date.now() - t1;
      break;
    }
    refused++;
    await sleep(250);
  }
  await a.close();
  const errors = errLines(v);
  await v.stop();
  return { stormMs, servedMs, refused, lines: summary(errors) };
}

async function stalledTls(rt: RuntimeName): Promise<Json> {
  const v = await victim(rt, { tlsDir: testCertDir() });
  const fds = (): number => readdirSync(`/proc/${v.pid}/fd`).length;
  const before = fds();
  // utime + stime of the victim, in clock ticks (100 per second on Linux).
  const cpuMs = (): number => {
    const stat = readFileSync(`/proc/${v.pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) * 10;
  };
  const cpu0 = cpuMs();
  const socks: net.Socket[] = [];
  const t0 = Date.now();
  for (let b = 0; b < 20; b++) {
    await Promise.all(Array.from({ length: 100 }, async () => {
      const s = await new Promise<net.Socket | null>((res) => {
        const c = net.connect({ port: v.port, host: "127.0.0.1", localAddress: "127.0.0.2" }, () => res(c));
        c.on("error", () => res(null));
      });
      if (!s) return;
      s.write(new Uint8Array([0x16, 0x03, 0x01, 0x02, 0x00])); // a record header, then nothing
      socks.push(s);
    }));
  }
  const openMs = Date.now() - t0;
  const victimCpuMs = cpuMs() - cpu0;
  await sleep(1000);
  const held = fds() - before;
  for (const s of socks) s.destroy();
  const errors = errLines(v);
  await v.stop();
  return { fdsHeld: held, openMs, victimCpuMs, lines: summary(errors) };
}

/** A TCP proxy to `port` that can go silent (partition: bytes dropped both ways). */
async function proxy(port: number): Promise<{ port: number; cut(): void; close(): void }> {
  let silent = false;
  const all: net.Socket[] = [];
  const srv = net.createServer((c) => {
    all.push(c);
    c.on("error", () => {});
    if (silent) return; // accepted, never answered
    const u = net.connect({ port, host: "127.0.0.1" });
    all.push(u);
    u.on("error", () => c.destroy());
    c.on("data", (d) => { if (!silent) u.write(d); });
    u.on("data", (d) => { if (!silent) c.write(d); });
    c.on("close", () => u.destroy());
    u.on("close", () => c.destroy());
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  return {
    port: (srv.address() as net.AddressInfo).port,
    cut: () => (silent = true),
    close: () => {
      for (const s of all) s.destroy();
      srv.close();
    },
  };
}

async function partition(rt: RuntimeName): Promise<Json> {
  const v = await victim(rt, {});
  const px = await proxy(v.port);
  // Outgoing connections stay filed under the dialled remote (the proxy), protocol.md §1.4.
  const a = await Chirp.start({ port: 0, bindV6: null, timeout: 2 });
  const target = `127.0.0.1:${px.port}`;
  for (let i = 0; i < 3; i++) await a.send(target, "warm");
  px.cut();
  const t0 = Date.now();
  const settled = await Promise.all(Array.from({ length: 20 }, (_, i) => a.send(target, `m${i}`).then(
    () => ({ ms: Date.now() - t0, code: "ok" }), (e: { code?: string }) => ({ ms: Date.now() - t0, code: e.code ?? "?" }))));
  await a.close();
  px.close();
  await v.stop();
  const ms = settled.map((s) => s.ms);
  const codes: Record<string, number> = {};
  for (const s of settled) codes[s.code] = (codes[s.code] ?? 0) + 1;
  return { timeoutMs: 2000, firstMs: Math.min(...ms), slowestMs: Math.max(...ms), codes };
}

const ATTACKS: Record<string, (rt: RuntimeName) => Promise<Json>> = { crash, churn, storm, tls: stalledTls, partition };
const only = strArg("only", Object.keys(ATTACKS).join(",")).split(",");
const results: Record<string, Record<string, Json>> = {};
for (const rt of runtimesArg()) {
  for (const name of only) {
    const r = await ATTACKS[name](rt).catch((e) => ({ failed: String(e) }));
    (results[rt] ??= {})[name] = r;
    console.log(`${rt} ${name}: ${JSON.stringify(r)}`);
  }
}
console.log(`RESULT ${JSON.stringify(results)}`);
process.exit(0);
