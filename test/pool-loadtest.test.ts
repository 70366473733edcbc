// `chirpcat loadtest` (cli/loadtest.ts) against an HTTP server this test runs (node:http, on
// all three runtimes): a pool of one thread and one joined `chirpcat worker` fires exactly
// rate x duration requests, both workers take part, the progress line and the report
// (requests/s, p50/p90/p99) are printed; a URL nobody listens on counts every request as
// failed (exit 1); a usage error exits 2 (chirpcat's EXIT.USAGE).
import { test } from "uvu";
import * as assert from "uvu/assert";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { Child } from "./support/process.ts";
import { repoRoot, runtime } from "./support/runtime.ts";

const TASK = join(repoRoot, runtime === "node" ? "build/js/cli/loadtest-task.js" : "cli/loadtest-task.ts");

async function server(): Promise<{ url: string; count: () => number; close: () => Promise<void> }> {
  let n = 0;
  const s = http.createServer((_req, res) => {
    n++;
    res.end("ok");
  });
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  return {
    url: `http://127.0.0.1:${(s.address() as AddressInfo).port}/`,
    count: () => n,
    close: () => new Promise<void>((r) => {
      s.closeAllConnections?.();
      s.close(() => r());
    }),
  };
}

test("loadtest: 1 thread + 1 joined worker fire rate x duration requests; progress and report printed", async () => {
  const srv = await server();
  const lt = new Child("cli/chirpcat.ts", ["loadtest", srv.url, "--rate", "200", "--duration", "1.5", "--threads", "1", "--wait-workers", "1", "--concurrency", "16"]);
  let worker: Child | undefined;
  try {
    await lt.until(() => /pool at 127\.0\.0\.1:\d+/.test(lt.err()), 20_000, "the pool started");
    const port = /pool at 127\.0\.0\.1:(\d+)/.exec(lt.err())![1];
    assert.match(lt.err(), `--module `, "it says how to join it");
    worker = await Child.start("cli/chirpcat.ts", ["worker", "--module", TASK, "--join", `127.0.0.1:${port}`, "--threads", "1", "--concurrency", "16"]);
    const code = await lt.finished(30_000);
    const out = lt.text();
    assert.is(code, 0, `exit code (stdout: ${out}, stderr: ${lt.errTail()})`);
    assert.is(srv.count(), 300, "the server got rate x duration requests");
    assert.match(out, /: 300 requests, 300 answered, 0 failed\n/);
    assert.match(out, /^requests\/s: \d+\.\d \(answered, over \d+\.\d\d s\)$/m);
    assert.match(out, /^latency: p50 [\d.]+ ms, p90 [\d.]+ ms, p99 [\d.]+ ms, max [\d.]+ ms$/m);
    assert.match(out, /^status: 200 x300$/m);
    const batches = (kind: string): number => [...out.matchAll(new RegExp(`\\((${kind})\\) (\\d+) batches`, "g"))].reduce((s, m) => s + Number(m[2]), 0);
    assert.ok(batches("thread") > 0 && batches("joined") > 0, `both workers fired batches: ${out}`);
    assert.match(lt.err(), /loadtest: 1\.\d\/1\.5 s, \d+ sent, \d+ answered, \d+ req\/s, p50 [\d.]+ ms, p99 [\d.]+ ms, 0 failed/, "a progress line each second");
  } finally {
    lt.kill("SIGKILL");
    worker?.kill("SIGTERM");
    await worker?.finished(10_000).catch(() => {});
    await srv.close();
  }
});

test("loadtest: requests to a port nobody listens on are counted as failed, exit 1", async () => {
  const srv = await server();
  const url = srv.url;
  await srv.close(); // its port is free now: connections are refused
  const lt = new Child("cli/chirpcat.ts", ["loadtest", url, "--rate", "20", "--duration", "0.5", "--threads", "1", "--timeout", "5"]);
  const code = await lt.finished(30_000);
  const out = lt.text();
  assert.is(code, 1, `exit code (stdout: ${out}, stderr: ${lt.errTail()})`);
  assert.match(out, /: 10 requests, 0 answered, 10 failed\n/);
  assert.match(out, /^first failure: .+$/m);
});

test("loadtest: a usage error exits 2 and says what is wrong", async () => {
  for (const args of [["http://127.0.0.1:1/", "--duration", "1"], ["ftp://x/", "--rate", "1", "--duration", "1"], ["http://127.0.0.1:1/", "--rate", "1", "--duration", "1", "--bogus", "1"]]) {
    const lt = new Child("cli/chirpcat.ts", ["loadtest", ...args]);
    assert.is(await lt.finished(20_000), 2, args.join(" "));
    assert.match(lt.err(), /chirpcat loadtest: .+\nusage: chirpcat loadtest URL/);
  }
});

test.run();
