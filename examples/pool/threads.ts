// A worker pool on local threads: tasks are the functions tasks.ts exports; run() sends one
// to a free thread and resolves with its result (or rejects with its error, marked remote).
import { workerPool } from "chirp-wasm/pool";

const pool = await workerPool({ module: new URL("./tasks.ts", import.meta.url), threads: 2 });

console.log(await pool.run("fib", 25));
const digests = await Promise.all(["a", "b", "c"].map((s) => pool.run<string>("sha256", s)));
console.log(digests.map((d) => d.slice(0, 8)).join(" "));

try {
  await pool.run("divide", { a: 1, b: 0 });
} catch (e) {
  const err = e as { name: string; remote: boolean; remoteName: string; message: string };
  console.log(`${err.name} (remote: ${err.remote}, ${err.remoteName}): ${err.message.replace(/ \(task.*/, "")}`);
}

const stop = new AbortController();
const slow = pool.run("wait", 10_000, { signal: stop.signal });
stop.abort(new Error("changed my mind"));
await slow.catch((e) => console.log(`aborted: ${(e as Error).message}`));
console.log(await pool.run("wait", 50, { timeout: 5 }));

const s = pool.stats();
console.log(`${s.workers.length} threads, ${s.done} tasks done, ${s.failed} failed`);
await pool.close({ drain: false }); // the aborted task still runs: do not wait for it
