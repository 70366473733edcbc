// chirpcat worker: a worker process that joins a worker pool (pool/join.ts):
//
//   chirpcat worker --module tasks.js --join HOST:PORT [--threads N] [--concurrency N] [--prefetch N]
//
// serves the module's exported functions on N threads (default: the number of CPUs; 0: in
// the main thread) that join the pool at HOST:PORT, and joins again whenever the pool
// restarts. Prints {"ev":"ready","port":P,"ports":[...]} once its workers listen; SIGINT or
// SIGTERM makes them leave the pool, then it exits 0. Exit 2 on a usage error (chirpcat's EXIT.USAGE), 1 when the
// module or the threads cannot start.
import process from "node:process";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { joinPool } from "../pool/mod.ts";
import { EXIT } from "./options.ts";

const USAGE = "usage: chirpcat worker --module FILE --join HOST:PORT [--threads N] [--concurrency N] [--prefetch N]";

function options(args: string[]): Record<string, string> {
  const o: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const m = /^--(module|join|threads|concurrency|prefetch)(?:=(.*))?$/.exec(args[i]);
    if (!m) throw new Error(`unknown argument ${args[i]}`);
    const v = m[2] ?? args[++i];
    if (v === undefined) throw new Error(`--${m[1]} needs a value`);
    o[m[1]] = v;
  }
  return o;
}

function whole(v: string | undefined, name: string, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} ${v}: expected a whole number >= ${min}`);
  return n;
}

/** Runs `chirpcat worker ARGS`; resolves with the exit code. */
export async function runWorker(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write(`${USAGE}\n`);
    return EXIT.OK;
  }
  let o: Record<string, string>, threads: number | undefined, per: number | undefined, prefetch: number | undefined;
  try {
    o = options(args);
    if (!o.module || !o.join) throw new Error("--module and --join are required");
    if (!/^(\[[^\]]+\]|[^:\s]+):\d+$/.test(o.join)) throw new Error(`--join ${o.join}: expected HOST:PORT`);
    threads = whole(o.threads, "threads", 0);
    per = whole(o.concurrency, "concurrency", 1);
    prefetch = whole(o.prefetch, "prefetch", 0);
  } catch (e) {
    process.stderr.write(`chirpcat worker: ${(e as Error).message}\n${USAGE}\n`);
    return EXIT.USAGE;
  }
  const module = /^[a-z]+:\/\//.test(o.module) ? o.module : pathToFileURL(resolve(o.module)).href;
  let workers;
  try {
    workers = await joinPool({ module, join: o.join, threads, concurrentTasksPerThread: per, prefetch });
  } catch (e) {
    process.stderr.write(`chirpcat worker: ${(e as Error).message}\n`);
    return 1;
  }
  process.stdout.write(JSON.stringify({ ev: "ready", port: workers.ports[0], ports: workers.ports }) + "\n");
  await new Promise<void>((done) => {
    process.once("SIGINT", () => done());
    process.once("SIGTERM", () => done());
  });
  await workers.close();
  return 0;
}
