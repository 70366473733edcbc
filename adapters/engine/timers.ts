// The timer: one runtime timer armed at the core's next deadline; when it fires the core's
// tick() reports what expired (connect, send, write timeouts, debounce ends, garbage
// collection: protocol.md §4.3, §4.5, §5.5) and the events are acted on.
import type { Ctx, TimerPart } from "./context.ts";

const now = (): number => performance.now();

export class Timer implements TimerPart {
  #timer: ReturnType<typeof setTimeout> | null = null;
  #at = Infinity;
  constructor(readonly ctx: Ctx) {}

  /** Arms the timer if the core's next deadline is earlier than the one armed. */
  arm(): void {
    if (this.ctx.closing) return;
    const d = this.ctx.core.x.nextDeadline();
    if (!Number.isFinite(d) || d >= this.#at) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#at = d;
    this.#timer = setTimeout(() => this.#fire(), Math.max(0, Math.ceil(d - now())));
  }

  #fire(): void {
    this.#timer = null;
    this.#at = Infinity;
    const ctx = this.ctx;
    if (ctx.closing) return;
    ctx.core.x.tick(now());
    ctx.receiver.dispatch(ctx.receiver.handleEvents());
    this.arm();
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
