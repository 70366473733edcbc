// The control backchannel with real processes: five nodes on Node, Deno and Bun (sync and
// async) report to a collector every second; the collector's counters are the traffic they
// sent (exact message and byte counts, the reports counted apart); one is SIGKILLed and is
// marked down within 3.5 intervals (the time is printed); started again, it is marked
// restarted (its identity changed); the others stay up throughout.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { until } from "./support/wait.ts";
import { SIZE, startCluster, type Cluster } from "./backchannel-cluster.ts";

let cluster: Cluster | undefined;
test.after(async () => {
  await cluster?.close();
});

test("five processes on three runtimes report; the collector's counters are their traffic", async () => {
  cluster = await startCluster(1);
  const { collector: c, sink, members } = cluster;
  // One more report from each, so that every report so far has settled on its node.
  const seen = new Map(c.nodes().map((n) => [n.node, n.reports]));
  await until(() => c.nodes().every((n) => n.reports >= (seen.get(n.node) ?? 0) + 1), 10_000, "another report from each");
  assert.is(c.nodes().length, 5);
  for (const m of members) {
    const n = c.nodes().find((x) => x.node === m.name)!;
    const s = n.report.stats;
    assert.is(n.state, "up", m.name);
    assert.is(n.runtime, m.runtime, m.name);
    assert.is(s.synchronous, m.mode === "sync", m.name);
    assert.is(s.messagesOut, m.count, `${m.name}: messages out are the application's only`);
    assert.is(s.bytesOut, m.count * SIZE, `${m.name}: bytes out`);
    assert.equal(s.sendErrors, {}, m.name);
    const toSink = s.perRemote.find((r) => r.port === sink.port)!;
    assert.is(toSink.messagesOut, m.count, `${m.name}: per-remote row of the sink`);
    const toCollector = s.perRemote.find((r) => r.port === c.port)!;
    assert.ok(toCollector, `${m.name} has a row for the collector`);
    assert.is(toCollector.messagesOut, 0, `${m.name}: its reports are not in the collector's row`);
    assert.is(toCollector.bytesOut, 0, `${m.name}: nor their bytes`);
    // Every report sent arrived; every interval either sent one or dropped it.
    assert.is(n.report.own.reports + 1, n.reports, `${m.name}: reports sent (counted apart) + this one = reports received`);
    assert.is(n.report.seq, n.reports + n.report.own.dropped, `${m.name}: seq`);
    assert.ok(n.report.own.bytes > 0, m.name);
  }
  // The collector's own node saw the report bytes the members say they sent.
  const mine = c.node.stats().perRemote;
  for (const n of c.nodes()) {
    const row = mine.find((r) => r.identity === n.identity)!;
    assert.ok(row.bytesIn >= n.report.own.bytes, `${n.node}: the collector received at least the report bytes counted apart`);
  }
  const sinkIn = sink.stats().messagesIn;
  assert.is(sinkIn, members.reduce((a, m) => a + m.count, 0), "the sink received what the members say they sent");
});

test("SIGKILL one: marked down within 3.5 intervals; started again: a restart event", async () => {
  const { collector: c, members, events, every } = cluster!;
  const victim = members[1]; // deno, async
  const before = c.nodes().find((n) => n.node === victim.name)!.identity;
  const killedAt = await cluster!.kill(victim);
  await until(() => events.some((e) => e.type === "down" && e.node === victim.name), 10_000, "the down event");
  const down = events.find((e) => e.type === "down" && e.node === victim.name)!;
  const took = down.time - killedAt;
  console.log(`down detected ${took} ms after SIGKILL (${(took / (every * 1000)).toFixed(2)} intervals; silent ${down.silentMs} ms since its last report)`);
  assert.ok(took <= 3.5 * every * 1000, `down within 3.5 intervals (took ${took} ms)`);
  assert.ok(took > 0);
  assert.is(c.nodes().find((n) => n.node === victim.name)!.state, "down");
  assert.ok(c.nodes().filter((n) => n.node !== victim.name).every((n) => n.state === "up"), "the others are up");
  await cluster!.restart(victim);
  await until(() => events.some((e) => e.type === "restarted" && e.node === victim.name), 10_000, "the restart event");
  const r = events.find((e) => e.type === "restarted" && e.node === victim.name)!;
  console.log(`restart seen ${r.time - killedAt} ms after the kill: identity ${r.previous} -> ${r.identity}`);
  assert.is(r.previous, before);
  assert.is.not(r.identity, before);
  const n = c.nodes().find((x) => x.node === victim.name)!;
  assert.is(n.state, "up");
  assert.is(n.restarts, 1);
  await until(() => c.nodes().find((x) => x.node === victim.name)!.report.stats.messagesOut === victim.count, 5000, "the new process's count");
  const others = events.filter((e) => e.node !== victim.name && e.type !== "joined");
  assert.equal(others, [], "no event for the other nodes");
});

test.run();
