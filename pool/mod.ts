// The worker pool, package export "chirp-wasm/pool": tasks (a module's exported functions) run
// on local threads and on workers that join over the network, with one API. Guide:
// docs/pool.md; the pieces: pool/pool.ts (the pool), pool/dispatch.ts (scheduling, failure),
// pool/codec.ts (how values travel), pool/join.ts (a worker process), pool/serve.ts.
export { WorkerPool, workerPool, type PoolOptions, type PoolStats, type PoolEvent } from "./pool.ts";
export type { RunOptions, WorkerInfo } from "./dispatch.ts";
export { TaskError, type TaskValue } from "./codec.ts";
export { joinPool, type JoinOptions, type JoinedWorkers } from "./join.ts";
export { serveTasks, taskHandler, taskNames, type ServeOptions, type Tasks } from "./serve.ts";
