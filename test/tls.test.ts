// TLS (protocol.md §1.2, §1.3, §1.5): mutual certificates as libchirp does them, on every runtime.
// Certificates come from scripts/make-test-certs.sh at test time (test/support/tls-certs.ts).
// What each runtime's TLS can do (tls/node-tls.ts): Node (OpenSSL) everything; Deno (rustls) and
// Bun (BoringSSL) have no DHE suites, and Deno refuses X.509 v1 client certificates.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as net from "node:net";
import * as tls from "node:tls";
import { spawn } from "node:child_process";
import { writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Chirp, ChirpError, type ChirpConfig, type Message } from "../adapters/index.ts";
import type { RuntimeName } from "../adapters/runtime.ts";
import { node } from "./support/nodes.ts";
import { until, sleep, failure } from "./support/wait.ts";
import { RawPeer, silentServer, refusedPort } from "./support/raw-peer.ts";
import { handshake, frame, text, hex } from "./support/wire.ts";
import { startPeer, type Peer } from "./support/process.ts";
import { runtime } from "./support/runtime.ts";
import { testCertDir, pem } from "./support/tls-certs.ts";

const dir = testCertDir();
const chain = (name: string): ChirpConfig["tls"] => ({ certChain: pem(name, dir), dhParams: pem("dh.pem", dir) });
const ALWAYS = (name = "node1.pem"): ChirpConfig => ({ encryption: "always", tls: chain(name) });

/** A node that records what it receives and the errors it reports. */
async function recorder(cfg: ChirpConfig): Promise<{ n: Chirp; got: Message[]; errors: ChirpError[] }> {
  const got: Message[] = [];
  const errors: ChirpError[] = [];
  const n = await node({
    ...cfg,
    onMessage: (m) => { got.push(m); m.release(); },
    onError: (e) => errors.push(e as ChirpError),
  });
  return { n, got, errors };
}

/** A raw node:tls client (no Chirp) with the given options: a RawPeer over TLS. */
function rawTls(port: number, o: tls.ConnectionOptions, localAddress?: string): RawPeer {
  const socket = localAddress ? net.connect({ host: "127.0.0.1", port, localAddress }) : undefined;
  return new RawPeer(tls.connect({ host: "127.0.0.1", port, socket, checkServerIdentity: () => undefined, ...o }));
}

function parts(name: string): { key: string; certs: string[] } {
  const blocks = pem(name, dir).match(/-----BEGIN ([A-Z ]+)-----[\s\S]+?-----END \1-----/g)!;
  return { key: blocks.find((b) => b.includes("PRIVATE KEY"))!, certs: blocks.filter((b) => b.includes("CERTIFICATE")) };
}

// ---------------------------------------------------------------- config

test("config: encryption and tls are validated with VALUE_ERROR naming the field", async () => {
  for (const [cfg, field] of [
    [{ encryption: "sometimes" }, "config.encryption"],
    [{ encryption: "always" }, "config.tls"],
    [{ encryption: "always", tls: {} }, "config.tls"],
    [{ tls: { certChain: "/etc/chirp/cert.pem" } }, "config.tls.certChain"],
    [{ tls: { key: pem("node1.key", dir) } }, "config.tls.cert"],
    [{ tls: { certChain: pem("node1.pem", dir), key: pem("node1.key", dir) } }, "config.tls.certChain"],
    [{ tls: { certChain: pem("node1.pem", dir), dhParams: pem("node1.crt", dir) } }, "config.tls.dhParams"],
    [{ tls: { certChain: pem("node1.pem", dir), pfx: "x" } }, "config.tls.pfx"],
  ] as [ChirpConfig, string][]) {
    const f = await failure(Chirp.start({ port: 0, ...cfg }));
    assert.is(f.code, "VALUE_ERROR", JSON.stringify(cfg).slice(0, 80));
    assert.ok(f.message.includes(field), `${f.message} names ${field}`);
  }
  // Bytes work as well as text; key/cert/ca as separate PEMs too.
  const enc = new TextEncoder();
  const a = await node({ encryption: "always", tls: { certChain: enc.encode(pem("node1.pem", dir)) } });
  const b = await node({ encryption: "always", tls: { key: pem("node2.key", dir), cert: pem("node2.crt", dir), ca: pem("ca.crt", dir) }, onMessage: (m) => m.release() });
  assert.is(a.config.encryption, "always");
  await a.send(`127.0.0.1:${b.port}`, "separate PEMs");
  await a.close();
  await b.close();
});

// ---------------------------------------------------------------- round trips

for (const sync of [true, false]) {
  test(`${sync ? "sync" : "async"}: round trip with replies over TLS (encryption "always", 127.0.0.1)`, async () => {
    const replies: Message[] = [];
    const b = await node({ ...ALWAYS("node1.pem"), synchronous: sync, onMessage: (m) => { m.release(); m.reply(m.data, { header: "re" }).catch(() => {}); } });
    const a = await node({ ...ALWAYS("node2.pem"), synchronous: sync, onMessage: (m) => { replies.push(m); m.release(); } });
    const n = sync ? 50 : 2000;
    const sends: Promise<Uint8Array>[] = [];
    for (let i = 0; i < n; i++) sends.push(a.send(`127.0.0.1:${b.port}`, `m${i}`));
    const ids = await Promise.all(sends);
    await until(() => replies.length === n, 20000, "replies");
    assert.equal(replies.map((m) => m.text()), ids.map((_, i) => `m${i}`));
    assert.equal(replies.map((m) => hex(m.identity)), ids.map(hex));
    assert.is(replies[0].port, b.port);
    await a.close();
    await b.close();
  });
}

test("1 MiB payload both ways over TLS", async () => {
  const mib = new Uint8Array(1 << 20).map((_, i) => (i * 7 + 3) & 0xff);
  const replies: Message[] = [];
  const b = await node({ ...ALWAYS(), onMessage: (m) => { m.release(); m.reply(m.data).catch(() => {}); } });
  const a = await node({ ...ALWAYS("node2.pem"), onMessage: (m) => { replies.push(m); m.release(); } });
  await a.send(`127.0.0.1:${b.port}`, mib);
  await until(() => replies.length === 1, 20000, "the 1 MiB reply");
  assert.equal(replies[0].data, mib);
  await a.close();
  await b.close();
});

test("a raw TLS client with a valid certificate gets the chirp handshake inside TLS", async () => {
  const { n: b, got } = await recorder(ALWAYS());
  const p = parts("node2.pem");
  const c = rawTls(b.port, { key: p.key, cert: p.certs.join("\n"), ca: [pem("ca.crt", dir)] });
  await until(() => c.buf.length >= 18, 5000, "the handshake");
  assert.is(new DataView(c.buf.buffer).getUint16(0), b.port);
  c.write(handshake(4242));
  c.write(frame({ data: text("raw tls") }));
  await until(() => got.length === 1);
  assert.is(got[0].text(), "raw tls");
  assert.is(got[0].port, 4242);
  c.sock.destroy();
  await b.close();
});

// ---------------------------------------------------------------- certificates

test("X.509 v1 leaf certificates (libchirp's example layout)", async () => {
  // v1 has the v1 leaf; node1 a v3 one from the same CA. Fresh pairs, since a connection is
  // reused in both directions.
  // node1 dials v1: v1 presents its leaf as a TLS server; every runtime's client accepts it.
  {
    const { n: v1, got, errors } = await recorder(ALWAYS("v1.pem"));
    const n1 = await node(ALWAYS("node1.pem"));
    await n1.send(`127.0.0.1:${v1.port}`, "to the v1 node");
    await until(() => got.length === 1);
    assert.equal(errors, []);
    await n1.close();
    await v1.close();
  }
  // v1 dials node1: v1 presents its leaf as a TLS client certificate.
  {
    const v1 = await node(ALWAYS("v1.pem"));
    const { n: n1, got, errors } = await recorder(ALWAYS("node1.pem"));
    const p = v1.send(`127.0.0.1:${n1.port}`, "from the v1 node");
    if (runtime !== "deno") {
      await p;
      await until(() => got.length === 1);
      assert.equal(errors, []);
    } else {
      // Deno's TLS server (rustls/webpki) refuses X.509 v1 client certificates: a clear
      // TLS_ERROR on both sides instead of a working connection.
      const f = await failure(p);
      assert.is(f.code, "TLS_ERROR");
      await until(() => errors.length > 0);
      assert.is(errors[0].code, "TLS_ERROR");
      assert.match(errors[0].message, /certificate was refused/);
    }
    await v1.close();
    await n1.close();
  }
});

test("a peer without a certificate is refused (TLS_ERROR); the node carries on", async () => {
  const { n: b, got, errors } = await recorder(ALWAYS());
  const c = rawTls(b.port, { ca: [pem("ca.crt", dir)] });
  await until(() => c.closed, 5000, "the raw client to be refused");
  assert.ok(c.buf.length === 0, "no chirp bytes reach a client without a certificate");
  await until(() => errors.length === 1);
  assert.is(errors[0].code, "TLS_ERROR");
  assert.match(errors[0].message, /certificate/);
  const a = await node(ALWAYS("node2.pem"));
  await a.send(`127.0.0.1:${b.port}`, "still fine");
  assert.is(got.length, 1);
  await a.close();
  await b.close();
});

test("a foreign-CA certificate is refused in both directions (TLS_ERROR)", async () => {
  const { n: b, got, errors } = await recorder(ALWAYS());
  // f trusts our CA but presents a certificate from another CA: b refuses f as a client.
  const f = await node({ encryption: "always", tls: { key: pem("foreign.key", dir), cert: pem("foreign.crt", dir), ca: pem("ca.crt", dir) } });
  const f1 = await failure(f.send(`127.0.0.1:${b.port}`, "x"));
  assert.is(f1.code, "TLS_ERROR");
  await until(() => errors.length === 1);
  assert.is(errors[0].code, "TLS_ERROR");
  assert.match(errors[0].message, /certificate was refused/);
  assert.not.match(errors[0].message, /Deno refuses X\.509 v1/, "a foreign v3 certificate is not blamed on X.509 v1");
  if (runtime === "deno") assert.match(errors[0].message, /not signed by a CA among our trust anchors/);
  // b dials a node with a foreign chain: b refuses it as a server.
  const g = await node(ALWAYS("foreign.pem"));
  const f2 = await failure(b.send(`127.0.0.1:${g.port}`, "y"));
  assert.is(f2.code, "TLS_ERROR");
  assert.match(f2.message, /certificate was refused|certificate/);
  assert.is(got.length, 0);
  await f.close();
  await g.close();
  await b.close();
});

// ---------------------------------------------------------------- mismatches

test("TLS dialler, plaintext acceptor: fails fast, 'encryption settings disagree'", async () => {
  const { n: plain, errors } = await recorder({ encryption: "never" });
  const t = await node({ ...ALWAYS(), timeout: 20 });
  const f = await failure(t.send(`127.0.0.1:${plain.port}`, "x"));
  assert.is(f.code, "TLS_ERROR");
  assert.match(f.message, /encryption settings disagree: the peer answered in plaintext/, f.message);
  await until(() => errors.length === 1);
  assert.is(errors[0].code, "PROTOCOL_ERROR");
  assert.match(errors[0].message, /encryption settings disagree: the peer speaks TLS/);
  await t.close();
  await plain.close();
});

test("TLS dialler, plaintext acceptor whose handshake reads as a TLS record header (port 0x..03): still 'answered in plaintext', fast", async () => {
  // The acceptor's handshake is port (2 bytes), identity (16): with the port's low byte 3 a TLS
  // client takes it for a record header of version 3.x whose length is identity bytes 1-2 (a
  // length it would wait for, or one too long). Both must read as a plaintext answer.
  for (const recordLen of [0x0040, 0x3000, 0x5000]) {
    const identity = new Uint8Array(16).fill(0x41);
    identity[0] = 0x03;
    identity[1] = recordLen >> 8;
    identity[2] = recordLen & 0xff;
    let plain: Awaited<ReturnType<typeof recorder>> | undefined;
    for (let hi = 0x90; !plain && hi < 0xf0; hi++) {
      plain = await recorder({ encryption: "never", identity, port: (hi << 8) | 0x03 }).catch(() => undefined);
    }
    assert.ok(plain, "a free port with low byte 3");
    const t = await node({ ...ALWAYS(), timeout: 20 });
    const f = await failure(t.send(`127.0.0.1:${plain!.n.port}`, "x"));
    assert.is(f.code, "TLS_ERROR");
    assert.match(f.message, /encryption settings disagree: the peer answered in plaintext/, `record length ${recordLen}: ${f.message}`);
    await t.close();
    await plain!.n.close();
  }
});

test("plaintext dialler, TLS acceptor: fails fast, 'encryption settings disagree'", async () => {
  const { n: t, errors } = await recorder(ALWAYS());
  const plain = await node({ encryption: "never", timeout: 20 });
  const f = await failure(plain.send(`127.0.0.1:${t.port}`, "x"));
  assert.is(f.code, "PROTOCOL_ERROR");
  assert.match(f.message, /encryption settings disagree: the peer speaks TLS/);
  await until(() => errors.length === 1);
  assert.is(errors[0].code, "TLS_ERROR");
  assert.match(errors[0].message, /encryption settings disagree: the peer sent plaintext/);
  await plain.close();
  await t.close();
});

test("a refused port with TLS on is still CANNOT_CONNECT (not TLS_ERROR)", async () => {
  const a = await node(ALWAYS());
  const f = await failure(a.send(`127.0.0.1:${await refusedPort()}`, "x"));
  assert.is(f.code, "CANNOT_CONNECT");
  await a.close();
});

// ---------------------------------------------------------------- stalled handshakes

test("an incoming TLS handshake that never starts times out (TIMEOUT); only that connection", async () => {
  const { n: b, got, errors } = await recorder({ ...ALWAYS(), timeout: 0.3 });
  const silent = await RawPeer.connect(b.port); // connects and never speaks
  const a = await node(ALWAYS("node2.pem"));
  await a.send(`127.0.0.1:${b.port}`, "meanwhile");
  await until(() => silent.closed, 5000, "the silent connection to be closed");
  assert.is(errors.length, 1);
  assert.is(errors[0].code, "TIMEOUT");
  assert.match(errors[0].message, /TLS handshake/);
  await a.send(`127.0.0.1:${b.port}`, "after");
  assert.equal(got.map((m) => m.text()), ["meanwhile", "after"]);
  await a.close();
  await b.close();
});

test("a TLS server that never answers: the send fails with TIMEOUT (connect timeout)", async () => {
  const srv = await silentServer();
  const a = await node({ ...ALWAYS(), timeout: 0.3 });
  const f = await failure(a.send(`127.0.0.1:${srv.port}`, "x"));
  assert.is(f.code, "TIMEOUT");
  assert.is(a.connectionCount, 0);
  await a.close();
  await srv.close();
});

// ---------------------------------------------------------------- auto mode (protocol.md §1.2, §10.5)

test("auto: 127.0.0.1 stays plaintext; 127.0.0.2 is not loopback to libchirp's rule", async () => {
  const { n: b, got, errors } = await recorder({ tls: chain("node1.pem") }); // encryption: "auto"
  assert.is(b.config.encryption, "auto");
  // A raw plaintext peer from 127.0.0.1 speaks chirp without TLS.
  const peer = await RawPeer.connect(b.port);
  peer.write(handshake(1111));
  peer.write(frame({ data: text("plain from 127.0.0.1") }));
  await until(() => got.length === 1);
  assert.is(got[0].text(), "plain from 127.0.0.1");
  peer.close();
  // A plaintext peer from 127.0.0.2 is expected to speak TLS: it gets a TLS alert.
  const raw2 = await RawPeer.connect(b.port, "127.0.0.1", "127.0.0.2");
  raw2.write(handshake(2222));
  await raw2.until(() => raw2.closed, 5000, "the 127.0.0.2 plaintext peer to be closed");
  assert.is(raw2.buf[0], 0x15, "a TLS alert record");
  await until(() => errors.length === 1);
  assert.is(errors[0].code, "TLS_ERROR");
  assert.match(errors[0].message, /encryption settings disagree: the peer sent plaintext \(from 127\.0\.0\.2/);
  // A TLS client from 127.0.0.2 is served over TLS.
  const p = parts("node2.pem");
  const c = rawTls(b.port, { key: p.key, cert: p.certs.join("\n"), ca: [pem("ca.crt", dir)] }, "127.0.0.2");
  await until(() => c.buf.length >= 18, 5000, "the handshake over TLS");
  c.write(handshake(3333));
  c.write(frame({ data: text("tls from 127.0.0.2") }));
  await until(() => got.length === 2);
  assert.is(got[1].text(), "tls from 127.0.0.2");
  assert.is(got[1].address, "127.0.0.2");
  c.sock.destroy();
  await b.close();
});

test("auto without certificates: loopback works, a connection that needs TLS fails with TLS_ERROR", async () => {
  const { n: b, got, errors } = await recorder({});
  const a = await node({});
  await a.send(`127.0.0.1:${b.port}`, "plain");
  assert.is(got.length, 1);
  const f = await failure(a.send(`127.0.0.2:${b.port}`, "needs tls"));
  assert.is(f.code, "TLS_ERROR");
  assert.match(f.message, /this connection needs TLS \(encryption: auto, peer not loopback\) but no tls\.certChain\/key\/cert is configured/);
  const raw2 = await RawPeer.connect(b.port, "127.0.0.1", "127.0.0.2");
  await raw2.until(() => raw2.closed, 5000, "the 127.0.0.2 connection to be refused");
  await until(() => errors.length === 1);
  assert.is(errors[0].code, "TLS_ERROR");
  assert.match(errors[0].message, /needs TLS/);
  await a.close();
  await b.close();
});

test("auto: dialling 127.0.0.2 is asymmetric (source 127.0.0.1), as in libchirp: fails fast", async () => {
  const { n: b, errors } = await recorder({ tls: chain("node1.pem") });
  const a = await node({ tls: chain("node2.pem"), timeout: 20 });
  const f = await failure(a.send(`127.0.0.2:${b.port}`, "x"));
  assert.is(f.code, "TLS_ERROR");
  assert.match(f.message, /encryption settings disagree/, f.message);
  await until(() => errors.length === 1);
  assert.match(errors[0].message, /encryption settings disagree: the peer speaks TLS/);
  await a.close();
  await b.close();
});

// ---------------------------------------------------------------- TLS 1.2 with the openssl CLI

/** Runs an openssl command until `done()` or `ms`; returns its output. */
function openssl(args: string[], input: (w: (b: Uint8Array) => void, out: () => string) => Promise<void>, ms = 15000): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn("openssl", args, { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Uint8Array) => (out += new TextDecoder("latin1").decode(d)));
    child.stderr.on("data", (d: Uint8Array) => (out += new TextDecoder().decode(d)));
    child.stdin.on("error", () => {});
    const timer = setTimeout(() => child.kill(), ms);
    child.on("exit", () => {
      clearTimeout(timer);
      resolve(out);
    });
    input((b) => child.stdin.write(b), () => out).finally(() => child.kill());
  });
}

// Node (OpenSSL) offers libchirp's DHE suites; Deno (rustls) and Bun (BoringSSL) have no DHE,
// so a TLS 1.2 libchirp built on LibreSSL/OpenSSL 1.0 (DHE only) cannot talk to them; TLS 1.2
// with ECDHE and TLS 1.3 work there.
const hasDhe = runtime === "node";

test(`openssl s_client, TLS 1.2, DHE-RSA-AES256-GCM-SHA384 -> our node (${hasDhe ? "works" : "no DHE on this runtime"})`, async () => {
  const { n: b, got, errors } = await recorder(ALWAYS());
  const run = (cipher: string): Promise<string> => openssl(
    ["s_client", "-tls1_2", "-cipher", cipher, "-cert", join(dir, "node2.crt"), "-key", join(dir, "node2.key"),
      "-CAfile", join(dir, "ca.crt"), "-connect", `127.0.0.1:${b.port}`, "-nocommands", "-ign_eof"],
    async (write, out) => {
      const before = got.length;
      const end = Date.now() + 10000;
      while (!/Cipher is|handshake failure|alert|errno/i.test(out()) && Date.now() < end) await sleep(20);
      if (!/Cipher is (?!\(NONE\))/.test(out())) return;
      write(handshake(5555));
      write(frame({ data: text(`via ${cipher}`) }));
      while (got.length === before && Date.now() < end) await sleep(20);
    },
  );
  if (hasDhe) {
    const out = await run("DHE-RSA-AES256-GCM-SHA384");
    assert.match(out, /Protocol\s*:\s*TLSv1\.2/);
    assert.match(out, /Cipher is DHE-RSA-AES256-GCM-SHA384/);
    await until(() => got.length === 1, 5000, "the message sent by openssl");
    assert.is(got[0].text(), "via DHE-RSA-AES256-GCM-SHA384");
  } else {
    const out = await run("DHE-RSA-AES256-GCM-SHA384");
    assert.not.match(out, /Cipher is DHE/);
    await until(() => errors.length === 1, 5000, "the failed handshake to be reported");
    assert.is(errors[0].code, "TLS_ERROR");
    assert.match(errors[0].message, /no cipher suite in common with the peer \((Deno|Bun) has no DHE suites/);
  }
  // TLS 1.2 with ECDHE works everywhere.
  const n = got.length;
  const out2 = await run("ECDHE-RSA-AES256-GCM-SHA384");
  assert.match(out2, /Cipher is ECDHE-RSA-AES256-GCM-SHA384/);
  await until(() => got.length === n + 1, 5000, "the message over ECDHE");
  await b.close();
});

test(`our node -> openssl s_server -Verify, TLS 1.2 ${hasDhe ? "DHE" : "ECDHE"} (our client certificate is checked)`, async () => {
  const cipher = hasDhe ? "DHE-RSA-AES256-GCM-SHA384" : "ECDHE-RSA-AES256-GCM-SHA384";
  const port = await refusedPort();
  const a = await node({ ...ALWAYS("node1.pem"), synchronous: false });
  const out = await openssl(
    ["s_server", "-tls1_2", "-cipher", cipher, "-Verify", "2", "-verify_return_error", "-cert", join(dir, "node2.crt"),
      "-key", join(dir, "node2.key"), "-CAfile", join(dir, "ca.crt"), "-dhparam", join(dir, "dh.pem"),
      "-accept", `127.0.0.1:${port}`, "-naccept", "1", "-ign_eof"],
    async (write, out) => {
      const end = Date.now() + 10000;
      const sending = (async () => {
        for (;;) {
          try {
            return await a.send(`127.0.0.1:${port}`, "hello openssl");
          } catch (e) {
            // s_server may not listen yet (its output is buffered: no waiting for ACCEPT)
            if ((e as ChirpError).code !== "CANNOT_CONNECT" || Date.now() > end) throw e;
            await sleep(50);
          }
        }
      })();
      // Once s_server has checked our certificate, give it the "peer's" chirp handshake
      // (port 1: first byte 0, no s_server command letter); our node then sends its frame.
      // (Written earlier, s_server would finish the handshake inside SSL_write and not print
      // the connection details.)
      while (!/depth=0/.test(out()) && Date.now() < end) await sleep(20);
      write(handshake(1));
      await sending;
      while (!(out().includes("hello openssl") && /CIPHER is/.test(out())) && Date.now() < end) await sleep(20);
    },
  );
  assert.match(out, new RegExp(`CIPHER is ${cipher}`));
  assert.match(out, /depth=0 CN ?= ?chirp-node-1/);
  assert.match(out, /verify return:1/);
  assert.not.match(out, /verify error/);
  assert.ok(out.includes("hello openssl"), "our frame reached openssl");
  await a.close();
});

// ---------------------------------------------------------------- mixed runtimes

if (runtime === "node") {
  test("a Node <-> Deno <-> Bun mesh talks over TLS, with replies (every ordered pair)", async () => {
    const runtimes: RuntimeName[] = ["node", "deno", "bun"];
    const peers = new Map<RuntimeName, Peer>();
    const replies = new Map<string, Message>();
    const me = await node({ ...ALWAYS("node2.pem"), onMessage: (m) => { replies.set(hex(m.identity), m); m.release(); } });
    try {
      for (const rt of runtimes) peers.set(rt, await startPeer({ synchronous: true, policy: "echo", encryption: "always", tlsDir: dir, tlsCert: rt === "bun" ? "node2.pem" : "node1.pem" }, rt));
      for (const rt of runtimes) {
        const id = await me.send(`127.0.0.1:${peers.get(rt)!.port}`, `direct ${rt}`);
        await until(() => replies.has(hex(id)), 20000, `reply from ${rt}`);
        assert.is(replies.get(hex(id))!.text(), `direct ${rt}`);
      }
      for (const x of runtimes) {
        for (const y of runtimes) {
          if (x === y) continue;
          const id = await me.send(`127.0.0.1:${peers.get(x)!.port}`, `${x}->${y}`, { header: `fwd:${peers.get(y)!.port}` });
          await until(() => replies.has(hex(id)), 20000, `${x} -> ${y} -> ${x}`);
          assert.is(replies.get(hex(id))!.text(), `${x}->${y}`);
        }
      }
      assert.is(replies.size, 9);
      // A plaintext node cannot join: the mesh is really encrypted.
      const plain = await node({ encryption: "never", timeout: 20 });
      const f = await failure(plain.send(`127.0.0.1:${peers.get("deno")!.port}`, "x"));
      assert.match(f.message, /encryption settings disagree/);
      await plain.close();
    } finally {
      await me.close();
      for (const [rt, p] of peers) assert.is(await p.stop(), 0, `${rt} peer exit code`);
    }
  });
}

test.run();
