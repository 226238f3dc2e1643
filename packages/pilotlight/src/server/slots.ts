/**
 * The worker's `concurrency`: how many handlers run at once. A worker may hold more jobs than that
 * (`prefetch`); those wait here, in claim order, for a slot.
 */
export class Slots {
  readonly #size: number;
  #used = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(size: number) {
    this.#size = size;
  }

  /** Slots taken now. */
  get used(): number {
    return this.#used;
  }

  /** Resolves true with a slot taken, or false if `signal` aborts first (no slot taken). */
  acquire(signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return Promise.resolve(false);
    if (this.#used < this.#size) {
      this.#used++;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const onAbort = (): void => {
        this.#waiting.splice(this.#waiting.indexOf(grant), 1);
        resolve(false);
      };
      const grant = (): void => {
        signal.removeEventListener('abort', onAbort);
        this.#used++;
        resolve(true);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(grant);
    });
  }

  release(): void {
    this.#used--;
    this.#waiting.shift()?.();
  }
}
