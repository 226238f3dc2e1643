import { JobCancelledError, JobTimeoutError } from '../errors.ts';
import { jobDisplayName } from '../jobs/define-job.ts';
import type { Logger } from '../util/logger.ts';
import type { RunningAttempt } from './attempt.ts';

interface Zombie {
  readonly attempt: RunningAttempt;
  readonly settled: Promise<void>;
  warned: boolean;
}

/**
 * Handlers still running after their attempt ended: it timed out, or the job was deleted or taken
 * from this worker, and the handler ignores its signal. The job's outcome is already recorded (or,
 * deleted, not recorded), but the work really goes on, so each keeps its concurrency slot until it
 * settles. The worker logs each once at warn level (at a heartbeat, once it has outlived its attempt
 * by `grace` ms), counts them in `worker.stats`, and logs at info level when one finally settles.
 */
export class Zombies {
  readonly #zombies = new Set<Zombie>();
  readonly #workerName: string;
  readonly #logger: Logger;
  readonly #grace: number;

  constructor(workerName: string, logger: Logger, grace: number) {
    this.#workerName = workerName;
    this.#logger = logger;
    this.#grace = grace;
  }

  get size(): number {
    return this.#zombies.size;
  }

  /** Tracks `attempt`, whose handler settles (and frees its slot) with `settled`; `onSettled` runs after. */
  add(attempt: RunningAttempt, settled: Promise<void>, onSettled: () => void): void {
    const zombie: Zombie = { attempt, settled, warned: false };
    this.#zombies.add(zombie);
    void settled.then(() => {
      this.#zombies.delete(zombie);
      if (zombie.warned) {
        this.#logger.info(
          `Worker ${this.#workerName}: the handler of job ${this.#describe(attempt)} settled ${this.#overrun(attempt)} ms after its attempt ended; its slot is free again`,
        );
      }
      onSettled();
    });
  }

  /** Warns, once each, of the zombies that outlived their attempt by `grace` ms or more. */
  check(now = Date.now()): void {
    for (const zombie of this.#zombies) {
      if (zombie.warned || now - (zombie.attempt.abortedAt ?? now) < this.#grace) continue;
      zombie.warned = true;
      const { attempt } = zombie;
      this.#logger.warn(
        `Worker ${this.#workerName}: job ${this.#describe(attempt)} ${why(attempt.controller.signal.reason)}, but its handler ignores its abort signal and still runs ${this.#overrun(attempt, now)} ms later. It keeps its concurrency slot until it settles; make it stop on ctx.signal`,
      );
    }
  }

  /** Settles once every zombie tracked now has settled. */
  settled(): Promise<void> {
    return Promise.all([...this.#zombies].map((zombie) => zombie.settled)).then(() => undefined);
  }

  /** The jobs of the zombies, for a log line. */
  describeAll(): string {
    return [...this.#zombies].map((zombie) => this.#describe(zombie.attempt)).join(', ');
  }

  #describe(attempt: RunningAttempt): string {
    return `${attempt.job.id} (${jobDisplayName(attempt.job)}, attempt ${attempt.job.attempt})`;
  }

  #overrun(attempt: RunningAttempt, now = Date.now()): number {
    return now - (attempt.abortedAt ?? now);
  }
}

function why(reason: unknown): string {
  if (reason instanceof JobTimeoutError) return `timed out after ${reason.timeout} ms (its attempt failed)`;
  if (reason instanceof JobCancelledError && reason.reason === 'deleted') return 'was deleted while running';
  return 'was taken from this worker while running';
}
