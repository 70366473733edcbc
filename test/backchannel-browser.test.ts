// The collector's dashboard in a real browser (headless Chromium, Debian's chromium package):
// five nodes in their own processes report; one is killed and started again at once (a
// restart), another is SIGKILLed for good. The test reads the page's DOM (--dump-dom) until
// it shows all five nodes with the killed one down and the restarted one marked, then saves a
// screenshot (1280x900) as an artifact (build/artifacts/dashboard.png, or $CHIRP_ARTIFACTS).
// Runs once, on Node (test/run.mjs); where chromium is not installed it says so and skips.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { repoRoot as repo } from "./support/runtime.ts";
import { sleep, until } from "./support/wait.ts";
import { skipFile } from "./support/skip.ts";
import { startCluster, type Cluster } from "./backchannel-cluster.ts";

const CHROMIUM = "chromium";
const installed = spawnSync(CHROMIUM, ["--version"], { encoding: "utf8" }).status === 0;

/** Runs headless Chromium on `url` with `extra` flags; resolves with its stdout. */
function chromium(url: string, extra: string[], profile: string): Promise<string> {
  const flags = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", `--user-data-dir=${profile}`, "--virtual-time-budget=4000", ...extra, url,
  ];
  // Asynchronous: the collector in this process must answer the page's requests meanwhile.
  const child = spawn(CHROMIUM, flags, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (d: Uint8Array) => (out += new TextDecoder().decode(d)));
  child.stderr!.resume();
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.once("exit", (code) => {
      clearTimeout(t);
      if (code === 0) resolve(out);
      else reject(new Error(`chromium exited with ${code}`));
    });
  });
}

if (!installed) {
  skipFile("chromium (/usr/bin/chromium, Debian package chromium) is not installed");
} else {
  let cluster: Cluster | undefined;
  const profile = mkdtempSync(join(tmpdir(), "chirp-chromium-"));
  test.after(async () => {
    await cluster?.close();
    rmSync(profile, { recursive: true, force: true });
  });

  test("the dashboard shows all five nodes, the killed one down in red, the restarted one marked", async () => {
    cluster = await startCluster(1, 40);
    const { collector: c, members } = cluster;
    const url = `http://127.0.0.1:${c.http!.port}/`;
    const restarted = members[0];
    const victim = members[3];
    await cluster.kill(restarted);
    await cluster.restart(restarted);
    await sleep(4000); // some history for the charts
    await cluster.kill(victim);
    await until(() => c.nodes().find((n) => n.node === victim.name)!.state === "down", 10_000, "the victim down");
    await until(() => c.nodes().find((n) => n.node === restarted.name)!.restarts === 1, 10_000, "the restart");
    let dom = "";
    const shows = (): boolean => {
      const cards = [...dom.matchAll(/<article class="node (up|down)" data-node="([^"]+)" data-state="(up|down)" data-restarts="(\d+)"/g)];
      return cards.length === 5 && members.every((m) => cards.some((x) => x[2] === m.name)) &&
        cards.some((x) => x[2] === victim.name && x[3] === "down") &&
        cards.filter((x) => x[2] !== victim.name).every((x) => x[3] === "up") &&
        cards.some((x) => x[2] === restarted.name && x[4] === "1");
    };
    const end = Date.now() + 60_000;
    do {
      dom = await chromium(url, ["--dump-dom"], profile);
    } while (!shows() && Date.now() < end);
    assert.ok(shows(), `the page shows five nodes, ${victim.name} down, ${restarted.name} restarted:\n${dom.slice(0, 3000)}`);
    assert.match(dom, /DOWN since \d\d:\d\d:\d\d/, "the time it went down");
    assert.match(dom, /<span class="pill down" id="downcount">1 down<\/span>/);
    assert.match(dom, /<polyline /, "the charts are drawn");
    const dir = process.env.CHIRP_ARTIFACTS ?? join(repo, "build/artifacts");
    mkdirSync(dir, { recursive: true });
    const png = join(dir, "dashboard.png");
    rmSync(png, { force: true });
    await chromium(url, [`--screenshot=${png}`, "--window-size=1280,900", "--hide-scrollbars"], profile);
    assert.ok(existsSync(png), "the screenshot was written");
    const b = readFileSync(png);
    assert.equal([...b.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], "a PNG");
    assert.ok(b.length > 20_000, `a page with content (${b.length} bytes)`);
    console.log(`screenshot: ${png} (${b.length} bytes)`);
  });
}

test.run();
