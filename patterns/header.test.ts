// The pattern header codec and registry: byte layout, round trips, foreign headers left
// alone, and the two documented tables (header.ts comment, docs/patterns.md) equal to the
// registry in code. Also: a node that knows no pattern receives a pattern frame as a plain
// message with a header.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { Chirp, type Message } from "../adapters/index.ts";
import { join } from "node:path";
import { repoRoot as repo } from "../test/support/runtime.ts";
import { until } from "../test/support/wait.ts";
import { MAGIC, OP, PATTERN, PREFIX_LEN, decodeHeader, encodeHeader, patternName, startsWith, targetKey, type PatternName } from "./header.ts";


/** Every (pattern, id, op, name) in the registry. */
function registry(): string[] {
  const out: string[] = [];
  for (const [name, id] of Object.entries(PATTERN) as [PatternName, number][]) {
    for (const [op, code] of Object.entries(OP[name])) out.push(`${name.toLowerCase()} 0x${id.toString(16)} ${code} ${op}`);
  }
  return out.sort();
}

test("layout: magic+version, pattern id, op, body", () => {
  assert.is(MAGIC, 0xc1);
  assert.is(PREFIX_LEN, 3);
  assert.equal([...encodeHeader(PATTERN.REQREP, OP.REQREP.REQUEST, "v1")], [0xc1, 0x30, 0x01, 0x76, 0x31]);
  assert.equal([...encodeHeader(PATTERN.PUBSUB, OP.PUBSUB.PUBLISH, new Uint8Array([0, 255]))], [0xc1, 0x20, 0x03, 0, 255]);
  assert.equal([...encodeHeader(PATTERN.PAIR, OP.PAIR.BYE)], [0xc1, 0x10, 0x05]);
});

test("round trip for every registered op; foreign headers decode to null", () => {
  for (const [name, id] of Object.entries(PATTERN) as [PatternName, number][]) {
    assert.is(patternName(id), name);
    for (const code of Object.values(OP[name])) {
      const h = decodeHeader(encodeHeader(id as never, code, "body"))!;
      assert.is(h.pattern, id);
      assert.is(h.op, code);
      assert.is(new TextDecoder().decode(h.body), "body");
    }
  }
  const foreign = [[], [0xc1], [0xc1, 0x30], [0xc2, 0x30, 1], [0xc1, 0x31, 1], [0xc1, 0x30, 0], [0xc1, 0x30, 4], [0x76, 0x31], [0xc1, 0x50, 8]];
  for (const f of foreign) assert.is(decodeHeader(new Uint8Array(f)), null, `[${f}]`);
  assert.is(decodeHeader(new TextEncoder().encode("fwd:1234")), null, "peer.ts's forwarding header");
});

test("ids and ops are unique; ids follow nng's protocol families", () => {
  const ids = Object.values(PATTERN);
  assert.is(new Set(ids).size, ids.length);
  assert.equal(PATTERN, { PAIR: 0x10, PUBSUB: 0x20, REQREP: 0x30, PIPELINE: 0x50, SURVEY: 0x60, BUS: 0x70, REPORT: 0x80 });
  for (const ops of Object.values(OP)) {
    const codes = Object.values(ops) as number[];
    assert.is(new Set(codes).size, codes.length);
    assert.equal(codes.slice().sort(), codes.map((_, i) => i + 1), "ops are 1..n");
  }
});

test("the table in docs/patterns.md is the registry", () => {
  const doc = readFileSync(join(repo, "docs/patterns.md"), "utf8");
  const rows = [...doc.matchAll(/^\| (\w+) \| (0x[0-9a-f]{2}) \| (\d+) \| (\w+) \|/gm)].map((m) => `${m[1]} ${m[2]} ${m[3]} ${m[4]}`);
  assert.equal(rows.sort(), registry());
});

test("the table in patterns/header.ts is the registry", () => {
  const src = readFileSync(join(repo, "patterns/header.ts"), "utf8");
  const rows: string[] = [];
  let pattern = "";
  let id = "";
  for (const m of src.matchAll(/^\/\/ {3}(?:(\w+) +(0x[0-9a-f]{2}) +| +)(\d) (\w+)/gm)) {
    if (m[1]) [pattern, id] = [m[1], m[2]];
    rows.push(`${pattern} ${id} ${m[3]} ${m[4]}`);
  }
  assert.equal(rows.sort(), registry());
});

test("helpers: prefix match, target keys", () => {
  const b = (s: string): Uint8Array => new TextEncoder().encode(s);
  assert.ok(startsWith(b("news.sport"), b("news.")));
  assert.ok(startsWith(b("x"), b("")));
  assert.not.ok(startsWith(b("new"), b("news")));
  assert.is(targetKey("127.0.0.1", 80), "127.0.0.1:80");
  assert.is(targetKey("::1", 80), "[::1]:80");
});

test("a node that knows no pattern gets a pattern frame as a plain message with its header", async () => {
  const got: Message[] = [];
  const plain = await Chirp.start({ port: 0, bindV6: null, onMessage: (m) => {
    m.release();
    got.push(m);
  } });
  const sender = await Chirp.start({ port: 0, bindV6: null });
  try {
    const header = encodeHeader(PATTERN.PUBSUB, OP.PUBSUB.PUBLISH, "topic");
    await sender.send(`127.0.0.1:${plain.port}`, "data", { header });
    await until(() => got.length === 1, 3000, "the message");
    assert.equal(got[0].header, header);
    assert.is(got[0].text(), "data");
  } finally {
    await sender.close();
    await plain.close();
  }
});

test.run();
