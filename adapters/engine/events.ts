// Connection events for monitoring: "open", "close" and "identity" listeners (monitor/stats.ts
// defines the event shapes); a listener that throws is reported to onError.
import { ChirpError } from "../errors.ts";
import type { ChirpEvents } from "../monitor/stats.ts";

export class Events {
  readonly #listeners: { [K in keyof ChirpEvents]: Set<(e: ChirpEvents[K]) => void> } = { open: new Set(), close: new Set(), identity: new Set() };
  constructor(readonly onError: (err: Error) => void) {}

  on<K extends keyof ChirpEvents>(type: K, listener: (e: ChirpEvents[K]) => void): () => void {
    const set = this.#listeners[type];
    if (!set) throw new ChirpError("VALUE_ERROR", `unknown event "${String(type)}": open, close or identity`);
    set.add(listener);
    return () => void set.delete(listener);
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
