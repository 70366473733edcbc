// The one child-process driver for tests: runs a repo script (test/fixtures/*, cli/chirpcat.ts)
// on a runtime via scriptCommand, collects its stdout (bytes, lines, and lines as JSON events),
// its stderr and its exit; waits for its "ready" line, for events, lines or any condition
// (failing early, with its stderr, if it exited); sends it line-JSON commands or text lines;
// stops it through stdin with its exit code. The child's side: test/support/fixture-io.ts.
import process from "node:process";
import { spawn, type ChildProcess } from "node:child_process";
import type { RuntimeName } from "../../adapters/runtime.ts";
import { runtime, scriptCommand } from "./runtime.ts";
import { sleep, until } from "./wait.ts";
import { concat } from "./wire.ts";

export type Json = Record<string, unknown> & { ev?: string };

export interface ChildOptions {
  /** The runtime to run the script on (default: the one running this code). */
  runtime?: RuntimeName;
  /** Added to this process's environment. */
  env?: Record<string, string>;
  cwd?: string;
  /** Written to stdin, which is then closed; without it stdin stays open for commands. */
  input?: string | Uint8Array;
  /** Runs it under this address-space limit (bash's `ulimit -v`, KiB). */
  ulimitKiB?: number;
}

/** A repo script running in its own process. */
export class Child {
  readonly child: ChildProcess;
  readonly runtime: RuntimeName;
  /** Every stdout line, in order (text without the newline). */
  readonly lines: string[] = [];
  /** Every non-empty stdout line as an event: JSON objects as they are; a text line
   * "ready <port>" as { ev: "ready", port }; any other text as { ev: "text", text }. */
  readonly events: Json[] = [];
  exitCode: number | null = null;
  signal: string | null = null;
  exited = false;
  /** Resolves once the process has ended and all its output has been read ("close"). */
  readonly exit: Promise<{ code: number | null; signal: string | null }>;
  #out: Uint8Array[] = [];
  #err = "";
  #buf = "";
  #listeners: ((e: Json) => void)[] = [];
  #waiters: { pred: (e: Json) => boolean; resolve: (e: Json) => void }[] = [];

  constructor(readonly script: string, args: string[] = [], o: ChildOptions = {}) {
    this.runtime = o.runtime ?? runtime;
    let [cmd, argv] = scriptCommand(script, args, this.runtime);
    if (o.ulimitKiB !== undefined) [cmd, argv] = ["bash", ["-c", `ulimit -v ${o.ulimitKiB} && exec "$0" "$@"`, cmd, ...argv]];
    this.child = spawn(cmd, argv, { cwd: o.cwd, stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, ...o.env } });
    this.child.stdin!.on("error", () => {}); // EPIPE after the child died
    const dec = new TextDecoder();
    this.child.stdout!.on("data", (d: Uint8Array) => {
      this.#out.push(d);
      this.#buf += dec.decode(d, { stream: true });
      let i: number;
      while ((i = this.#buf.indexOf("\n")) >= 0) {
        const line = this.#buf.slice(0, i);
        this.#buf = this.#buf.slice(i + 1);
        this.lines.push(line);
        if (line.trim()) this.#event(line);
      }
    });
    const edec = new TextDecoder();
    this.child.stderr!.on("data", (d: Uint8Array) => (this.#err += edec.decode(d, { stream: true })));
    this.exit = new Promise((resolve) => {
      this.child.once("close", (code, signal) => {
        this.exited = true;
        this.exitCode = code;
        this.signal = signal;
        resolve({ code, signal });
      });
    });
    if (o.input !== undefined) this.child.stdin!.end(o.input);
  }

  /** Starts `script` and resolves once it printed its ready line (failing after `ms`). */
  static async start(script: string, args: string[] = [], o: ChildOptions & { ms?: number } = {}): Promise<Child & { port: number }> {
    const c = new Child(script, args, o);
    const port = await c.ready(o.ms);
    return Object.assign(c, { port });
  }

  #event(line: string): void {
    let e: Json;
    const ready = /^ready (\d+)$/.exec(line);
    if (ready) e = { ev: "ready", port: Number(ready[1]) };
    else {
      try {
        e = JSON.parse(line);
      } catch {
        e = { ev: "text", text: line };
      }
    }
    this.events.push(e);
    for (const l of this.#listeners) l(e);
    this.#waiters = this.#waiters.filter((w) => {
      if (!w.pred(e)) return true;
      w.resolve(e);
      return false;
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }
  /** Everything on stdout so far, as bytes and as text. */
  out(): Uint8Array {
    return concat(...this.#out);
  }
  text(): string {
    return new TextDecoder().decode(this.out());
  }
  /** Everything on stderr so far. */
  err(): string {
    return this.#err;
  }
  /** The last `n` lines of stderr joined with " | " (for failure messages). */
  errTail(n = 10): string {
    return this.#err.split("\n").filter((l) => l !== "").slice(-n).join(" | ");
  }

  /** Its ready line's port ("ready <port>", or a JSON ready event with `port`). */
  async ready(ms = 20_000): Promise<number> {
    const e = await this.waitFor((x) => x.ev === "ready" || x.ev === "fatal", ms, "its ready line");
    if (e.ev !== "ready") throw new Error(`${this.runtime} ${this.script} failed to start: ${JSON.stringify(e)}; stderr: ${this.errTail()}`);
    return e.port as number;
  }

  onEvent(f: (e: Json) => void): void {
    this.#listeners.push(f);
  }

  /** The first event (already seen or future) matching `pred`; fails after `ms`. */
  waitFor(pred: (e: Json) => boolean, ms: number, what: string): Promise<Json> {
    const seen = this.events.find(pred);
    return seen ? Promise.resolve(seen) : this.next(pred, ms, what);
  }

  /** The next event from now on matching `pred`; fails after `ms`, or when the process ends. */
  next(pred: (e: Json) => boolean, ms: number, what: string): Promise<Json> {
    return new Promise((resolve, reject) => {
      const fail = (why: string): void => {
        this.#waiters = this.#waiters.filter((x) => x !== w);
        reject(new Error(`${why} waiting for ${what} (${this.runtime} ${this.script}, pid ${this.pid}); stderr: ${this.errTail()}`));
      };
      const timer = setTimeout(() => fail(`timed out after ${ms} ms`), ms);
      const w = { pred, resolve: (e: Json) => { clearTimeout(timer); resolve(e); } };
      this.#waiters.push(w);
      void this.exit.then(() => setTimeout(() => {
        if (this.#waiters.includes(w)) {
          clearTimeout(timer);
          fail(`exited (${this.exitCode ?? this.signal})`);
        }
      }, 0));
    });
  }

  /** Waits until `pred()` holds (polling); fails after `ms`, or soon after the process ended
   * without it holding (its last output may still be on the way when it exits). */
  async until(pred: () => boolean, ms: number, what: string): Promise<void> {
    await until(() => pred() || this.exited, ms, what).catch((e) => {
      throw new Error(`${(e as Error).message}; stderr: ${this.err()}`);
    });
    if (pred()) return;
    await sleep(50);
    if (!pred()) throw new Error(`${this.script} exited before ${what}; stderr: ${this.err()} stdout: ${this.text()}`);
  }

  /** The first stdout line at index `from` or later that matches `re` (waiting up to `ms`). */
  async line(re: RegExp, from = 0, ms = 10_000): Promise<string> {
    const find = (): string | undefined => this.lines.slice(from).find((l) => re.test(l));
    await this.until(() => find() !== undefined, ms, `${this.runtime}: ${re}`);
    return find()!;
  }

  /** A line-JSON command on stdin. */
  send(cmd: Json): void {
    this.say(JSON.stringify(cmd));
  }
  /** A text line on stdin. */
  say(line: string): void {
    if (this.exited || this.child.stdin!.destroyed) return;
    this.child.stdin!.write(line + "\n");
  }
  /** Closes stdin: a fixture takes EOF as "close and exit". */
  endInput(): void {
    if (!this.child.stdin!.destroyed) this.child.stdin!.end();
  }

  /** Sends a signal with process.kill (not child.kill: Deno's child.kill("SIGCONT") does
   * nothing, and Deno reports a child it signalled as killed whatever its exit code). */
  kill(sig: NodeJS.Signals = "SIGTERM"): void {
    if (this.exited || this.child.pid === undefined) return;
    try {
      process.kill(this.child.pid, sig);
    } catch {
      // already gone
    }
  }

  /** Resolves with the exit code once the process ended; after `ms` it is SIGKILLed and this fails. */
  async finished(ms = 20_000): Promise<number | null> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const r = await Promise.race([this.exit, new Promise<"late">((res) => (timer = setTimeout(() => res("late"), ms)))]);
    clearTimeout(timer);
    if (r === "late") {
      this.kill("SIGKILL");
      throw new Error(`${this.script} did not exit within ${ms} ms; stderr: ${this.err()} stdout: ${this.text()}`);
    }
    return r.code;
  }

  /** Ends the process through its stdin (it closes and exits); resolves with the exit code. */
  async stop(): Promise<number | null> {
    this.endInput();
    return (await this.exit).code;
  }
}

/** The config of the peer fixture, test/fixtures/peer.ts (its first lines say what each does). */
export interface PeerConfig {
  port?: number; synchronous?: boolean; timeout?: number; reuseTime?: number; maxMsgSize?: number;
  maxConnections?: number; maxRemotes?: number;
  policy?: "early" | "late" | "hold" | "echo"; ms?: number; tagReplies?: boolean;
  encryption?: "auto" | "always" | "never"; tlsDir?: string; tlsCert?: string;
}

/** A running peer fixture, with the port it listens on. */
export type Peer = Child & { port: number };

/** Starts the peer fixture with `cfg` on runtime `rt`; resolves once it is ready. */
export function startPeer(cfg: PeerConfig = {}, rt: RuntimeName = runtime): Promise<Peer> {
  return Child.start("test/fixtures/peer.ts", [JSON.stringify(cfg)], { runtime: rt });
}
