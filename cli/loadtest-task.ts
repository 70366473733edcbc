// The task module of `chirpcat loadtest` (cli/loadtest.ts): what a pool worker (a local thread,
// or `chirpcat worker --module <this file>` on another machine) runs. One task fires a batch of
// HTTP requests at a URL with fetch, spread evenly over `spreadMs`, and returns each one's
// latency (request sent to body read) with the statuses and failures; the pool's side adds
// them up. A failed request (no HTTP response within `timeoutMs`) is counted, not thrown.

/** One batch: `count` requests at `url`, the i-th sent at `i * spreadMs / count` ms. */
export interface Batch {
  url: string;
  count: number;
  spreadMs: number;
  timeoutMs: number;
}

/** What a batch did: latencies in ms (of the requests that got a response), statuses, failures. */
export interface BatchResult {
  latencies: number[];
  status: Record<string, number>;
  failed: number;
  /** The first failure's message. */
  error?: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Fires the batch (see the file comment). */
export async function fire(b: Batch): Promise<BatchResult> {
  const out: BatchResult = { latencies: [], status: {}, failed: 0 };
  const t0 = performance.now();
  const one = async (i: number): Promise<void> => {
    const wait = t0 + (i * b.spreadMs) / b.count - performance.now();
    if (wait > 1) await sleep(wait);
    const start = performance.now();
    try {
      const res = await fetch(b.url, { signal: AbortSignal.timeout(b.timeoutMs) });
      await res.arrayBuffer(); // the whole answer, and the connection is free for the next
      out.latencies.push(Math.round((performance.now() - start) * 1000) / 1000);
      out.status[res.status] = (out.status[res.status] ?? 0) + 1;
    } catch (e) {
      out.failed++;
      out.error ??= (e as Error)?.message ?? String(e);
    }
  };
  await Promise.all(Array.from({ length: b.count }, (_, i) => one(i)));
  return out;
}
