import { storedTimeout, validateTimeout } from '../config/timeout.ts';
import { JobTimeoutError } from '../errors.ts';
import { isJobDefinition, jobClassType, jobDisplayName, type JobClass, type JobDefinition } from '../jobs/define-job.ts';
import type { JobRecord } from '../types.ts';

/** An attempt's timeout and where it was set, for the error that says so. */
export interface AttemptTimeout {
  readonly ms: number;
  readonly source: string;
}

type Level = { readonly ms: number | null; readonly source: string };

/**
 * Which timeout applies to a job's attempt: the job's own (given when it was enqueued, stored in
 * its `retry` options), else its definition's (`defineJob()` `options.timeout`, a job class's
 * `static jobTimeout`), else the worker's `timeout`; none when the first of these that is set is
 * `null`, or none is. Resolved here, when the job runs, so that a redeployed definition applies to
 * jobs already waiting.
 */
export class AttemptTimeouts {
  readonly #definitions = new Map<string, Level>();
  readonly #worker: Level | undefined;

  constructor(jobs: readonly (JobDefinition<any, any> | JobClass<any>)[], workerTimeout: number | null) {
    this.#worker = workerTimeout === null ? undefined : { ms: workerTimeout, source: 'createWorker() options.timeout' };
    for (const job of Array.isArray(jobs) ? jobs : []) {
      if (isJobDefinition(job)) {
        const ms = job.options?.timeout;
        if (ms !== undefined) this.#definitions.set(job.type, { ms, source: `defineJob('${job.type}') options.timeout` });
      } else if (typeof job === 'function') {
        const type = jobClassType(job);
        const ms = validateTimeout(job.jobTimeout, `createWorker() options.jobs: ${type}.jobTimeout`);
        if (ms !== undefined) this.#definitions.set(type, { ms, source: `${type}.jobTimeout` });
      }
    }
  }

  /** The timeout of `job`'s attempts, or undefined for none. */
  of(job: JobRecord): AttemptTimeout | undefined {
    const own = storedTimeout(job.retry.timeout);
    const level: Level | undefined =
      own !== undefined
        ? { ms: own, source: 'the options.timeout it was enqueued with' }
        : (this.#definitions.get(job.type) ?? this.#worker);
    if (level === undefined || level.ms === null) return undefined;
    return { ms: level.ms, source: level.source };
  }

  /** The reason the signal of `job`'s attempt aborts with when `timeout` passes. */
  static error(job: JobRecord, timeout: AttemptTimeout): JobTimeoutError {
    return new JobTimeoutError(
      job.id,
      timeout.ms,
      `Job ${job.id} (${jobDisplayName(job)}) timed out: attempt ${job.attempt} ran longer than its timeout of ${timeout.ms} ms (${timeout.source})`,
    );
  }
}
