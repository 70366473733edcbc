// The thread contract the worker pool (pool/) runs on: start a thread on a module URL, post it
// messages, hear its messages and its end; inside a thread, the port to its parent. Each
// runtime implements it with its own API (node/threads.ts: node:worker_threads; deno/threads.ts
// and bun/threads.ts: the Worker global); threads.ts picks one. Messages are structured-clone
// values (plain objects of strings and numbers here).

/** A thread started by this one. */
export interface Thread {
  /** Sends `msg` to the thread (structured clone). */
  post(msg: unknown): void;
  /** Ends the thread at once (whatever it is doing). */
  terminate(): Promise<void>;
}

/** What the starter hears from a thread. */
export interface ThreadCallbacks {
  /** A message the thread posted. */
  message(msg: unknown): void;
  /** The thread ended: `err` is why when it crashed (an uncaught error), undefined when it
   * ended by itself or by terminate(). Called once. */
  exit(err: Error | undefined): void;
}

/** Inside a thread: the link to the thread that started it. */
export interface ThreadPort {
  post(msg: unknown): void;
  onMessage(f: (msg: unknown) => void): void;
}

/** One runtime's threads. */
export interface ThreadHost {
  /** Starts a thread running the module at `url` (an ES module). */
  start(url: URL, callbacks: ThreadCallbacks): Thread;
  /** The port to the parent when this code runs in a thread started by start(), else null. */
  port(): ThreadPort | null;
  /** The URL a thread should import for the module at `url`: on Node, a `.ts` file that does
   * not exist is taken as the `.js` file tsc wrote next to it (Node runs no TypeScript). */
  moduleUrl(url: URL): URL;
  /** The number of CPUs this process may use. */
  cpus(): number;
}
