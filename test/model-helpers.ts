// Helpers for the reliability tests (model.test.ts, load.test.ts): fixture
// processes driven over stdin/stdout line-JSON, a checkable payload pattern, a seeded PRNG,
// percentiles. Kept apart from helpers.ts (which other work edits).
import process from "node:process";
import { spawn, type ChildProcess } from "node:child_process";
import type { RuntimeName } from "../adapters/runtime.ts";
import { runtime, scriptCommand } from "./runtime.ts";

export type Json = Record<string, unknown> & { ev?: string };

/** A fixture process speaking line-JSON: commands on stdin, events on stdout. */
export class LineProc {
  readonly child: ChildProcess;
  readonly events: Json[] = [];
  readonly stderr: string[] = [];
  exitCode: number | null = null;
  signal: string | null = null;
  exited = false;
  readonly exit: Promise<{ code: number | null; signal: string | null }>;
  #buf = "";
  #errBuf = "";
  #listeners: ((e: Json) => void)[] = [];
  #waiters: { pred: (e: Json) => boolean; resolve: (e: Json) => void }[] = [];

  constructor(rel: string, args: string[], rt: RuntimeName = runtime, env: Record<string, string> = {}) {
    const [cmd, argv] = scriptCommand(rel, args, rt);
    this.child = spawn(cmd, argv, { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, ...env } });
    this.child.stdin!.on("error", () => {}); // EPIPE after the child died
    const dec = new TextDecoder();
    this.child.stdout!.on("data", (d: Uint8Array) => {
      this.#buf += dec.decode(d, { stream: true });
      let i: number;
      while ((i = this.#buf.indexOf("\n")) >= 0) {
        const line = this.#buf.slice(0, i);
        this.#buf = this.#buf.slice(i + 1);
        if (!line.trim()) continue;
        let e: Json;
        try {
          e = JSON.parse(line);
        } catch {
          e = { ev: "text", text: line };
        }
        this.events.push(e);
        for (const l of this.#listeners) l(e);
        this.#waiters = this.#waiters.filter((w) => {
          if (!w.pred(e)) return true;
          w.resolve(e);
          return false;
        });
      }
    });
    const edec = new TextDecoder();
    this.child.stderr!.on("data", (d: Uint8Array) => {
      this.#errBuf += edec.decode(d, { stream: true });
      const parts = this.#errBuf.split("\n");
      this.#errBuf = parts.pop()!;
      for (const p of parts) {
        this.stderr.push(p);
        if (this.stderr.length > 200) this.stderr.shift();
      }
    });
    this.exit = new Promise((resolve) => {
      // "close", not "exit": every stdout line has been read by then.
      this.child.once("close", (code, signal) => {
        this.exited = true;
        this.exitCode = code;
        this.signal = signal;
        resolve({ code, signal });
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  onEvent(f: (e: Json) => void): void {
    this.#listeners.push(f);
  }

  send(cmd: Json): void {
    if (this.exited || this.child.stdin!.destroyed) return;
    this.child.stdin!.write(JSON.stringify(cmd) + "\n");
  }

  /** The first event (already seen or future) matching `pred`; fails after `ms`. */
  waitFor(pred: (e: Json) => boolean, ms: number, what: string): Promise<Json> {
    const seen = this.events.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const w = { pred, resolve: (e: Json) => { clearTimeout(timer); resolve(e); } };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((x) => x !== w);
        reject(new Error(`timed out after ${ms} ms waiting for ${what} (pid ${this.pid}); stderr: ${this.stderr.slice(-10).join(" | ")}`));
      }, ms);
      this.#waiters.push(w);
    });
  }

  /** The next event after now matching `pred`. */
  next(pred: (e: Json) => boolean, ms: number, what: string): Promise<Json> {
    return new Promise((resolve, reject) => {
      const w = { pred, resolve: (e: Json) => { clearTimeout(timer); resolve(e); } };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((x) => x !== w);
        reject(new Error(`timed out after ${ms} ms waiting for ${what} (pid ${this.pid}); stderr: ${this.stderr.slice(-10).join(" | ")}`));
      }, ms);
      this.#waiters.push(w);
    });
  }

  signalProc(sig: NodeJS.Signals): void {
    if (!this.exited && this.child.pid !== undefined) {
      try {
        // process.kill, not child.kill: Deno's child.kill("SIGCONT") does nothing (returns false).
        process.kill(this.child.pid, sig);
      } catch {
        // already gone
      }
    }
  }

  /** Ends stdin: the fixture treats EOF like "close". */
  endInput(): void {
    if (!this.child.stdin!.destroyed) this.child.stdin!.end();
  }
}

/** The payload a fixture sends for a message: deterministic from (seed, size), so the
 * receiver can check every byte without being told the content. */
export function pattern(seed: number, size: number): Uint8Array {
  const b = new Uint8Array(size);
  for (let i = 0; i < size; i++) b[i] = (seed + i + (i >>> 8) * 37 + (i >>> 16) * 101) & 255;
  return b;
}

export function patternOk(seed: number, b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== ((seed + i + (i >>> 8) * 37 + (i >>> 16) * 101) & 255)) return false;
  return true;
}

export const hex = (id: Uint8Array): string => Array.from(id, (b) => b.toString(16).padStart(2, "0")).join("");
export const unhex = (s: string): Uint8Array => Uint8Array.from((s.match(/../g) ?? []).map((h) => parseInt(h, 16)));

/** Writes one line to fd 1 synchronously (so a line is on the pipe before whatever the
 * process does next, even if it is SIGKILLed right after). */
export function makeEmitter(writeSync: (fd: number, b: Uint8Array, off: number) => number): (o: Json) => void {
  const enc = new TextEncoder();
  return (o: Json): void => {
    const b = enc.encode(JSON.stringify(o) + "\n");
    let off = 0;
    while (off < b.length) {
      try {
        off += writeSync(1, b, off);
      } catch (e) {
        if ((e as { code?: string }).code !== "EAGAIN") throw e;
      }
    }
  };
}

/** xorshift32: small deterministic PRNG for fixture-side choices. */
export function prng(seed: number): () => number {
  let s = (seed >>> 0) || 0x9e3779b9;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 0x100000000;
  };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The codes a send may reject with (README "Errors"; send()'s doc comment). VALUE_ERROR is
 * left out: the tests only make valid sends. */
export const SEND_CODES = new Set(["TIMEOUT", "CANNOT_CONNECT", "PROTOCOL_ERROR", "SHUTDOWN", "ENOMEM"]);
