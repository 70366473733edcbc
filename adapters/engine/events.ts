// Connection events for monitoring: "open", "close" and "identity" listeners (monitor/stats.ts
// defines the event shapes); a listener that throws is reported to onError.
import { ChirpError } from "../errors.ts";
import type { ChirpEvents } from "../monitor/stats.ts";

/** Options of `on`: the same contract as EventTarget's addEventListener options. */
export interface EventListenOptions {
  /** Remove the listener after its first event. */
  once?: boolean;
  /** Remove the listener when this signal aborts. */
  signal?: AbortSignal;
}

/** The listeners of one node, by event type. */
export class Events {
  readonly #listeners: { [K in keyof ChirpEvents]: Set<(e: ChirpEvents[K]) => void> } = { open: new Set(), close: new Set(), identity: new Set() };
  constructor(readonly onError: (err: Error) => void) {}

  /** Adds a listener; `once` removes it after its first event, `signal` when aborted (as
   * EventTarget's addEventListener does). Returns a function that removes it. */
  on<K extends keyof ChirpEvents>(type: K, listener: (e: ChirpEvents[K]) => void, options: EventListenOptions = {}): () => void {
    const set = this.#listeners[type];
    if (!set) throw new ChirpError("VALUE_ERROR", `unknown event "${String(type)}": open, close or identity`);
    if (typeof listener !== "function") throw new ChirpError("VALUE_ERROR", `the listener for "${String(type)}" must be a function`);
    const { once = false, signal } = options;
    if (signal?.aborted) return () => {};
    const onAbort = (): void => remove();
    const remove = (): void => {
      set.delete(fn);
      signal?.removeEventListener("abort", onAbort);
    };
    const fn = once ? (e: ChirpEvents[K]) => { remove(); listener(e); } : listener;
    set.add(fn);
    signal?.addEventListener("abort", onAbort, { once: true });
    return remove;
  }

  /** Whether anyone listens (lets callers skip building an event). */
  has(type: keyof ChirpEvents): boolean {
    return this.#listeners[type].size > 0;
  }

  emit<K extends keyof ChirpEvents>(type: K, e: ChirpEvents[K]): void {
    for (const l of this.#listeners[type]) {
      try {
        l(e);
      } catch (err) {
        this.onError(err as Error);
      }
    }
  }
}
