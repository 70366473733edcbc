// Async iteration for the callback roles (subscriber, bus, pair): without a callback, what the
// role receives waits here and `for await` takes it in order; close() ends the iteration.

/** A queue of received items read by `for await`; one iterator at a time. */
export class Inbox<T> implements AsyncIterable<T> {
  readonly #items: T[] = [];
  readonly #waiters: ((r: IteratorResult<T>) => void)[] = [];
  #ended = false;

  /** Hands an item to a waiting reader, or keeps it for the next one. */
  push(item: T): void {
    if (this.#ended) return;
    const w = this.#waiters.shift();
    if (w) w({ value: item, done: false });
    else this.#items.push(item);
  }

  /** Ends the iteration: readers get the items still queued, then done. */
  end(): void {
    this.#ended = true;
    for (const w of this.#waiters.splice(0)) w({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: (): Promise<IteratorResult<T>> => {
        if (this.#items.length) return Promise.resolve({ value: this.#items.shift()!, done: false });
        if (this.#ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => this.#waiters.push(resolve));
      },
      return: (): Promise<IteratorResult<T>> => Promise.resolve({ value: undefined, done: true }),
    };
  }
}

/** The callback a role was given, or one that queues into `inbox`; and a guarded iterator. */
export function deliver<A extends unknown[], T>(
  role: string, callback: ((...a: A) => void) | undefined, inbox: Inbox<T>, item: (...a: A) => T,
): { fn: (...a: A) => void; iterate: () => AsyncIterator<T> } {
  return {
    fn: callback ?? ((...a: A) => inbox.push(item(...a))),
    iterate: () => {
      if (callback) throw new TypeError(`this ${role} was given a callback: messages go to it, not to for await (create it without one to iterate)`);
      return inbox[Symbol.asyncIterator]();
    },
  };
}
