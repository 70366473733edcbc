// The package as users get it: `npm pack`, install the tarball in a scratch project, and
// `import { Chirp } from "chirp-wasm"` on Node, Deno and Bun (each through its own export
// condition), with two nodes exchanging a message; then its `chirpcat` bin on all three.
// Runs once (from Node); it drives all three.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
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

// A typed program: the facade, await using, events with options, patterns, the monitor.
const TYPED = `
import { Chirp, ChirpError, type Message } from "chirp-wasm";
import { request, responder } from "chirp-wasm/patterns";
const node = await Chirp.start({ port: 0, onMessage: (m: Message) => { m.release(); const v: { n: number } = m.json(); console.log(v.n); } });
const stop = new AbortController();
node.on("open", (e) => console.log(e.address, e.port), { once: true, signal: stop.signal });
const closed: Promise<{ code: string | null }> = node.once("close");
void closed; void request; void responder;
{
  await using other = await Chirp.start({ port: 0 });
  await other.send("127.0.0.1:" + node.port, "hi").catch((e: unknown) => { if (e instanceof ChirpError) console.log(e.code); });
}
await node.close();
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
  // The chirpcat bin: `npx chirpcat` on Node, the installed launcher on Deno and Bun. A send
  // to a refused port exits 3; --format msgpack without the optional package says to install it.
  const help = execFileSync(npx, ["--offline", "chirpcat", "--help"], { cwd: proj, encoding: "utf8", timeout: 60_000 });
  assert.match(help, /Usage: chirpcat COMMAND/);
  const bin = join(proj, "node_modules/chirp-wasm/bin/chirpcat.js");
  const cats: [string, string, string[]][] = [
    ["node", process.execPath, [bin]],
    ["deno", join(repo, "node_modules/.bin/deno"), ["run", "-A", bin]],
    ["bun", join(repo, "node_modules/.bin/bun"), [bin]],
  ];
  for (const [rt, cmd, args] of cats) {
    const r = spawnSync(cmd, [...args, "send", "127.0.0.1:1", "--format", "json", "--data", '{"a":1}'], { cwd: proj, encoding: "utf8", timeout: 60_000 });
    assert.is(r.status, 3, `${rt}: chirpcat exit code; stderr: ${r.stderr}`);
    assert.match(r.stderr, /CANNOT_CONNECT/, rt);
    const mp = spawnSync(cmd, [...args, "send", "127.0.0.1:1", "--format", "msgpack", "--data", '{"a":1}'], { cwd: proj, encoding: "utf8", timeout: 60_000 });
    assert.is(mp.status, 2, `${rt}: msgpack without @msgpack/msgpack; stderr: ${mp.stderr}`);
    assert.match(mp.stderr, /npm install @msgpack\/msgpack/, rt);
    const v = spawnSync(cmd, [...args, "--version"], { cwd: proj, encoding: "utf8", timeout: 60_000 });
    assert.match(v.stdout, /^chirpcat \d+\.\d+\.\d+\n$/, `${rt}: --version`);
  }
  // docs/patterns.md's examples, as a user pastes them (compiled to JavaScript: they import
  // "chirp-wasm" and "chirp-wasm/patterns"), run from the scratch project on all three runtimes.
  const doc = readFileSync(join(repo, "docs/patterns.md"), "utf8");
  const examples = [...doc.matchAll(/<!-- example: examples\/patterns\/(\S+)\.ts -->\n```ts\n[\s\S]*?```\n\nIt prints:\n\n```text\n([\s\S]*?)```/g)];
  assert.ok(examples.length >= 6, `docs/patterns.md has ${examples.length} examples`);
  for (const [, base, output] of examples) {
    const js = readFileSync(join(repo, "build/js/examples/patterns", `${base}.js`), "utf8");
    assert.match(js, /from "chirp-wasm"/, `${base} imports chirp-wasm`);
    writeFileSync(join(proj, `${base}.mjs`), js);
    for (const [rt, cmd, args] of runners) {
      const r = spawnSync(cmd, [...args.slice(0, -1), `${base}.mjs`], { cwd: proj, encoding: "utf8", timeout: 60_000 });
      assert.is(r.status, 0, `${rt} ${base}.mjs: ${r.stderr}`);
      assert.fixture(r.stdout, output, `${rt} ${base}.mjs prints what docs/patterns.md shows`);
    }
  }
  // The files the README refers to are in the tarball.
  for (const f of ["LICENSE", "CHANGELOG.md", "docs/protocol.md", "docs/patterns.md", "scripts/make-test-certs.sh"]) {
    assert.ok(existsSync(join(proj, "node_modules/chirp-wasm", f)), `the tarball ships ${f}`);
  }
  // Types: a plain `tsc --init` project with lib es2022, without skipLibCheck, with @types/node
  // (as the README's TypeScript set-up says), type-checks a program using the package.
  execFileSync(process.execPath, [join(repo, "node_modules/typescript/bin/tsc"), "--init"], { cwd: proj, stdio: "pipe" });
  const cfg = readFileSync(join(proj, "tsconfig.json"), "utf8");
  assert.match(cfg, /"skipLibCheck": true,/, "tsc --init still writes skipLibCheck (this test removes it)");
  writeFileSync(join(proj, "tsconfig.json"), cfg
    .replace(/"skipLibCheck": true,/, '"lib": ["es2022"], "noEmit": true,')
    .replace(/"target": "[a-z0-9]+"/, '"target": "es2022"')
    .replace(/"types": \[\]/, '"types": ["node"]'));
  mkdirSync(join(proj, "node_modules/@types"), { recursive: true });
  symlinkSync(join(repo, "node_modules/@types/node"), join(proj, "node_modules/@types/node"));
  writeFileSync(join(proj, "check.ts"), TYPED);
  const tsc = spawnSync(process.execPath, [join(repo, "node_modules/typescript/bin/tsc"), "-p", "."], { cwd: proj, encoding: "utf8", timeout: 120_000 });
  assert.is(tsc.status, 0, `tsc in a plain project:\n${tsc.stdout}${tsc.stderr}`);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
