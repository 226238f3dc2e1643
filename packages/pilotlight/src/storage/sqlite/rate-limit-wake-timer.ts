/**
 * The wake a rate limit owes the workers it turned away: when a claim passes over jobs because a
 * window is full, workers would otherwise not claim them again before their next poll. One timer for
 * the whole store, due at the earliest window end it waits for, unref'd (it never keeps a process
 * alive), cleared by `clear()`.
 */
export class RateLimitWakeTimer {
  readonly #wake: (queue: string) => void;
  /** Per queue, when to wake it (`performance.now()` clock): the earliest window end armed for it. */
  readonly #due = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #timerDue = Infinity;

  constructor(wake: (queue: string) => void) {
    this.#wake = wake;
  }

  /** Wakes `queue` in `delay` ms, unless a wake of it is already due sooner. */
  arm(queue: string, delay: number): void {
    // A ms late rather than early: a claim made by the wake must find the window closed.
    const due = performance.now() + Math.max(0, delay) + 1;
    const armed = this.#due.get(queue);
    if (armed !== undefined && armed <= due) return;
    this.#due.set(queue, due);
    if (due < this.#timerDue) this.#schedule(due);
  }

  clear(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerDue = Infinity;
    this.#due.clear();
  }

  #schedule(due: number): void {
    clearTimeout(this.#timer);
    this.#timerDue = due;
    this.#timer = setTimeout(() => this.#fire(), Math.max(0, due - performance.now())).unref();
  }

  #fire(): void {
    this.#timer = undefined;
    this.#timerDue = Infinity;
    const now = performance.now();
    const woken: string[] = [];
    let next = Infinity;
    for (const [queue, due] of this.#due) {
      if (due <= now) woken.push(queue);
      else next = Math.min(next, due);
    }
    for (const queue of woken) this.#due.delete(queue);
    if (next !== Infinity) this.#schedule(next);
    for (const queue of woken) this.#wake(queue);
  }
}
