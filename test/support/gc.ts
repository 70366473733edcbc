// Whether objects are still reachable, for tests that check that something is no longer held
// (bounded memory): a full garbage collection on demand (Bun.gc on Bun; V8's gc() through
// node:v8's flags on Node and Deno) and a tracker of objects that reports how many survive.
import v8 from "node:v8";
import vm from "node:vm";

const bun = (globalThis as unknown as { Bun?: { gc(sync: boolean): void } }).Bun;

function find(): () => void {
  if (bun) return () => bun.gc(true);
  v8.setFlagsFromString("--expose_gc");
  return vm.runInNewContext("gc") as () => void;
}

const gc = find();

const nextTask = (ms = 0): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Tracks objects and counts how many are still reachable after a full collection. Why two
 * mechanisms: on V8 (Node, Deno) a WeakRef made in a job keeps its target until the host
 * clears its kept objects, which Node does not do reliably between tasks, so V8 counts with
 * a FinalizationRegistry; JavaScriptCore (Bun) does not run FinalizationRegistry callbacks
 * for these, but clears WeakRefs. */
export class Tracker {
  #freed = new Set<number>();
  #registry = bun ? null : new FinalizationRegistry<number>((i) => this.#freed.add(i));
  #refs: WeakRef<object>[] = [];
  #count = 0;

  /** Tracks `o`; returns its number (0, 1, ...). */
  track(o: object): number {
    const i = this.#count++;
    if (this.#registry) this.#registry.register(o, i);
    else this.#refs.push(new WeakRef(o));
    return i;
  }

  /** How many of the objects numbered below `upTo` are reachable after a full collection. */
  async alive(upTo = this.#count): Promise<number> {
    for (let k = 0; k < 2; k++) {
      await nextTask();
      gc();
    }
    await nextTask(20); // finalization callbacks run in a later task
    let n = 0;
    for (let i = 0; i < upTo; i++) {
      if (this.#registry ? !this.#freed.has(i) : this.#refs[i].deref() !== undefined) n++;
    }
    return n;
  }
}
