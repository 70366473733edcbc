// Survey: answers collected until the deadline, early end when everyone answered, silent
// and unreachable respondents, late answers dropped, abort.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Chirp } from "../../adapters/index.ts";
import { respondent, surveyor } from "./survey.ts";
import { routerOf } from "../router.ts";
import { decodeHeader, text } from "../header.ts";
import { node4, to } from "../../test/support/nodes.ts";
import { sleep, until } from "../../test/support/wait.ts";
import { refusedPort } from "../../test/support/raw-peer.ts";


for (const mode of ["sync", "async"] as const) {
  const synchronous = mode === "sync";

  test(`${mode}: every respondent answers; the survey ends as soon as all did`, async () => {
    const rs = await Promise.all(["r1", "r2", "r3"].map((name) => node4({
      synchronous,
      onMessage: respondent((m, header) => ({ data: `${name}:${m.text()}`, header: `re-${text(header)}` })),
    })));
    const node = await node4({ synchronous });
    const s = surveyor(node, { respondents: rs.map(to), timeout: 5 });
    try {
      const t0 = Date.now();
      const result = await s.survey("status?", { header: "q1" });
      assert.ok(Date.now() - t0 < 2000, "ended early");
      assert.equal(result.responses.map((r) => r.message.text()).sort(), ["r1:status?", "r2:status?", "r3:status?"]);
      assert.equal(result.responses.map((r) => r.from).sort(), rs.map(to).sort());
      for (const r of result.responses) assert.is(text(decodeHeader(r.message.header)!.body), "re-q1");
      assert.equal(result.failed, []);
      assert.equal(result.missing, []);
    } finally {
      await node.close();
      for (const r of rs) await r.close();
    }
  });
}

test("a silent respondent is missing; the survey runs to its deadline", async () => {
  const talk = await node4({ onMessage: respondent(() => "here") });
  const quiet = await node4({ onMessage: respondent(() => null) });
  const node = await node4();
  const s = surveyor(node, { respondents: [to(talk), to(quiet)] });
  try {
    const t0 = Date.now();
    const result = await s.survey("?", { timeout: 0.3 });
    const ms = Date.now() - t0;
    assert.ok(ms >= 280, `waited for the deadline (${ms} ms)`);
    assert.equal(result.responses.map((r) => r.message.text()), ["here"]);
    assert.equal(result.missing, [to(quiet)]);
  } finally {
    for (const n of [node, talk, quiet]) await n.close();
  }
});

test("an unreachable respondent is listed as failed; the others answer", async () => {
  const ok = await node4({ onMessage: respondent(() => "ok") });
  const dead = `127.0.0.1:${await refusedPort()}`;
  const node = await node4();
  const s = surveyor(node, { respondents: [dead, to(ok)], timeout: 5 });
  try {
    const result = await s.survey("?");
    assert.is(result.responses.length, 1);
    assert.equal(result.failed.map((f) => f.respondent), [dead]);
    assert.is((result.failed[0].error as { code: string }).code, "CANNOT_CONNECT");
    assert.equal(result.missing, []);
  } finally {
    await node.close();
    await ok.close();
  }
});

test("answers after the deadline are dropped", async () => {
  const slow = await node4({ onMessage: respondent(async () => {
    await sleep(300);
    return "too late";
  }) });
  const node = await node4();
  const s = surveyor(node, { respondents: [to(slow)] });
  try {
    const result = await s.survey("?", { timeout: 0.1 });
    assert.is(result.responses.length, 0);
    assert.equal(result.missing, [to(slow)]);
    await until(() => routerOf(node).late === 1, 3000, "the late answer");
    assert.is(routerOf(node).unhandled, 0);
  } finally {
    await node.close();
    await slow.close();
  }
});

test("abort rejects with the signal's reason; no respondents resolves at once", async () => {
  const slow = await node4({ onMessage: respondent(async () => {
    await sleep(1000);
    return "x";
  }) });
  const node = await node4();
  try {
    const ac = new AbortController();
    const p = surveyor(node, { respondents: [to(slow)] }).survey("?", { signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    assert.is((await p.then(() => null, (e) => e))?.name, "AbortError");
    const empty = await surveyor(node).survey("?");
    assert.equal(empty, { responses: [], failed: [], missing: [] });
  } finally {
    await node.close();
    await slow.close();
  }
});

test("several surveys at once keep their answers apart", async () => {
  const rs = await Promise.all([1, 2, 3].map((k) => node4({ onMessage: respondent(async (m) => {
    await sleep(5 * k);
    return `${k}:${m.text()}`;
  }) })));
  const node = await node4({ synchronous: false });
  const s = surveyor(node, { respondents: rs.map(to), timeout: 5 });
  try {
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => s.survey(`q${i}`)));
    results.forEach((r, i) => assert.equal(r.responses.map((x) => x.message.text()).sort(), [`1:q${i}`, `2:q${i}`, `3:q${i}`]));
  } finally {
    await node.close();
    for (const r of rs) await r.close();
  }
});

test.run();
