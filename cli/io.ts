// chirpcat's output (stdout for messages, stderr for status and errors, both flushed before
// exit) and the mapping from errors to exit codes (cli/options.ts EXIT).
import process from "node:process";
import { ChirpError } from "../adapters/index.ts";
import { EXIT, UsageError } from "./options.ts";

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class Output {
  #out: Promise<void> = Promise.resolve();
  #err: Promise<void> = Promise.resolve();

  /** Writes to stdout, in order. */
  write(chunk: Uint8Array | string): void {
    this.#out = new Promise<void>((resolve) => {
      process.stdout.write(chunk, () => resolve());
    });
  }

  /** A line on stderr, prefixed "chirpcat: ". */
  err(line: string): void {
    this.#err = new Promise<void>((resolve) => {
      process.stderr.write(`chirpcat: ${line}\n`, () => resolve());
    });
  }

  /** Resolves when everything written so far was handed over (call before exiting). */
  async flush(): Promise<void> {
    await this.#out;
    await this.#err;
  }
}

/** An error already reported on stderr; it only carries the exit code. */
export class Reported extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}

/** The exit code for an error: usage 2; ChirpError CANNOT_CONNECT 3, TIMEOUT 4, EADDRINUSE 5,
 * VALUE_ERROR 2 (a bad option value the library refused); anything else 1. */
export function exitCodeOf(e: unknown): number {
  if (e instanceof UsageError) return EXIT.USAGE;
  if (e instanceof Reported) return e.exitCode;
  const code = e instanceof ChirpError ? e.code : undefined;
  switch (code) {
    case "CANNOT_CONNECT": return EXIT.CANNOT_CONNECT;
    case "TIMEOUT": return EXIT.TIMEOUT;
    case "EADDRINUSE": return EXIT.CANNOT_LISTEN;
    case "VALUE_ERROR": return EXIT.USAGE;
    default: return EXIT.ERROR;
  }
}
