// Messages a person can act on (issue #17, list 7) and the event and message conveniences: each
// refusal names what to change; events support { once } and { signal } and once(); Message.json().
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { Chirp, ChirpError } from "../adapters/index.ts";
import { scriptCommand } from "./support/runtime.ts";

async function refusal(cfg: Record<string, unknown>): Promise<ChirpError> {
  try {
    const n = await Chirp.start({ port: 0, ...cfg } as never);
    await n.close();
  } catch (e) {
    assert.instance(e, ChirpError);
    return e as ChirpError;
  }
  throw new Error(`Chirp.start(${JSON.stringify(cfg)}) was accepted`);
}

test('config: { port: "5000" } says to write the number without quotes', async () => {
  const e = await refusal({ port: "5000" });
  assert.is(e.code, "VALUE_ERROR");
  assert.match(e.message, /config\.port = "5000" \(a string\)/);
  assert.match(e.message, /write 5000 without quotes/);
});

test("config: maxSlots 100 in sync mode says why and what to set", async () => {
  const e = await refusal({ maxSlots: 100 });
  assert.match(e.message, /1 in synchronous mode/);
  assert.match(e.message, /synchronous: false/);
});

test('config: encryption "always" without tls names config.tls', async () => {
  const e = await refusal({ encryption: "always" });
  assert.match(e.message, /config\.tls/);
  assert.not.match(e.message, /undefined/);
});

test('config: bindV4 "1.2.3.4" (not on this host) is VALUE_ERROR naming EADDRNOTAVAIL, not EADDRINUSE', async () => {
  const e = await refusal({ bindV4: "1.2.3.4", bindV6: null });
  assert.is(e.code, "VALUE_ERROR");
  assert.match(e.message, /bindV4 "1\.2\.3\.4": no network interface of this host has that address \(EADDRNOTAVAIL\)/);
});

function chirpcat(...args: string[]) {
  const [cmd, pre] = scriptCommand("cli/chirpcat.ts");
  return spawnSync(cmd, [...pre, ...args], { encoding: "utf8", timeout: 60_000 });
}

test("chirpcat: an unknown option gets the nearest one, with balanced quotes", () => {
  const r = chirpcat("listen", "--porrt", "5000");
  assert.is(r.status, 2);
  assert.match(r.stderr, /unknown option --porrt; did you mean --port\?/);
});

test("chirpcat: --count -1 says how to pass a value starting with -", () => {
  const r = chirpcat("listen", "--count", "-1");
  assert.is(r.status, 2);
  assert.match(r.stderr, /write --count=-1/);
  assert.not.match(r.stderr, /ambiguous/);
});

test("chirpcat: listen --encryption always without files names --tls-cert-chain", () => {
  const r = chirpcat("listen", "--port", "0", "--encryption", "always");
  assert.is(r.status, 2);
  assert.match(r.stderr, /--tls-cert-chain FILE/);
});

test("chirpcat --version prints the package version", () => {
  const r = chirpcat("--version");
  assert.is(r.status, 0);
  assert.match(r.stdout, /^chirpcat \d+\.\d+\.\d+/);
});

test("events: { once }, { signal }, once() and Message.json()", async () => {
  const seen: unknown[] = [];
  const b = await Chirp.start({ port: 0, onMessage: (m) => { m.release(); seen.push(m.json()); } });
  const a = await Chirp.start({ port: 0 });
  let opens = 0, aborted = 0;
  a.on("open", () => opens++, { once: true });
  const ctl = new AbortController();
  a.on("open", () => aborted++, { signal: ctl.signal });
  ctl.abort();
  const next = a.once("open");
  const gone = new AbortController();
  const cancelled = a.once("close", { signal: gone.signal }).then(() => "resolved", (err) => (err as Error).message);
  gone.abort(new Error("stop waiting"));
  await a.send(`127.0.0.1:${b.port}`, '{"n":1}');
  const e = await next;
  assert.is(e.port, b.port);
  assert.is(opens, 1);
  assert.is(aborted, 0);
  assert.is(await cancelled, "stop waiting", "the aborted once() rejects with the reason");
  assert.equal(seen, [{ n: 1 }], "Message.json() parsed the data");
  await a.close();
  await b.close();
});

test.run();
