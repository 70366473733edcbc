// Waiting in tests: for time, for a condition, for a promise's outcome. Conditions are
// polled; a wait that runs out fails with what it was waiting for. No runtime API.

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits until `pred()` holds, polling every 5 ms; fails after `ms`. */
export async function until(pred: () => boolean, ms = 5000, what = "condition"): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** Resolves with the promise's outcome, or "pending" if it has not settled after `ms`. */
export async function stateAfter<T>(p: Promise<T>, ms: number): Promise<"pending" | "resolved" | "rejected"> {
  let s: "pending" | "resolved" | "rejected" = "pending";
  p.then(() => (s = "resolved"), () => (s = "rejected"));
  await sleep(ms);
  return s;
}

/** The promise's value, or null after `ms` (the timer does not outlive the promise). */
export async function within<V>(p: Promise<V>, ms: number): Promise<V | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([p, new Promise<null>((r) => { timer = setTimeout(() => r(null), ms); })]);
  } finally {
    clearTimeout(timer);
  }
}

/** The rejection of a promise as { code, message } (code: the error's `code`, else the error
 * as text); fails the test if the promise resolves. */
export async function failure(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    return { code: (e as { code?: string }).code ?? String(e), message: (e as Error).message };
  }
  throw new Error("expected a rejection, but the promise resolved");
}

/** The error code a promise rejects with (fails the test if it resolves). */
export const codeOf = async (p: Promise<unknown>): Promise<string> => (await failure(p)).code;
