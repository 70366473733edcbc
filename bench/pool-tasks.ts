// Task functions for bench/pool.ts: a 16-byte echo and SHA-256 of 64 KiB, computed in the
// worker (node:crypto, which Node, Deno and Bun all provide, so the work is the same code).
import { createHash } from "node:crypto";

const block = new Uint8Array(64 * 1024).map((_, i) => (i * 31 + 7) & 0xff);

export function echo(x: Uint8Array): Uint8Array {
  return x;
}

export function sha256(seed: number): string {
  block[0] = seed & 0xff;
  return createHash("sha256").update(block).digest("hex");
}
