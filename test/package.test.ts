// The package as users get it: `npm pack`, install the tarball in a scratch project, and
// `import { Chirp } from "chirp-wasm"` on Node, Deno and Bun (each through its own export
// condition), with two nodes exchanging a message; then its `chirpcat` bin on all three.
// Runs once (from Node); it drives all three.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const repo = fileURLToPath(new URL("../../../", import.meta.url)); // build/js/test -> repo
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
const npx = process.platform === "win32" ? "npx.cmd" : "npx";
const dir = mkdtempSync(join(tmpdir(), "chirp-pack-"));

const app = `
import { Chirp, entryPoint, coreWasmBytes } from "chirp-wasm";
const got = [];
const b = await Chirp.start({ port: 0, onMessage: (m) => { got.push(m.text()); m.release(); m.reply("pong").catch(() => {}); } });
const replies = [];
const a = await Chirp.start({ port: 0, synchronous: false, onMessage: (m) => { replies.push(m.text()); m.release(); } });
await a.send("127.0.0.1:" + b.port, "hello from " + entryPoint);
while (replies.length === 0) await new Promise((r) => setTimeout(r, 5));
await a.close();
await b.close();
console.log(JSON.stringify({ entryPoint, got, replies, wasm: coreWasmBytes().length }));
`;

test("npm pack, install the tarball, import it and run its chirpcat on node, deno and bun", () => {
  execFileSync(npm, ["pack", "--ignore-scripts", "--pack-destination", dir], { cwd: repo, stdio: "pipe" });
  const tgz = readdirSync(dir).find((f) => f.endsWith(".tgz"));
  assert.ok(tgz, "npm pack made a tarball");
  const proj = join(dir, "project");
  execFileSync("mkdir", ["-p", proj]);
  writeFileSync(join(proj, "package.json"), JSON.stringify({ name: "scratch", type: "module", private: true }));
  execFileSync(npm, ["install", "--no-audit", "--no-fund", "--offline", join(dir, tgz!)], { cwd: proj, stdio: "pipe" });
  writeFileSync(join(proj, "app.mjs"), app);
  const runners: [string, string, string[]][] = [
    ["node", process.execPath, ["app.mjs"]],
    ["deno", join(repo, "node_modules/.bin/deno"), ["run", "-A", "app.mjs"]],
    ["bun", join(repo, "node_modules/.bin/bun"), ["run", "app.mjs"]],
  ];
  for (const [rt, cmd, args] of runners) {
    const out = execFileSync(cmd, args, { cwd: proj, encoding: "utf8", timeout: 60_000 });
    const r = JSON.parse(out.trim().split("\n").pop()!);
    assert.is(r.entryPoint, rt, `${rt} loaded its own entry point`);
    assert.equal(r.got, [`hello from ${rt}`]);
    assert.equal(r.replies, ["pong"]);
    assert.ok(r.wasm > 1000, "the raw wasm is embedded");
  }
  // The chirpcat bin: `npx chirpcat` on Node, the installed launcher on Deno and Bun. A
  // msgpack send to a refused port loads @msgpack/msgpack (a dependency) and exits 3.
  const help = execFileSync(npx, ["--offline", "chirpcat", "--help"], { cwd: proj, encoding: "utf8", timeout: 60_000 });
  assert.match(help, /Usage: chirpcat COMMAND/);
  const bin = join(proj, "node_modules/chirp-wasm/bin/chirpcat.js");
  const cats: [string, string, string[]][] = [
    ["node", process.execPath, [bin]],
    ["deno", join(repo, "node_modules/.bin/deno"), ["run", "-A", bin]],
    ["bun", join(repo, "node_modules/.bin/bun"), [bin]],
  ];
  for (const [rt, cmd, args] of cats) {
    const r = spawnSync(cmd, [...args, "send", "127.0.0.1:1", "--format", "msgpack", "--data", '{"a":1}'], { cwd: proj, encoding: "utf8", timeout: 60_000 });
    assert.is(r.status, 3, `${rt}: chirpcat exit code; stderr: ${r.stderr}`);
    assert.match(r.stderr, /CANNOT_CONNECT/, rt);
  }
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
