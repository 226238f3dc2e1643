import { resolveRetry, type ResolvedRetry } from '../config/resolve.ts';
import { UnrecoverableError } from '../errors.ts';
import type { ElectStateContext, JobFilter } from '../filters/filter.ts';
import type { RetryOptions } from '../types.ts';

/**
 * Automatic retry, as Hangfire's `AutomaticRetry` filter: when an attempt fails and attempts are
 * left, the job is scheduled again after a back-off instead of failing. An `UnrecoverableError`
 * fails the job at once.
 */
export class AutomaticRetryFilter implements JobFilter {
  readonly order = -100;
  readonly #defaults: ResolvedRetry;
  readonly #random: () => number;

  constructor(defaults: ResolvedRetry, random: () => number = Math.random) {
    this.#defaults = defaults;
    this.#random = random;
  }

  onStateElection(context: ElectStateContext): void {
    const { candidate, job } = context;
    if (candidate.name !== 'Failed' || context.currentState !== 'Processing') return;
    const policy = resolveRetry(job.retry, this.#defaults);
    const message = candidate.error?.message ?? 'unknown error';
    if (isUnrecoverable(context.error)) {
      context.candidate = { ...candidate, reason: `Unrecoverable error, not retried: ${message}` };
      return;
    }
    if (job.attempt >= policy.attempts) {
      context.candidate = { ...candidate, reason: `Failed after ${job.attempt} attempt(s), no retry left: ${message}` };
      return;
    }
    const retry = job.retryCount + 1;
    const delay = retryDelay(policy.backoff, retry, this.#random);
    context.candidate = {
      name: 'Scheduled',
      runAt: new Date(context.at.getTime() + delay),
      retry: true,
      reason: `Retry ${retry} of ${policy.attempts - 1} in ${formatDelay(delay)}: ${message}`,
      ...(candidate.error && { error: candidate.error }),
    };
  }
}

/** `instanceof UnrecoverableError`; false for a thrown Proxy whose `getPrototypeOf` trap throws (it is retried like any failure). */
function isUnrecoverable(error: unknown): boolean {
  try {
    return error instanceof UnrecoverableError;
  } catch {
    return false;
  }
}

/** Delay in ms before retry number `retry` (1-based). */
export function retryDelay(backoff: NonNullable<RetryOptions['backoff']>, retry: number, random: () => number = Math.random): number {
  if (backoff === 'hangfire') {
    // Hangfire's back-off: (attempt-1)^4 + 15 + random(30)·attempt seconds, attempt = retry here.
    return Math.round(((retry - 1) ** 4 + 15 + Math.floor(random() * 30) * retry) * 1000);
  }
  if (typeof backoff === 'number') return backoff;
  return backoff[Math.min(retry, backoff.length) - 1]!;
}

function formatDelay(ms: number): string {
  return ms < 1000 ? `${ms} ms` : ms < 120_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 60_000)} min`;
}
