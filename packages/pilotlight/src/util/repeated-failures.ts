import type { Logger } from './logger.ts';

/** How long repeats of one failure stay out of the log after it was logged. */
const QUIET_MS = 30_000;

interface Streak {
  readonly since: number;
  failures: number;
  loggedAt: number;
  /** Failures since the last line logged. */
  unlogged: number;
}

/**
 * The log of failures that repeat: a store call that fails on every poll while the database
 * restarts would otherwise write a line per poll, per worker. The first failure of a kind is
 * logged at once; repeats at most every 30 s, with how many were left out; the first success after
 * a streak says (at info level) how long it lasted.
 */
export class RepeatedFailures {
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #streaks = new Map<string, Streak>();

  constructor(logger: Logger, now: () => number = Date.now) {
    this.#logger = logger;
    this.#now = now;
  }

  /** `what` failed with `error`; `message` is the line to log. */
  failed(what: string, message: string, error: unknown, level: 'warn' | 'error' = 'error'): void {
    const now = this.#now();
    const streak = this.#streaks.get(what);
    if (!streak) {
      this.#streaks.set(what, { since: now, failures: 1, loggedAt: now, unlogged: 0 });
      this.#logger[level](message, { error });
      return;
    }
    streak.failures++;
    if (now - streak.loggedAt < QUIET_MS) {
      streak.unlogged++;
      return;
    }
    this.#logger[level](`${message} (failing for ${Math.round((now - streak.since) / 1000)} s; ${streak.unlogged} repeats not logged)`, {
      error,
    });
    streak.loggedAt = now;
    streak.unlogged = 0;
  }

  /** `what` worked: ends its streak of failures, if any. */
  succeeded(what: string, message: string): void {
    const streak = this.#streaks.get(what);
    if (!streak) return;
    this.#streaks.delete(what);
    this.#logger.info(`${message} after ${streak.failures} failures over ${Math.round((this.#now() - streak.since) / 1000)} s`);
  }
}
