// Host names through the runtime's own resolver (Node and Deno: node:dns lookup, i.e.
// getaddrinfo; Bun: Bun.dns.lookup, backend "system"), with real names: a network namespace
// made for this test has its own hosts file (`ip netns exec` mounts /etc/netns/NAME/hosts over
// /etc/hosts), and test/fixtures/name-peer.ts runs inside it on this file's runtime: sends by
// an IPv4 name, an IPv6 name (where the namespace has ::1), a name with both, and one that
// does not resolve. Needs root on Linux with `ip`; elsewhere one test, named for the reason,
// says it was skipped.
import { test } from "uvu";
import * as assert from "uvu/assert";
import process from "node:process";
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { runtime, scriptCommand } from "./support/runtime.ts";

const ns = `chirp-names-${process.pid}`;

function whyNot(): string | null {
  if (process.platform !== "linux") return `not Linux (${process.platform})`;
  if (typeof process.getuid !== "function" || process.getuid() !== 0) return "not root";
  const add = spawnSync("ip", ["netns", "add", ns], { encoding: "utf8" });
  if (add.error) return `no ip command (${add.error.message})`;
  if (add.status !== 0) return `ip netns add failed: ${add.stderr.trim()}`;
  return null;
}

const skip = whyNot();

function cleanup(): void {
  spawnSync("ip", ["netns", "delete", ns]);
  rmSync(`/etc/netns/${ns}`, { recursive: true, force: true });
}

if (skip !== null) {
  console.log(`skipped: ${skip}`);
  test(`skipped: ${skip}`, () => {
    assert.ok(skip.length > 0);
  });
} else {
  test.after(cleanup);
  mkdirSync(`/etc/netns/${ns}`, { recursive: true });
  writeFileSync(`/etc/netns/${ns}/hosts`, [
    "127.0.0.1 localhost",
    "127.0.0.1 db.internal",
    "::1 db6.internal",
    "::1 both.internal",
    "127.0.0.1 both.internal",
    "",
  ].join("\n"));
  const up = spawnSync("ip", ["netns", "exec", ns, "ip", "link", "set", "lo", "up"], { encoding: "utf8" });
  const v6 = spawnSync("ip", ["netns", "exec", ns, "ip", "-6", "addr", "show", "dev", "lo"], { encoding: "utf8" });
  const hasV6 = up.status === 0 && /inet6 ::1/.test(v6.stdout);
  if (!hasV6) console.log("no ::1 in the namespace: the IPv6 names are expected to fail");

  test(`the ${runtime} resolver: names from the hosts file reach a node; a missing name is CANNOT_CONNECT`, () => {
    assert.is(up.status, 0, `ip link set lo up: ${up.stderr}`);
    const names = ["db.internal", "db6.internal", "both.internal", "nx.internal"];
    const [cmd, args] = scriptCommand("test/fixtures/name-peer.ts", [JSON.stringify(names.map((name) => ({ name })))]);
    const r = spawnSync("ip", ["netns", "exec", ns, cmd, ...args], { encoding: "utf8", timeout: 60_000 });
    const line = r.stdout.split("\n").find((l) => l.includes('"result"'));
    assert.ok(line, `no result line; status ${r.status}; stderr: ${r.stderr}`);
    const out = JSON.parse(line!) as { runtime: string; results: Record<string, unknown>[]; perRemote: { address: string; name: string | null }[] };
    console.log(JSON.stringify(out));
    assert.is(out.runtime, runtime);
    const by = Object.fromEntries(out.results.map((x) => [x.name as string, x]));
    assert.equal(by["db.internal"].lookup, ["127.0.0.1"]);
    assert.is(by["db.internal"].ok, true, String(by["db.internal"].message));
    assert.is(by["db.internal"].from, "127.0.0.1");
    if (hasV6) {
      assert.equal(by["db6.internal"].lookup, ["::1"]);
      assert.is(by["db6.internal"].ok, true, String(by["db6.internal"].message));
      assert.is(by["db6.internal"].from, "::1");
      assert.equal([...(by["both.internal"].lookup as string[])].sort(), ["127.0.0.1", "::1"]);
      assert.is(by["both.internal"].ok, true, String(by["both.internal"].message));
    }
    assert.is(by["nx.internal"].ok, false);
    assert.is(by["nx.internal"].code, "CANNOT_CONNECT");
    assert.match(String(by["nx.internal"].message), /cannot resolve host "nx\.internal"/);
    assert.is(by["nx.internal"].lookupError, "CANNOT_CONNECT");
    // The remotes are the addresses, labelled with the name that reached them last.
    assert.ok(out.perRemote.some((p) => p.address === "127.0.0.1" && p.name !== null), JSON.stringify(out.perRemote));
  });
}

test.run();
