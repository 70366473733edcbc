// The child's side of test/support/process.ts, for the fixture programs in test/fixtures/:
// events out as JSON lines written synchronously to fd 1 (so a line is on the pipe before
// whatever the process does next, even if it is SIGKILLed right after), commands in as
// stdin lines, EOF on stdin as the end.
import process from "node:process";
import { writeSync } from "node:fs";
import type { Json } from "./process.ts";

export type { Json };

const enc = new TextEncoder();

/** Writes one line (an event object as JSON, or text) to stdout synchronously. */
export function emit(o: Json | string): void {
  const b = enc.encode((typeof o === "string" ? o : JSON.stringify(o)) + "\n");
  let off = 0;
  while (off < b.length) {
    try {
      off += writeSync(1, b, off);
    } catch (e) {
      if ((e as { code?: string }).code !== "EAGAIN") throw e;
    }
  }
}

/** Calls `onLine` for every non-empty stdin line (without the newline) and `onEnd` at EOF. */
export function readLines(onLine: (line: string) => void, onEnd: () => void): void {
  let buf = "";
  const decoder = new TextDecoder();
  process.stdin.on("data", (d: Uint8Array | string) => {
    buf += typeof d === "string" ? d : decoder.decode(d, { stream: true });
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line.trim()) onLine(line);
    }
  });
  process.stdin.on("end", onEnd);
}

/** Stops reading stdin, so that nothing of it keeps the process alive. */
export function closeInput(): void {
  process.stdin.pause();
  process.stdin.removeAllListeners();
  process.stdin.destroy();
}
