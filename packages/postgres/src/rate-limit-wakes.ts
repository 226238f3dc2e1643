/**
 * The store's wake-ups at the end of rate-limit windows: when a claim passes over jobs for a rate
 * limit, nothing else would tell the workers when they may start (no job changes state then), so
 * the store arms a timer for the window's end that emits a wake for the jobs' queues. One timer per
 * window (kind and key): claims passing over more jobs of the same window add their queues to it.
 * Unref'd: it never keeps the process alive; `clear()` (the store's close) cancels them all.
 */
export class WindowWakes {
  readonly #wake: (queue: string) => void;
  readonly #timers = new Map<string, { readonly timer: NodeJS.Timeout; readonly queues: Set<string> }>();
  #cleared = false;

  constructor(wake: (queue: string) => void) {
    this.#wake = wake;
  }

  /** Wakes `queue` in `delayMs` (the time left of window `window`), or with the timer already armed for that window. */
  arm(window: string, delayMs: number, queue: string): void {
    if (this.#cleared) return;
    const armed = this.#timers.get(window);
    if (armed) {
      armed.queues.add(queue);
      return;
    }
    const queues = new Set([queue]);
    const timer = setTimeout(
      () => {
        this.#timers.delete(window);
        for (const name of queues) this.#wake(name);
      },
      Math.max(0, delayMs),
    );
    timer.unref();
    this.#timers.set(window, { timer, queues });
  }

  clear(): void {
    this.#cleared = true;
    for (const { timer } of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }
}
