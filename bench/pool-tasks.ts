// Task functions for bench/pool.ts: a 16-byte echo, SHA-256 of 64 KiB (about 50 µs) and of
// 1 MiB (64 KiB hashed 16 times, about 1 ms: a task whose work dominates), computed in the
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

export function sha256MiB(seed: number): string {
  block[0] = seed & 0xff;
  const h = createHash("sha256");
  for (let i = 0; i < 16; i++) h.update(block);
  return h.digest("hex");
}
