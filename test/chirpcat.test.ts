// chirpcat as a user runs it: every command is a separate process on the runtime this file
// runs on (Node runs build/js/cli/chirpcat.js, Deno and Bun cli/chirpcat.ts), talking to the
// others over TCP. Covers the roles, the formats, sync and async, TLS files, exit codes, the
// --help text against the option table, monitor against --metrics, bench, and the README's
// walkthrough (its commands are read from README.md).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot as repo } from "./support/runtime.ts";
import { Child } from "./support/process.ts";
import { refusedPort } from "./support/raw-peer.ts";
import { testCertDir } from "./support/tls-certs.ts";
import { COMMANDS, EXIT, EXIT_HELP, OPTIONS, POOL_COMMANDS } from "../cli/options.ts";
import { renderStats } from "../cli/monitor.ts";
import type { ChirpStats } from "../adapters/index.ts";

const tmp = mkdtempSync(join(tmpdir(), "chirpcat-test-"));
const children = new Set<Child>();

/** Starts chirpcat with `args` (stdin: `input`, or nothing). */
function cli(args: string[], input?: string | Uint8Array): Child {
  const c = new Child("cli/chirpcat.ts", args, { cwd: repo, input: input ?? "" });
  children.add(c);
  void c.exit.then(() => children.delete(c));
  return c;
}

/** Starts a listening chirpcat (--port 0 unless given) and resolves with its port (and its
 * metrics port with --metrics). */
async function server(args: string[]): Promise<Child & { port: number; metrics: number }> {
  const p = cli(args.includes("--port") ? args : [...args, "--port", "0"]);
  await p.until(() => /listening on port \d+/.test(p.err()) && (!args.includes("--metrics") || /metrics on http:\/\/[^:]+:\d+/.test(p.err())), 20000, "listening");
  const port = Number(/listening on port (\d+)/.exec(p.err())![1]);
  const metrics = Number(/metrics on http:\/\/[^:]+:(\d+)/.exec(p.err())?.[1] ?? 0);
  return Object.assign(p, { port, metrics });
}

/** Resolves with the exit code, output and errors once the process ended (fails after `ms`). */
async function done(p: Child, ms = 20000): Promise<{ code: number | null; out: Uint8Array; text: string; err: string }> {
  const code = await p.finished(ms);
  return { code, out: p.out(), text: p.text(), err: p.err() };
}

const run = (args: string[], input?: string | Uint8Array) => done(cli(args, input));

/** Ends a process with SIGTERM and returns what it did. */
async function stop(p: Child) {
  p.kill("SIGTERM");
  return done(p);
}

const at = (p: { port: number }): string => `127.0.0.1:${p.port}`;
const lines = (s: string): string[] => s.split("\n").filter((l) => l !== "");

// ---------------------------------------------------------------- usage

test("--help lists every command, every option of the parser's table and every exit code", async () => {
  const r = await run(["--help"]);
  assert.is(r.code, 0);
  for (const c of COMMANDS) assert.match(r.text, new RegExp(`^  ${c.name} `, "m"), `command ${c.name}`);
  for (const c of POOL_COMMANDS) {
    assert.match(r.text, new RegExp(`^  ${c.name} `, "m"), `pool command ${c.name}`);
    const own = await run([c.name, "--help"]);
    assert.is(own.code, 0, `${c.name} --help`);
    assert.match(own.text, new RegExp(`^usage: chirpcat ${c.name} `), `${c.name} --help prints its usage`);
  }
  for (const o of OPTIONS) assert.match(r.text, new RegExp(`${o.short ? `-${o.short}, ` : "    "}--${o.name}\\b`), `option --${o.name}`);
  const listed = [...r.text.matchAll(/^ {2}(?:-\w, | {4})--([\w-]+)/gm)].map((m) => m[1]);
  assert.equal(listed, OPTIONS.map((o) => o.name), "no option in --help that the parser does not know");
  for (const [code] of EXIT_HELP) assert.match(r.text, new RegExp(`^ +${code}  \\S`, "m"), `exit code ${code}`);
  const version = JSON.parse(readFileSync(join(repo, "package.json"), "utf8")).version;
  assert.is((await run(["--version"])).text, `chirpcat ${version}\n`);
});

test("usage errors exit 2 with a usage line", async () => {
  const cases: [string[], RegExp][] = [
    [["listen", "--bogus"], /bogus/],
    [[], /no command/],
    [["frobnicate"], /unknown command "frobnicate"/],
    [["send", "127.0.0.1:1", "--echo"], /--echo does not apply to "send"/],
    [["send", "nowhere"], /not HOST:PORT/],
    [["listen", "--port", "80"], /port/],
    [["send", "127.0.0.1:1", "--format", "hex", "--data", "xyz"], /not hex/],
    [["send", "127.0.0.1:1", "--sync", "--async"], /exclude each other/],
    [["send", "127.0.0.1:1", "--file", join(tmp, "missing")], /--file/],
  ];
  await Promise.all(cases.map(async ([args, why]) => {
    const r = await run(args);
    assert.is(r.code, EXIT.USAGE, `${args.join(" ")}: ${r.err}`);
    assert.match(r.err, why);
  }));
  const r = await run(["listen", "--bogus"]);
  assert.match(r.err, /Usage: chirpcat COMMAND/);
});

// ---------------------------------------------------------------- send and listen

test("listen + send --data --count, --file (binary, raw), --stdin lines", async () => {
  const texts = await server(["listen", "--count", "6"]);
  assert.is((await run(["send", at(texts), "--data", "hello", "--count", "3"])).code, 0);
  const s = await run(["send", at(texts), "--stdin"], "one\ntwo\r\nthree");
  assert.is(s.code, 0, s.err);
  const l = await done(texts);
  assert.is(l.code, 0, l.err);
  assert.equal(lines(l.text), ["hello", "hello", "hello", "one", "two", "three"]);

  const bin = new Uint8Array(256).map((_, i) => i);
  writeFileSync(join(tmp, "bin"), bin);
  const raw = await server(["listen", "--count", "1", "--format", "raw"]);
  assert.is((await run(["send", at(raw), "--file", join(tmp, "bin")])).code, 0);
  const r = await done(raw);
  assert.equal(r.out, bin, "raw prints the bytes as they came");
});

test("formats: quoted, hex, ascii, json and msgpack, in and out", async () => {
  const out = async (fmt: string, ...sends: string[][]): Promise<string> => {
    const l = await server(["listen", "--count", String(sends.length), "--format", fmt]);
    for (const s of sends) {
      const r = await run(["send", at(l), ...s]);
      assert.is(r.code, 0, r.err);
    }
    const r = await done(l);
    assert.is(r.code, 0, r.err);
    return r.text;
  };
  const [quoted, hex, ascii, json, msgpack] = await Promise.all([
    out("quoted", ["--format", "quoted", "--data", '"\\x00\\xffhi\\n\\"q\\\\"']),
    out("hex", ["--format", "hex", "--data", "00ff 10"]),
    out("ascii", ["--format", "hex", "--data", "41000a42"]),
    out("json", ["--format", "json", "--data", '{"k":1}', "--header", "h1"], ["--format", "hex", "--data", "00ff"]),
    out("msgpack", ["--format", "hex", "--data", "c1"], ["--format", "msgpack", "--data", '{"a":[1,"x",true,null]}']),
  ]);
  assert.is(quoted, '"\\x00\\xffhi\\n\\"q\\\\"\n');
  assert.is(hex, "00ff10\n");
  assert.is(ascii, "A..B\n");
  const [j1, j2] = lines(json).map((l) => JSON.parse(l));
  assert.is(j1.data, '{"k":1}');
  assert.is(j1.header, "h1");
  assert.match(j1.from, /^127\.0\.0\.1:\d+$/);
  assert.match(j1.identity, /^[0-9a-f]{32}$/);
  assert.match(j1.node, /^[0-9a-f]{32}$/);
  assert.equal(j2.data, { hex: "00ff" }, "bytes that are not UTF-8");
  assert.equal(lines(msgpack).map((l) => JSON.parse(l)), [{ a: [1, "x", true, null] }], "the invalid message is skipped");
});

test("invalid msgpack: an error on stderr, and the listener goes on", async () => {
  const l = await server(["listen", "--count", "2", "--format", "msgpack"]);
  assert.is((await run(["send", at(l), "--format", "hex", "--data", "c1"])).code, 0);
  assert.is((await run(["send", at(l), "--format", "msgpack", "--data", "[1,2]"])).code, 0);
  const r = await done(l);
  assert.is(r.code, 0);
  assert.is(r.text, "[1,2]\n");
  assert.match(r.err, /not MessagePack/);
});

test("async mode: send and listen", async () => {
  const l = await server(["listen", "--async", "--count", "20"]);
  const s = await run(["send", at(l), "--async", "--data", "fast", "--count", "20"]);
  assert.is(s.code, 0, s.err);
  const r = await done(l);
  assert.equal(lines(r.text), Array(20).fill("fast"));
});

// ---------------------------------------------------------------- roles

for (const mode of ["--sync", "--async"]) {
  test(`${mode}: respond + request round trip (--data and --echo)`, async () => {
    const resp = await server(["respond", mode, "--data", "pong", "--count", "2"]);
    const echo = await server(["respond", mode, "--echo", "--format", "hex"]);
    const [r1, r2] = await Promise.all([
      run(["request", at(resp), mode, "--data", "ping", "--count", "2", "--verbose"]),
      run(["request", at(echo), mode, "--format", "hex", "--data", "0102ff", "--header", "h"]),
    ]);
    assert.is(r1.code, 0, r1.err);
    assert.is(r1.text, "pong\npong\n");
    assert.match(r1.err, new RegExp(`open to 127\\.0\\.0\\.1:${resp.port} node [0-9a-f]{32}`), "--verbose shows connection events");
    assert.is(r2.code, 0, r2.err);
    assert.is(r2.text, "0102ff\n");
    const s1 = await done(resp);
    assert.is(s1.code, 0, s1.err);
    assert.is(s1.text, "ping\nping\n", "respond prints the requests");
    const s2 = await stop(echo);
    assert.is(s2.code, 0, "SIGTERM ends it with 0");
    assert.is(s2.text, "0102ff\n");
  });
}

test("push/pull: items spread over two workers, each printed once; SIGTERM exits 0", async () => {
  const workers = await Promise.all([server(["pull"]), server(["pull"])]);
  const p = await run(["push", at(workers[0]), at(workers[1]), "--stdin"], "a\nb\nc\nd\n");
  assert.is(p.code, 0, p.err);
  const rs = await Promise.all(workers.map(stop));
  for (const r of rs) assert.is(r.code, 0);
  assert.equal(rs.flatMap((r) => lines(r.text)).sort(), ["a", "b", "c", "d"]);
  assert.ok(rs.every((r) => lines(r.text).length > 0), "both workers got items");
});

test("pub/sub: a subscriber gets the topics it asked for", async () => {
  const pub = await server(["pub", "--topic", "weather.today", "--data", "sunny", "--count", "0", "--interval", "0.05"]);
  const other = await server(["pub", "--topic", "sports", "--data", "3:1", "--count", "0", "--interval", "0.05"]);
  const sub = await run(["sub", at(pub), at(other), "--topic", "weather.", "--count", "2", "--format", "json"]);
  assert.is(sub.code, 0, sub.err);
  for (const m of lines(sub.text).map((l) => JSON.parse(l))) {
    assert.is(m.topic, "weather.today");
    assert.is(m.data, "sunny");
  }
  assert.is(lines(sub.text).length, 2);
  for (const p of [pub, other]) {
    const r = await stop(p);
    assert.is(r.code, 0);
    assert.match(r.err, /subscribed: 127\.0\.0\.1:\d+ "weather\."/);
  }
});

test("survey: answers of two respondents, one with --data, one --echo", async () => {
  const a = await server(["respond-survey", "--data", "yes"]);
  const b = await server(["respond-survey", "--echo"]);
  const s = await run(["survey", at(a), at(b), "--data", "q?", "--timeout", "5"]);
  assert.is(s.code, 0, s.err);
  assert.equal(lines(s.text).sort(), ["q?", "yes"]);
  for (const p of [a, b]) assert.is((await stop(p)).text, "q?\n");
});

// ---------------------------------------------------------------- failures

test("a send to a refused port exits 3 (CANNOT_CONNECT); a request nobody answers exits 4 (TIMEOUT)", async () => {
  const port = await refusedPort();
  const r = await run(["send", `127.0.0.1:${port}`, "--data", "x"]);
  assert.is(r.code, EXIT.CANNOT_CONNECT);
  assert.match(r.err, /CANNOT_CONNECT/);
  const silent = await server(["listen"]); // takes requests, never answers
  const t = await run(["request", at(silent), "--data", "anyone?", "--timeout", "0.5"]);
  assert.is(t.code, EXIT.TIMEOUT);
  assert.match(t.err, /TIMEOUT/);
  const busy = await run(["listen", "--port", String(silent.port)]);
  assert.is(busy.code, EXIT.CANNOT_LISTEN);
  assert.match(busy.err, /EADDRINUSE/);
  await stop(silent);
});

test("host names: send to a name reaches the listener; a name that does not resolve exits 3 before listening", async () => {
  const l = await server(["listen"]);
  // A name through the runtime's resolver: test/names-netns.test.ts; here "localhost".
  const ok = await run(["send", `localhost:${l.port}`, "--data", "by-name"]);
  assert.is(ok.code, EXIT.OK, ok.err);
  await l.until(() => /by-name/.test(l.text()), 10000, "the message sent by name");
  const bad = await run(["send", "example.invalid:5000", "--data", "x"]);
  assert.is(bad.code, EXIT.CANNOT_CONNECT);
  assert.match(bad.err, /CANNOT_CONNECT: cannot resolve host "example\.invalid"/);
  assert.not.match(bad.err, /listening/);
  const malformed = await run(["push", "bad_host!:5000", "--data", "x"]);
  assert.is(malformed.code, EXIT.USAGE);
  assert.not.match(malformed.err, /listening/);
  await stop(l);
});

// ---------------------------------------------------------------- TLS

test("TLS with files and --encryption always: cert chain, key/cert/ca; a foreign certificate fails", async () => {
  const dir = testCertDir();
  const l = await server(["listen", "--encryption", "always", "--tls-cert-chain", join(dir, "node1.pem"), "--count", "2"]);
  const bad = await run(["send", at(l), "--encryption", "always", "--tls-cert-chain", join(dir, "foreign.pem"), "--data", "intruder", "--timeout", "2"]);
  assert.is(bad.code, EXIT.ERROR, bad.err);
  assert.match(bad.err, /TLS_ERROR/);
  const s1 = await run(["send", at(l), "--encryption", "always", "--tls-cert-chain", join(dir, "node2.pem"), "--data", "secret"]);
  assert.is(s1.code, 0, s1.err);
  const s2 = await run(["send", at(l), "--encryption", "always", "--tls-key", join(dir, "node2.key"), "--tls-cert", join(dir, "node2.crt"), "--tls-ca", join(dir, "ca.crt"), "--data", "secret 2"]);
  assert.is(s2.code, 0, s2.err);
  const r = await done(l);
  assert.equal(lines(r.text), ["secret", "secret 2"]);
});

// ---------------------------------------------------------------- monitor and bench

test("monitor --once against a node with --metrics shows the counters of the traffic sent", async () => {
  const resp = await server(["respond", "--data", "pong!", "--metrics", "0"]);
  const req = await run(["request", at(resp), "--data", "ping", "--count", "3"]);
  assert.is(req.code, 0, req.err);
  const m = `127.0.0.1:${resp.metrics}`;
  const table = await run(["monitor", m, "--once"]);
  assert.is(table.code, 0, table.err);
  assert.match(table.text, /^ {2}messages in +3 +-$/m);
  assert.match(table.text, /^ {2}messages out +3 +-$/m);
  assert.match(table.text, /^ {2}bytes in +21 +-$/m, "3 x (3-byte pattern header + 4 bytes)");
  assert.match(table.text, /^ {2}bytes out +24 +-$/m, "3 x (3 + 5)");
  assert.match(table.text, new RegExp(`port ${resp.port}  sync`));
  assert.match(table.text, /^ {2}127\.0\.0\.1:\d+ +[0-9a-f]{8} +3 +3 /m, "one remote row");
  const json = await run(["monitor", m, "--format", "json", "--count", "2", "--interval", "0.1"]);
  const snaps = lines(json.text).map((l) => JSON.parse(l));
  assert.is(snaps.length, 2);
  assert.is(snaps[1].messagesIn, 3);
  assert.is(snaps[1].perRemote.length, 1);
  assert.is(snaps[1].perRemote[0].messagesOut, 3);
  const prom = await run(["monitor", m, "--format", "prometheus", "--once"]);
  assert.match(prom.text, /^chirp_messages_in_total 3$/m);
  assert.is((await stop(resp)).code, 0);
  const gone = await run(["monitor", m, "--once"]);
  assert.is(gone.code, EXIT.CANNOT_CONNECT);
});

test("monitor view: rates per second between two snapshots, totals, one row per remote", () => {
  const remote = { address: "127.0.0.1", port: 4000, identity: "ab".repeat(16), messagesIn: 10, messagesOut: 4, bytesIn: 100, bytesOut: 40, sendErrors: {}, connectionErrors: { TIMEOUT: 1 }, slotsInUse: 0, queued: 0, unacked: 0, connections: 1, lastAckRttMs: 0.25 };
  const s1: ChirpStats = { ...remote, time: 1_000_000, uptimeMs: 5000, identity: "cd".repeat(16), port: 5000, synchronous: true, remotes: 1, coreMemoryBytes: 655360, sendErrors: { CANNOT_CONNECT: 2 }, perRemote: [remote] };
  const s2: ChirpStats = { ...s1, time: 1_002_000, uptimeMs: 7000, messagesIn: 30, bytesIn: 300, perRemote: [{ ...remote, messagesIn: 30, bytesIn: 300 }] };
  const first = renderStats(s1, undefined, "x").join("\n");
  assert.match(first, /^ {2}messages in +10 +-$/m, "no rate without an earlier snapshot");
  const view = renderStats(s2, s1, "x").join("\n");
  assert.match(view, /^chirp node c{1}dcdcd\w* +port 5000 +sync +up 0:00:07 +remotes 1/m);
  assert.match(view, /^ {2}messages in +30 +10\.0$/m, "20 messages in 2 s");
  assert.match(view, /^ {2}bytes in +300 +100\.0$/m);
  assert.match(view, /^ {2}messages out +4 +0\.0$/m);
  assert.match(view, /^ {2}last ACK RTT +0\.25 ms$/m);
  assert.match(view, /^ {2}send errors +CANNOT_CONNECT 2$/m);
  assert.match(view, /^ {2}127\.0\.0\.1:4000 +abababab +30 +4 +10\.0 +0\.0 +300 +40 +1 +0 +0 +0\.25 ms TIMEOUT 1$/m);
});

test("bench sends --count messages and prints a summary; the listener counted them", async () => {
  const l = await server(["listen", "--format", "hex", "--metrics", "0", "--async"]);
  const b = await run(["bench", at(l), "--count", "500", "--size", "100", "--async"]);
  assert.is(b.code, 0, b.err);
  assert.match(b.text, /^bench: 500 messages of 100 bytes to 127\.0\.0\.1:\d+ in [\d.]+ s \(async\): \d+ msgs\/s, [\d.]+ MB\/s\n$/);
  const snap = JSON.parse((await run(["monitor", `127.0.0.1:${l.metrics}`, "--format", "json", "--once"])).text);
  assert.is(snap.messagesIn, 500);
  assert.is(snap.bytesIn, 500 * 100);
  await stop(l);
});

// ---------------------------------------------------------------- README

test("README: the chirpcat walkthrough runs (respond, request, monitor), and its tables match the parser", async () => {
  const readme = readFileSync(join(repo, "README.md"), "utf8");
  const block = /<!-- chirpcat walkthrough[^>]*-->\n```sh\n([\s\S]*?)```/.exec(readme);
  assert.ok(block, "README.md has the walkthrough block");
  const cmds = block[1].split("\n").filter((l) => l.startsWith("npx chirpcat ")).map((l) => l.slice("npx chirpcat ".length).trim().split(/\s+/));
  assert.equal(cmds.map((c) => c[0]), ["respond", "request", "monitor"]);
  // The README's ports, replaced by free ones (other test runs may hold 5000 and 9100).
  const [port, metrics] = [await refusedPort(), await refusedPort()];
  const fix = (args: string[]): string[] => args.map((a) => a.replace(/\b5000\b/, String(port)).replace(/\b9100\b/, String(metrics)));
  const resp = await server(fix(cmds[0]));
  const req = await run(fix(cmds[1]));
  assert.is(req.code, 0, req.err);
  assert.is(req.text, "pong\n".repeat(5));
  const mon = cli(fix(cmds[2])); // not a terminal: a plain snapshot every second
  // The second snapshot has rates: nothing moves any more.
  await mon.until(() => /^ {2}messages in +5 +0\.0$/m.test(mon.text()), 20000, "the monitor to show 5 requests and a rate");
  assert.is((await stop(mon)).code, 0);
  assert.is((await stop(resp)).text, "ping\n".repeat(5));
  // Options and exit codes tables.
  for (const o of OPTIONS) assert.match(readme, new RegExp(`\\| \`(-${o.short}, )?--${o.name}\\b`), `README lists --${o.name}`);
  for (const [code] of EXIT_HELP) assert.match(readme, new RegExp(`^\\| ${code} \\|`, "m"), `README lists exit code ${code}`);
  for (const c of COMMANDS) assert.match(readme, new RegExp(`\\| \`${c.name}\\b`), `README lists ${c.name}`);
});

test.after(() => {
  for (const c of children) c.kill("SIGKILL");
  rmSync(tmp, { recursive: true, force: true });
});

test.run();
