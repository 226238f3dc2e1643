import { setTimeout as sleep } from 'node:timers/promises';
import { StoreClosedError } from '../errors.ts';
import type { Transition } from '../storage/store.ts';
import type { JobRecord } from '../types.ts';
import type { Logger } from '../util/logger.ts';
import type { RepeatedFailures } from '../util/repeated-failures.ts';

/**
 * Back-off between two tries at recording the outcome of an attempt when the store fails (a
 * database restart, a network blip): doubling from the first delay up to the last.
 */
const FIRST_RETRY_MS = 50;
const MAX_RETRY_MS = 2_000;

export interface RecordOutcomeDeps {
  readonly workerName: string;
  readonly commit: (transition: Transition) => Promise<JobRecord | undefined>;
  readonly failures: RepeatedFailures;
  readonly logger: Logger;
  /** Aborted when the worker's `stop()` gives up on outcomes the store keeps refusing. */
  readonly signal: AbortSignal;
}

/**
 * Commits an attempt's final state; if the store fails (the database restarting, say), tries again
 * with a back-off until it succeeds, the guard shows the job is no longer this attempt's (the store
 * then returns undefined), the store is closed, or `signal` gives up. Recording late is safe: the guard (Processing,
 * this attempt, this worker) lets the change through only if nobody requeued the job meanwhile,
 * and the heartbeat keeps the lease of a job waiting here. Giving up instead would run the job
 * again once its lease expired.
 */
export async function recordOutcome(transition: Transition, deps: RecordOutcomeDeps): Promise<JobRecord | undefined> {
  const { workerName, failures, signal } = deps;
  let delay = FIRST_RETRY_MS;
  for (let tries = 1; ; tries++) {
    try {
      const recorded = await deps.commit(transition);
      if (tries > 1) {
        deps.logger.debug(`Worker ${workerName} recorded the outcome of job ${transition.id} (${transition.to.name}) at try ${tries}`);
        failures.succeeded('outcome', `Worker ${workerName} records the outcomes of jobs again`);
      }
      return recorded;
    } catch (error) {
      if (signal.aborted || error instanceof StoreClosedError) throw error; // a closed store never comes back
      // Per job at debug level; the streak once in a while at warn level (every job fails alike).
      deps.logger.debug(
        `Worker ${workerName} could not record the outcome of job ${transition.id} (${transition.to.name}), try ${tries}; retrying in ${delay} ms`,
        {
          error,
        },
      );
      failures.failed(
        'outcome',
        `Worker ${workerName} could not record the outcomes of finished jobs; retrying each with a back-off up to ${MAX_RETRY_MS} ms`,
        error,
        'warn',
      );
      try {
        await sleep(delay, undefined, { signal });
      } catch {
        throw error; // stop() gave up waiting
      }
      delay = Math.min(delay * 2, MAX_RETRY_MS);
    }
  }
}
