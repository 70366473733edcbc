// What the two-process benchmarks share: options, result lines, CPU pinning, starting a
// role of a bench script (of this checkout, or of another one: scriptIn) as a child process
// on a given runtime, running a receiver/sender pair, and the machine description that goes
// with the figures.
import { spawn, spawnSync } from "node:child_process";
import os from "node:os";
import { join } from "node:path";
import process from "node:process";
import { Chirp, type ChirpConfig } from "../adapters/index.ts";
import type { RuntimeName } from "../adapters/runtime.ts";
import { scriptCommand } from "../test/support/runtime.ts";

/** The numeric option `--name N`, or `dflt`. */
export function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

/** The text option `--name VALUE`, or `dflt`. */
export function strArg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
}

/** The runtimes of `--runtimes a,b,c` (default all three). */
export function runtimesArg(): RuntimeName[] {
  return strArg("runtimes", "node,deno,bun").split(",") as RuntimeName[];
}

/** A line for the parent process (children talk to it over stdout). */
export function report(line: string): void {
  process.stdout.write(line + "\n");
}

export const hasTaskset = spawnSync("taskset", ["-c", "0", "true"]).status === 0;

/** The middle value (the mean of the two middle ones for an even count). */
export function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  const h = Math.floor(s.length / 2);
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/** [command, args] that run a repo script (a .ts path from the repo root) on a runtime. */
export type ScriptCommand = (rel: string, args: string[], rt: RuntimeName) => [string, string[]];

/** Runs the scripts of another checkout at `root` (built there: Node runs its build/js/),
 * with this checkout's runtimes. */
export function scriptIn(root: string): ScriptCommand {
  return (rel, args, rt) => {
    const [bin, cmdArgs] = scriptCommand(rel, args, rt);
    // node: [script, ...]; deno: ["run", "-A", script, ...]; bun: ["run", script, ...]
    const at = rt === "node" ? 0 : rt === "deno" ? 2 : 1;
    const script = rt === "node" ? join(root, "build/js", rel.replace(/\.ts$/, ".js")) : join(root, rel);
    return [bin, [...cmdArgs.slice(0, at), script, ...cmdArgs.slice(at + 1)]];
  };
}

export interface Role {
  /** The child's stdout, line by line. */
  lines: AsyncIterator<string>;
  /** Writes `s` to the child's stdin (e.g. a "go" line). */
  stdinWrite(s: string): void;
  stdinEnd(): void;
  exited: Promise<number | null>;
}

/** Extra runtime flags for every role, for profiling a bench's processes: BENCH_ROLE_FLAGS,
 * split at spaces (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" for Node roles). */
const envRoleFlags = (process.env.BENCH_ROLE_FLAGS ?? "").split(" ").filter(Boolean);

/** Runs `script` (a .ts path from the repo root) with `args` on runtime `rt`, pinned to `cpu`
 * when taskset exists (`cpu` null: not pinned). `runtimeFlags` go to the runtime (before the
 * script), then BENCH_ROLE_FLAGS; `command` says whose script it is (default: this checkout's). */
export function runRole(script: string, rt: RuntimeName, cpu: number | null, args: string[], runtimeFlags: string[] = [], command: ScriptCommand = scriptCommand): Role {
  runtimeFlags = [...runtimeFlags, ...envRoleFlags];
  const [bin, cmdArgs] = command(script, args, rt);
  // node: [script, ...]; deno: ["run", "-A", script, ...]; bun: ["run", script, ...]
  const binArgs = rt === "node" ? [...runtimeFlags, ...cmdArgs] : [cmdArgs[0], ...runtimeFlags, ...cmdArgs.slice(1)];
  const [cmd, argv] = hasTaskset && cpu !== null ? ["taskset", ["-c", String(cpu), bin, ...binArgs]] : [bin, binArgs];
  const child = spawn(cmd, argv, { stdio: ["pipe", "pipe", "inherit"] });
  const exited = new Promise<number | null>((r) => child.once("exit", r));
  return { lines: linesOf(child.stdout!), stdinWrite: (s) => void child.stdin!.write(s), stdinEnd: () => child.stdin!.end(), exited };
}

/** A child's output, line by line. */
export function linesOf(out: AsyncIterable<unknown>): AsyncIterator<string> {
  async function* lines(): AsyncIterable<string> {
    let buf = "";
    for await (const d of out) {
      buf += new TextDecoder().decode(d as Uint8Array);
      let i: number;
      while ((i = buf.indexOf("\n")) >= 0) {
        yield buf.slice(0, i);
        buf = buf.slice(i + 1);
      }
    }
  }
  return lines()[Symbol.asyncIterator]();
}

/** Reads a role's output until it ends, or until a line starting with `until`; returns
 * the lines read (including that one). */
export async function collect(role: Role, until?: string): Promise<string[]> {
  const out: string[] = [];
  for (let r = await role.lines.next(); !r.done; r = await role.lines.next()) {
    out.push(r.value);
    if (until !== undefined && r.value.startsWith(until)) break;
  }
  return out;
}

/** Drains a role's output until it ends. */
export async function drain(role: Role): Promise<void> {
  await collect(role);
}

export interface PairOutput {
  /** The receiver's lines after "ready", up to and including its "done ..." line. */
  recv: string[];
  /** Everything the sender printed. */
  send: string[];
  /** The receiver's "done" line split at spaces. */
  done: string[];
}

/** One measurement with two processes: starts the receiver role (`recvArgs`, pinned to CPU 1),
 * which prints "ready <port>" and later "done ..."; then the sender role (`sendArgs(port)`,
 * CPU 0). Collects both outputs until the sender exited and the receiver said "done", then
 * ends the receiver (its stdin closes). `command`: whose script (see runRole). */
export async function runPair(
  script: string, rt: RuntimeName, recvArgs: string[], sendArgs: (port: number) => string[], command: ScriptCommand = scriptCommand,
): Promise<PairOutput> {
  const recv = runRole(script, rt, 1, recvArgs, [], command);
  const ready = (await recv.lines.next()).value as string | undefined;
  if (!ready?.startsWith("ready ")) throw new Error(`${script} ${recvArgs.join(" ")} on ${rt}: no "ready" line (${ready})`);
  const send = runRole(script, rt, 0, sendArgs(Number(ready.split(" ")[1])), [], command);
  const [r, s] = await Promise.all([collect(recv, "done"), collect(send)]);
  await send.exited;
  recv.stdinEnd();
  await recv.exited;
  const last = r[r.length - 1];
  if (!last?.startsWith("done")) throw new Error(`${script} ${recvArgs.join(" ")} on ${rt}: the receiver ended without "done"`);
  return { recv: r, send: s, done: last.split(" ") };
}

/** The version a runtime reports (`node --version`, `deno --version` first line, ...). */
export function runtimeVersion(rt: RuntimeName): string {
  const [bin] = scriptCommand("bench/harness.ts", [], rt);
  const r = spawnSync(bin, ["--version"], { encoding: "utf8" });
  if (r.status !== 0) return `unknown (${bin} --version failed)`;
  const words = r.stdout.split("\n")[0].trim().split(" "); // "v20.1.0", "deno 2.1.0 (...)", "1.2.0"
  return words[0] === rt ? words[1] : words[0];
}

export interface MachineInfo {
  os: string;
  cpuModel: string;
  cpuCount: number;
  taskset: boolean;
  runtimes: Partial<Record<RuntimeName, string>>;
}

export function machineInfo(rts: RuntimeName[]): MachineInfo {
  const cpus = os.cpus();
  return {
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    cpuModel: cpus[0]?.model ?? "unknown",
    cpuCount: cpus.length,
    taskset: hasTaskset,
    runtimes: Object.fromEntries(rts.map((rt) => [rt, runtimeVersion(rt)])),
  };
}

/** Chirp async senders keep this many sends in flight by default (throughput.ts --window). */
export const SEND_WINDOW = 2000;

/** The benchmark senders' loop: synchronous mode awaits each send; asynchronous mode keeps
 * `window` sends in flight (it awaits every window-th). `each(n)` runs after the n-th send. */
export async function sendLoop(
  send: () => Promise<unknown>, sync: boolean, count: number, window = SEND_WINDOW, each?: (n: number) => void,
): Promise<void> {
  let last: Promise<unknown> = Promise.resolve();
  for (let i = 0; i < count; i++) {
    last = send();
    if (sync || i % window === window - 1) await last;
    each?.(i + 1);
  }
  await last;
}

/** The benchmarks' receiving node (a child role): releases every message, reports
 * "ready PORT", then "done COUNT MS" (from the first message to the count-th); `each(n)` runs
 * after the n-th message (before that report). Closes the node and exits when stdin ends. */
export async function countingReceiver(config: ChirpConfig, count: number, each?: (n: number, node: Chirp) => void): Promise<Chirp> {
  let n = 0;
  let t0 = 0;
  const node: Chirp = await Chirp.start({
    port: 0,
    bindV6: null,
    ...config,
    onMessage(msg) {
      if (n === 0) t0 = performance.now();
      msg.release();
      if (++n !== count) {
        each?.(n, node);
        return;
      }
      const ms = performance.now() - t0; // before `each`, which may print memory figures
      each?.(n, node);
      report(`done ${n} ${ms}`);
    },
  });
  report(`ready ${node.port}`);
  process.stdin.resume();
  process.stdin.on("end", () => void node.close().then(() => process.exit(0)));
  return node;
}

/** zeromq.js (the baseline of several benches), or the reason it cannot be used. Not a literal
 * import: the build and the runtimes where it does not load do without it. */
export async function loadZeromq<Z>(): Promise<Z | string> {
  const name = "zeromq";
  try {
    return (await import(name)) as Z;
  } catch (e) {
    return `zeromq not loadable (${(e as Error).message.split("\n")[0]})`;
  }
}

/** zeromq.js, or an Error with the reason it cannot be used. */
export async function zeromqOrThrow<Z>(): Promise<Z> {
  const z = await loadZeromq<Z>();
  if (typeof z === "string") throw new Error(z);
  return z;
}
