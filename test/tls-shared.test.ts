// Incoming TLS on a server shared by a node's connections (tls/accept.ts, issue #15): many
// handshakes at once, good and refused ones mixed, each get their own outcome and their own
// reason in onError (the shared server's events are matched to the right connection), and a
// client (Node's, in a Node process) resumes its TLS session on a later connection, which on
// Node and Bun needs the server (its ticket keys) of the first one. Real sockets, real
// certificates (scripts/make-test-certs.sh).
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as net from "node:net";
import * as tls from "node:tls";
import process from "node:process";
import { spawn } from "node:child_process";
import type { ChirpError } from "../adapters/index.ts";
import { node } from "./support/nodes.ts";
import { until } from "./support/wait.ts";
import { runtime } from "./support/runtime.ts";
import { testCertDir, pem } from "./support/tls-certs.ts";

const dir = testCertDir();
const ca = pem("ca.crt", dir);

interface Outcome { from: string; chirpBytes: number; closed: boolean }

/** A raw TLS client from `from` (a loopback address); records what the node sent it. */
function dial(port: number, from: string, o: tls.ConnectionOptions): Outcome {
  const r: Outcome = { from, chirpBytes: 0, closed: false };
  const socket = net.connect({ host: "127.0.0.1", port, localAddress: from });
  const c = tls.connect({ socket, ca, checkServerIdentity: () => undefined, ...o });
  c.on("data", (b: Buffer) => {
    r.chirpBytes += b.length;
    if (r.chirpBytes >= 18) c.destroy();
  });
  c.on("error", () => {});
  c.on("close", () => (r.closed = true));
  return r;
}

const good = { key: pem("node2.key", dir), cert: pem("node2.crt", dir) };
const foreign = { key: pem("foreign.key", dir), cert: pem("foreign.crt", dir) };

test("a burst of TLS handshakes, good and refused mixed: each connection gets its own outcome and reason", async () => {
  const errors: ChirpError[] = [];
  const b = await node({ encryption: "always", bindV6: null, tls: { certChain: pem("node1.pem", dir) }, onError: (e) => errors.push(e as ChirpError) });
  // Sources tell the outcomes apart: 127.0.0.2 good, .3 a foreign-CA certificate, .4 none.
  const all: Outcome[] = [];
  for (let i = 0; i < 40; i++) {
    const kind = i % 5;
    if (kind < 3) all.push(dial(b.port, "127.0.0.2", good));
    else if (kind === 3) all.push(dial(b.port, "127.0.0.3", foreign));
    else all.push(dial(b.port, "127.0.0.4", {}));
  }
  const goods = all.filter((o) => o.from === "127.0.0.2");
  const bad = all.filter((o) => o.from !== "127.0.0.2");
  await until(() => goods.every((o) => o.chirpBytes >= 18) && bad.every((o) => o.closed), 20000, "every handshake to end");
  assert.is(goods.length, 24);
  assert.ok(bad.every((o) => o.chirpBytes === 0), "no chirp bytes reach a refused client");
  await until(() => errors.length >= 16, 5000, "16 onError reports");
  const of = (a: string): ChirpError[] => errors.filter((e) => e.message.includes(`with ${a} failed`));
  assert.is(errors.length, 16, errors.map((e) => e.message).join("\n"));
  assert.ok(errors.every((e) => e.code === "TLS_ERROR"));
  assert.is(of("127.0.0.2").length, 0, "no good connection is blamed");
  assert.is(of("127.0.0.3").length, 8);
  assert.ok(of("127.0.0.3").every((e) => /certificate was refused/.test(e.message)), of("127.0.0.3")[0]?.message);
  assert.is(of("127.0.0.4").length, 8);
  assert.ok(of("127.0.0.4").every((e) => /sent no certificate/.test(e.message)), of("127.0.0.4")[0]?.message);
  // Many more after it, in sequence: every one is accepted.
  for (let i = 0; i < 20; i++) {
    const o = dial(b.port, "127.0.0.2", good);
    await until(() => o.chirpBytes >= 18, 5000, `connection ${i}`);
  }
  assert.is(errors.length, 16);
  await b.close();
});

/** Node's TLS client, in a Node process (Deno's node:tls client does not offer a saved session):
 * two connections from 127.0.0.2, the second offering the first one's session; then a
 * foreign-CA client, twice if it was given a session. */
const RESUMING_CLIENT = `
import * as tls from "node:tls"; import * as net from "node:net"; import { readFileSync } from "node:fs";
setTimeout(() => { console.error("the client timed out"); process.exit(2); }, 10000).unref();
const [port, dir] = process.argv.slice(1); const f = (n) => readFileSync(dir + "/" + n);
const one = (who, session) => new Promise((res) => {
  const c = tls.connect({ socket: net.connect({ port: +port, host: "127.0.0.1", localAddress: "127.0.0.2" }),
    key: f(who + ".key"), cert: f(who + ".crt"), ca: f("ca.crt"), checkServerIdentity: () => undefined, session });
  let ticket, got = 0;
  const end = () => { clearInterval(done); res({ reused: c.isSessionReused(), ticket, got }); c.destroy(); };
  c.on("session", (t) => (ticket = t));
  c.on("data", (b) => { got += b.length; });
  const done = setInterval(() => { if (got >= 18 && (ticket || session)) end(); }, 10);
  c.on("error", () => {});
  c.on("close", end);
});
const a = await one("node2"); const b = await one("node2", a.ticket);
// A refused (foreign-CA) client: no chirp bytes, and a session it got (if any) is refused too.
const x = await one("foreign"); const y = x.ticket ? await one("foreign", x.ticket) : { got: 0 };
console.log(JSON.stringify({ first: a.reused, second: b.reused, foreignBytes: x.got + y.got }));`;

test("a client resumes its TLS session on a later connection (the node's TLS server is reused)", async () => {
  const b = await node({ encryption: "always", bindV6: null, tls: { certChain: pem("node1.pem", dir) } });
  const nodeBin = runtime === "node" ? process.execPath : "node";
  const child = spawn(nodeBin, ["--input-type=module", "-e", RESUMING_CLIENT, String(b.port), dir], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "", err = "";
  child.stdout!.on("data", (d: Buffer) => (out += d));
  child.stderr!.on("data", (d: Buffer) => (err += d));
  const code = await new Promise<number | null>((res) => child.on("close", res));
  assert.is(code, 0, err);
  const r = JSON.parse(out) as { first: boolean; second: boolean; foreignBytes: number };
  assert.not.ok(r.first);
  // With one server per connection Node and Bun could not resume (each server had its own
  // ticket keys); Deno resumed even then (its TLS server keeps sessions beyond one server).
  assert.ok(r.second, "the second connection resumed the first one's session");
  assert.is(r.foreignBytes, 0, "a foreign-CA client gets no chirp bytes, with or without a session");
  await b.close();
});

test.run();
