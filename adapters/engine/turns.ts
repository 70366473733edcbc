// Fairness: a bound on how long settled sends may keep the event loop from turning. A send's
// promise settles from its write's callback, which Node and Bun deliver through
// process.nextTick when the write completes at once; an `await send()` loop (or a window of
// sends) then runs as one unbroken microtask chain, and timers and socket reads wait for it
// (issue 14). Here, once settlements have run for BUDGET_MS without the loop turning, further
// ones wait for a macrotask sentinel (setImmediate where the runtime has it: it runs right
// after the poll for I/O; else setTimeout 0, which Node would clamp to 1 ms), so timers and
// I/O run in between. The same budget bounds the asynchronous sends that resolve at once when
// accepted (mayAccept).
import { settle, type SendOp } from "./records.ts";

/** How long settlements may run before they wait for the event loop to turn. */
const BUDGET_MS = 4;

const now = (): number => performance.now();

type Later = (fn: () => void) => unknown;
const g = globalThis as { setImmediate?: Later };
const later: Later = typeof g.setImmediate === "function" ? g.setImmediate : (fn) => setTimeout(fn, 0);

export class Turns {
  /** When the current turn's first settlement ran (the sentinel is armed then). */
  #start = 0;
  #armed = false;
  /** The budget of this turn is spent: settle and accept nothing more until it turns. */
  #over = false;
  #accepts = 0;
  #held: SendOp[] = [];

  /** Whether an asynchronous send may resolve at once, accepted into its queue (an `await
   * send()` loop of accepted sends is a pure microtask chain: the same budget bounds it). The
   * clock is read every 64 accepts. */
  mayAccept(): boolean {
    if (this.#over || this.#held.length > 0) return false;
    if (!this.#armed) {
      this.#arm(now());
      return true;
    }
    if ((++this.#accepts & 63) === 0 && now() - this.#start > BUDGET_MS) {
      this.#over = true;
      return false;
    }
    return true;
  }

  #arm(t: number): void {
    this.#armed = true;
    this.#start = t;
    later(() => this.#turned());
  }

  /** Settles these written sends now, or holds them until the event loop has turned. */
  settleWritten(ops: SendOp[]): void {
    const t = now();
    if (!this.#armed) this.#arm(t);
    if (!this.#over && this.#held.length === 0 && t - this.#start <= BUDGET_MS) {
      for (let i = 0; i < ops.length; i++) settle(ops[i]);
      return;
    }
    for (let i = 0; i < ops.length; i++) this.#held.push(ops[i]);
  }

  #turned(): void {
    this.#armed = false;
    this.#over = false;
    const held = this.#held;
    if (held.length === 0) return;
    this.#held = [];
    // A new turn: its budget starts now.
    this.#arm(now());
    for (let i = 0; i < held.length; i++) settle(held[i]);
  }
}
