import type { Store } from '../../src/index.ts';
import { wrapStore } from '../support/helpers.ts';

/** Handlers running now and the most seen at once, per key: what a concurrency limit bounds. */
export class RunningCounter {
  readonly #running = new Map<string, number>();
  readonly #peak = new Map<string, number>();

  /** Counts the handler as running under `key` until `work` settles. */
  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const now = (this.#running.get(key) ?? 0) + 1;
    this.#running.set(key, now);
    this.#peak.set(key, Math.max(this.#peak.get(key) ?? 0, now));
    try {
      return await work();
    } finally {
      this.#running.set(key, this.#running.get(key)! - 1);
    }
  }

  peak(key: string): number {
    return this.#peak.get(key) ?? 0;
  }
}

/** `store` counting its `claimJobs` and `transitionAndClaim` calls (the claims a worker makes). */
export function countingClaims(store: Store): { store: Store; claims: () => number } {
  let claims = 0;
  return {
    store: wrapStore(store, {
      claimJobs: (request) => {
        claims++;
        return store.claimJobs(request);
      },
      transitionAndClaim: (changes, claim) => {
        if (claim) claims++;
        return store.transitionAndClaim(changes, claim);
      },
    }),
    claims: () => claims,
  };
}

/** Resolves when `release()` is called: a handler holds its key until the test lets it go. */
export function gate(): { wait: Promise<void>; release: () => void } {
  let release!: () => void;
  const wait = new Promise<void>((resolve) => (release = resolve));
  return { wait, release };
}
