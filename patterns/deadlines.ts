// Call deadlines served by one runtime timer per timeout value: calls made with the same
// timeout have deadlines in start order, so a FIFO queue and one timer for its oldest live
// entry serve them all (a setTimeout and a clearTimeout per request cost more than the rest
// of a call's bookkeeping; a pusher's attempts and most requests share a timeout).
//
//   deadlineAfter(ms)(expire) -> cancel     (a Deadline, patterns/call.ts)
//
// Cancelled entries are dropped from the head as new ones arrive (amortised O(1), and a
// cancelled entry keeps nothing of its call); the timer is cleared and the queue forgotten
// once nothing is live, so an idle process has no timer of ours.

/** Schedules `expire` at a call's deadline; returns a function that cancels it. */
export type Deadline = (expire: () => void) => () => void;

interface Entry {
  at: number;
  expire: () => void;
  live: boolean;
}

const NOTHING = (): void => {};
const queues = new Map<number, DeadlineQueue>();

/** The Deadline of `ms` milliseconds from now, shared by every call with that timeout. */
export function deadlineAfter(ms: number): Deadline {
  let q = queues.get(ms);
  if (q === undefined) queues.set(ms, (q = new DeadlineQueue(ms)));
  return q.add;
}

class DeadlineQueue {
  #entries: Entry[] = [];
  #head = 0;
  #live = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;
  constructor(readonly ms: number) {}

  readonly add: Deadline = (expire) => {
    this.#dropCancelled();
    const e: Entry = { at: performance.now() + this.ms, expire, live: true };
    this.#entries.push(e);
    this.#live++;
    if (this.#timer === null) this.#arm();
    return () => {
      if (!e.live) return;
      e.live = false;
      e.expire = NOTHING; // the call (its data, its answer) is not kept until the queue moves
      if (--this.#live === 0) this.#forget();
    };
  };

  /** Nothing live: no timer, and the queue leaves the map (any timeout value may be used). */
  #forget(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#entries = [];
    this.#head = 0;
    if (queues.get(this.ms) === this) queues.delete(this.ms);
  }

  #dropCancelled(): void {
    const q = this.#entries;
    while (this.#head < q.length && !q[this.#head].live) this.#head++;
    if (this.#head > 1024 && this.#head * 2 > q.length) {
      q.splice(0, this.#head);
      this.#head = 0;
    }
  }

  #arm(): void {
    this.#dropCancelled();
    const q = this.#entries;
    if (this.#head >= q.length) return;
    const wait = Math.max(0, q[this.#head].at - performance.now());
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#expire();
    }, wait);
  }

  #expire(): void {
    const now = performance.now();
    for (;;) {
      const q = this.#entries; // an expire() may end the last live entry and reset the queue
      if (this.#head >= q.length) break;
      const e = q[this.#head];
      if (e.live && e.at > now) break;
      this.#head++;
      if (!e.live) continue;
      const expire = e.expire;
      e.live = false;
      e.expire = NOTHING;
      this.#live--;
      expire(); // may add entries (a pusher's retry) or cancel others
    }
    if (this.#timer !== null) return; // an add() during expire() armed it
    if (this.#live === 0) this.#forget();
    else this.#arm();
  }
}
