import { DEFAULTS } from '../config/defaults.ts';
import { JobCancelledError } from '../errors.ts';
import type { ChangeOptions, StateMachine } from '../states/state-machine.ts';
import type { Store } from '../storage/store.ts';
import type { JobRecord, StateRecord } from '../types.ts';
import { toErrorDetails } from '../util/errors.ts';

/** In the history reason of a job whose attempt a worker's shutdown interrupted, and that got it back. */
export const SHUTDOWN_HAND_BACK = 'handed back at shutdown';

export interface HandBackDeps {
  readonly store: Store;
  readonly states: StateMachine;
  readonly serverName: string;
}

/**
 * How many times shutdowns interrupted the job's current attempt and gave it back: its history read
 * backwards over those hand-backs, the Processing entries between them and the hand-backs of jobs
 * that never started (prefetched, stray claims), up to anything else (a retry, a requeue, a
 * creation), which ended the count.
 */
export function shutdownHandBacks(history: readonly StateRecord[]): number {
  let count = 0;
  for (let i = history.length - 1; i >= 0; i--) {
    const entry = history[i]!;
    if (entry.name === 'Processing') continue;
    if (entry.name !== 'Enqueued' || !entry.reason?.includes('handed back')) break;
    if (entry.reason.includes(SHUTDOWN_HAND_BACK)) count++;
  }
  return count;
}

/**
 * A job whose attempt the worker's shutdown interrupted (`what` says how): handed back to its queue
 * with its attempt given back, up to `maxShutdownHandBacks` times for one attempt. The next time the
 * attempt counts: it fails with a `JobCancelledError` (reason `shutdown`) and the retry policy
 * decides (a retry, or Failed once no attempt is left), so a job that hangs until every shutdown
 * cannot loop forever. Guarded like any outcome (Processing, this attempt, this worker).
 */
export async function handBackAtShutdown(
  job: JobRecord,
  what: string,
  deps: HandBackDeps,
  options: Pick<ChangeOptions, 'items' | 'commit'> = {},
): Promise<{ job: JobRecord; state: StateRecord } | undefined> {
  const max = DEFAULTS.worker.maxShutdownHandBacks;
  let previous = 0;
  try {
    previous = shutdownHandBacks(await deps.store.getHistory(job.id));
  } catch {
    // The store failing now: hand back as if for the first time (the change itself is retried or lost with the lease).
  }
  const guard = { ...options, expectServer: deps.serverName };
  if (previous < max) {
    const reason = `${what}; job ${SHUTDOWN_HAND_BACK} (${previous + 1} of ${max} times without spending the attempt)`;
    return deps.states.apply(job, { name: 'Enqueued', reason }, { ...guard, attempt: job.attempt - 1 });
  }
  const error = new JobCancelledError(
    'shutdown',
    `${what}: shutdowns interrupted attempt ${job.attempt} ${previous + 1} times; after ${max} hand-backs an interrupted attempt counts`,
  );
  const details = toErrorDetails(error);
  return deps.states.apply(job, { name: 'Failed', error: details, reason: details.message }, { ...guard, error });
}
