// Bus: sending to every known member, learning members from incoming messages and JOIN,
// LEAVE, dropping learned members that went away, keeping explicit ones.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Chirp } from "../../adapters/index.ts";
import { bus } from "./bus.ts";
import { text } from "../header.ts";
import { node4, to } from "../../test/support/nodes.ts";
import { until } from "../../test/support/wait.ts";


for (const mode of ["sync", "async"] as const) {
  const synchronous = mode === "sync";

  test(`${mode}: a full mesh: every member's message reaches every other member, not itself`, async () => {
    const nodes = await Promise.all([0, 1, 2, 3].map(() => node4({ synchronous })));
    const got = nodes.map(() => [] as string[]);
    // Each lists every node, itself included: its own messages are not delivered to it.
    const members = nodes.map((n, i) => bus(n, (m, h) => got[i].push(`${text(h)}:${m.text()}`), { peers: nodes.map(to) }));
    try {
      const reports = await Promise.all(members.map((b, i) => b.send(`from${i}`, { header: "h" })));
      for (const r of reports) assert.is(r.delivered, 4);
      await until(() => got.every((g) => g.length === 3), 3000, "three messages at each member");
      got.forEach((g, i) => assert.equal(g.sort(), [0, 1, 2, 3].filter((k) => k !== i).map((k) => `h:from${k}`)));
    } finally {
      for (const n of nodes) await n.close();
    }
  });
}

test("members are learned from incoming messages and from JOIN", async () => {
  const [a, b, c, d] = await Promise.all([0, 1, 2, 3].map(() => node4()));
  const got = { a: [] as string[], b: [] as string[], c: [] as string[], d: [] as string[] };
  const joined: string[] = [];
  const A = bus(a, (m) => got.a.push(m.text()), { peers: [to(b), to(c)], onMembership: (k, j) => j && joined.push(k) });
  const B = bus(b, (m) => got.b.push(m.text()));
  const C = bus(c, (m) => got.c.push(m.text()));
  const D = bus(d, (m) => got.d.push(m.text()), { peers: [to(a)] });
  try {
    assert.equal(B.members, []);
    await A.send("hello");
    await until(() => got.b.length === 1 && got.c.length === 1, 3000, "A's message at B and C");
    assert.equal(B.members, [to(a)], "B learned A");
    await B.send("hi A");
    await until(() => got.a.length === 1, 3000, "B's message at A");
    assert.equal(got.c, ["hello"], "B does not know C");
    await D.join();
    assert.equal(joined, [to(d)]);
    assert.equal(A.members.sort(), [to(b), to(c), to(d)].sort());
    await A.send("all");
    await until(() => got.d.length === 1, 3000, "A's message at D");
    assert.equal(got.d, ["all"], "JOIN itself is not delivered as data");
  } finally {
    for (const n of [a, b, c, d]) await n.close();
  }
});

test("LEAVE removes a learned member; one that went away is dropped; explicit peers stay", async () => {
  const [hub, x, y, z] = await Promise.all([0, 1, 2, 3].map(() => node4({ timeout: 1 })));
  const left: string[] = [];
  const H = bus(hub, () => {}, { peers: [to(z)], maxFailures: 1, onMembership: (k, j) => !j && left.push(k) });
  const X = bus(x, () => {}, { peers: [to(hub)] });
  const Y = bus(y, () => {}, { peers: [to(hub)] });
  try {
    await X.join();
    await Y.join();
    assert.equal(H.members.sort(), [to(x), to(y), to(z)].sort());
    await X.close();
    assert.equal(left, [to(x)], "x left");
    const yKey = to(y);
    const zKey = to(z);
    await y.close();
    await z.close();
    const r = await H.send("anyone?");
    assert.equal(r.failed.map((f) => f.member).sort(), [yKey, zKey].sort());
    assert.equal(r.dropped, [yKey], "the learned member is dropped");
    assert.equal(H.members, [zKey], "the explicit peer stays");
  } finally {
    for (const n of [hub, x]) await n.close();
  }
});

test.run();
