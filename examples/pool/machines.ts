// A second machine joins the pool: here another set of threads in this process, started with
// joinPool() exactly as `chirpcat worker --module tasks.js --join HOST:PORT` starts them on
// another machine. Tasks then go to whichever worker has a free slot.
import { workerPool, joinPool } from "chirp-wasm/pool";

const tasks = new URL("./tasks.ts", import.meta.url);
const pool = await workerPool({ module: tasks, threads: 1 });
const joined = new Promise((resolve) => pool.on("join", resolve));

// On the other machine: chirpcat worker --module tasks.js --join <this host>:<pool.node.port>
const remote = await joinPool({ module: tasks, join: pool.address, threads: 1 });
await joined;
console.log(pool.stats().workers.map((w) => (w.local ? "local" : "joined")).sort().join(" + "));

const results = await Promise.all(Array.from({ length: 6 }, () => pool.run("wait", 30)));
console.log(results.length, "results;", pool.stats().workers.every((w) => w.done > 0) ? "both workers did some" : "one worker did all");

await remote.close(); // leaves the pool (LEAVE)
await pool.close();
