// Task functions for the pool examples (docs/pool.md): each exported function is a task; it
// takes one input and returns (or resolves to) its result.
export function fib(n: number): number {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

export async function sha256(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function divide(x: { a: number; b: number }): number {
  if (x.b === 0) throw new RangeError("division by zero");
  return x.a / x.b;
}

export async function wait(ms: number): Promise<string> {
  await new Promise((r) => setTimeout(r, ms));
  return `waited ${ms} ms`;
}
