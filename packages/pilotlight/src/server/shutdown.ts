import { JobCancelledError } from '../errors.ts';
import type { Logger } from '../util/logger.ts';
import { settlesWithin } from '../util/settles-within.ts';
import type { RunningAttempt } from './attempt.ts';
import { handBackAtShutdown, type HandBackDeps } from './hand-back.ts';
import type { Zombies } from './zombies.ts';

/** What a worker's shutdown needs from it. */
export interface ShutdownDeps {
  readonly workerName: string;
  readonly logger: Logger;
  readonly shutdownTimeout: number;
  /** Every job the worker holds: running, or (prefetched) waiting for a slot. Jobs handed back here leave it. */
  readonly running: Map<string, RunningAttempt>;
  readonly zombies: Zombies;
  /** Store calls under way outside jobs (claim, heartbeat, maintenance). */
  readonly chores: ReadonlySet<Promise<unknown>>;
  /** Aborted to give up on outcomes the store keeps refusing. */
  readonly outcomeRetries: AbortController;
  readonly handBack: HandBackDeps;
}

/** The reason of an attempt cancelled because its worker is stopping. */
export function stopping(workerName: string): JobCancelledError {
  return new JobCancelledError('shutdown', `Worker ${workerName} is stopping`);
}

/**
 * The jobs' part of a worker's shutdown, once it claims no more: prefetched jobs go back at once,
 * running ones get `shutdownTimeout`, then are aborted; those whose handler ignores its signal are
 * handed back without waiting. Resolves when no job of the worker is left running or being handed
 * back (zombies aside, which are logged).
 */
export async function drain(deps: ShutdownDeps): Promise<void> {
  const { workerName, running, zombies, shutdownTimeout } = deps;
  // Prefetched jobs that have not started go back at once; running ones get shutdownTimeout.
  for (const attempt of running.values()) {
    if (!attempt.started) attempt.cancel(stopping(workerName));
  }
  await Promise.all(deps.chores);
  // Waits until nothing runs or is being handed back, including jobs a commit in flight when
  // stop() began still claimed (they are handed back without starting, see the worker's #run()),
  // and zombies.
  const finished = async (): Promise<void> => {
    while (running.size > 0 || zombies.size > 0) {
      await Promise.all([...[...running.values()].map((attempt) => attempt.done), zombies.settled()]);
    }
  };
  if (!(await settlesWithin(finished(), shutdownTimeout))) {
    for (const attempt of running.values()) attempt.cancel(stopping(workerName));
    // A handler that ignores its signal is left behind: its job is handed back without waiting.
    if (!(await settlesWithin(finished(), Math.min(1_000, shutdownTimeout)))) {
      // Outcomes the store still refuses are given up: the heartbeat stops, so their leases expire.
      deps.outcomeRetries.abort();
      await handBackStuckJobs(deps);
      await settlesWithin(finished(), 1_000);
    }
  }
  if (zombies.size > 0) {
    deps.logger.warn(
      `Worker ${workerName} stopped with handlers still running that ignore their abort signal (their jobs' outcomes are recorded): ${zombies.describeAll()}`,
    );
  }
}

/**
 * A prefetched job cancelled before it started: on shutdown it goes back to its queue with its
 * attempt given back (it never ran); deleted or lost, it is already elsewhere.
 */
export async function returnUnstarted(attempt: RunningAttempt, { states, serverName }: HandBackDeps): Promise<void> {
  if ((attempt.controller.signal.reason as JobCancelledError).reason !== 'shutdown') return;
  attempt.finishing = true;
  const { job } = attempt;
  const reason = `Worker ${serverName} stopped before starting it; job handed back`;
  await states.change(job, { name: 'Enqueued', reason }, { expectServer: serverName, attempt: job.attempt - 1 });
}

/** Calls `stop` on SIGTERM or SIGINT; returns the function that removes the handlers. */
export function stopOnSignals(workerName: string, logger: Logger, stop: () => void): () => void {
  const onSignal = (signal: NodeJS.Signals): void => {
    logger.info(`Worker ${workerName} received ${signal}; stopping`);
    stop();
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  return () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  };
}

async function handBackStuckJobs({ workerName, logger, running, handBack }: ShutdownDeps): Promise<void> {
  await Promise.all(
    [...running.values()].map(async (attempt) => {
      if (attempt.finishing) return;
      attempt.finishing = true;
      const { job } = attempt;
      const what = `Worker ${workerName} stopped; its handler ignored the abort signal`;
      try {
        await handBackAtShutdown(job, what, handBack);
      } catch (error) {
        logger.error(`Worker ${workerName} could not hand back job ${job.id}; its lease will expire`, { error });
      }
      running.delete(job.id);
    }),
  );
}
