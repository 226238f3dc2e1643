import { DEFAULTS } from '../config/defaults.ts';
import { JobNotFoundError, ValidationError } from '../errors.ts';
import type { JobClass, JobDefinition, JobMethodArgs, JobMethodName, JobOptions } from '../jobs/define-job.ts';
import { CronSchedule, MISFIRE_POLICIES, validateCronExpression, validateTimeZone } from '../recurring/schedule.ts';
import type { Store } from '../storage/store.ts';
import type { MisfirePolicy, RecurringJobRecord } from '../types.ts';
import { readInvocation } from './invocation.ts';
import type { JobCreator } from '../engine/job-creator.ts';
import { occurrence } from '../engine/occurrence.ts';
import { describe, validateNonEmptyString } from '../validation/validate.ts';

export interface RecurringOptions extends Omit<JobOptions, 'parenting'> {
  /** IANA time zone the cron expression is read in. @default 'UTC' */
  readonly timeZone?: string;
  /**
   * What to do with occurrences missed while no worker ran: `'run-once'` (one job for all of them),
   * `'run-all'` (one job each, at most 100), `'skip'` (none; wait for the next occurrence).
   * @default 'run-once'
   */
  readonly misfire?: MisfirePolicy;
}

/** Recurring jobs: a cron schedule that creates a job at each occurrence, once across all workers. */
export class RecurringJobs {
  readonly #store: Store;
  readonly #creator: JobCreator;

  constructor(store: Store, creator: JobCreator) {
    this.#store = store;
    this.#creator = creator;
  }

  /**
   * Create or replace the recurring job `id`. Replacing keeps the pending occurrence when the
   * schedule is unchanged, so redeploying the same definition neither skips nor repeats one.
   */
  addOrUpdate<A>(id: string, cron: string, job: JobDefinition<A, any>, args: A, options?: RecurringOptions): Promise<void>;
  addOrUpdate<T, M extends JobMethodName<T>>(
    id: string,
    cron: string,
    job: JobClass<T>,
    method: M,
    args: JobMethodArgs<T, M>,
    options?: RecurringOptions,
  ): Promise<void>;
  async addOrUpdate(id: string, cron: string, job: unknown, ...rest: unknown[]): Promise<void> {
    validateNonEmptyString(id, 'recurring.addOrUpdate() id');
    const { invocation, options } = readInvocation<RecurringOptions>('recurring.addOrUpdate', job, rest);
    // Occurrences take their definition's flow control from the worker that fires them (see occurrence()).
    const { parenting: _occurrencesStartTheirOwnTrace, flow: _resolvedAtEachOccurrence, ...call } = invocation;
    const timeZone = validateTimeZone(options.timeZone ?? DEFAULTS.recurring.timeZone);
    const misfire = options.misfire ?? DEFAULTS.recurring.misfire;
    if (!MISFIRE_POLICIES.includes(misfire)) {
      throw new ValidationError(
        `recurring.addOrUpdate() options.misfire must be one of ${MISFIRE_POLICIES.join(', ')}; received ${describe(misfire)}`,
      );
    }
    if (typeof cron === 'string' && cron.trim() !== '') validateCronExpression(cron, 'recurring.addOrUpdate() cron');
    const schedule = new CronSchedule(cron, timeZone, 'recurring.addOrUpdate() cron');
    const existing = await this.#store.getRecurring(id);
    const unchanged = existing && existing.cron === cron && existing.timeZone === timeZone;
    await this.#store.upsertRecurring({
      id,
      cron,
      timeZone,
      misfire,
      ...call,
      nextRunAt: unchanged ? existing.nextRunAt : schedule.next(new Date()),
    });
  }

  /** Create a job from the recurring job now, outside its schedule. Resolves to the job's id. */
  async trigger(id: string): Promise<string> {
    const recurring = await this.#store.getRecurring(id);
    if (!recurring) throw new JobNotFoundError(id, `Recurring job '${id}' does not exist`);
    const results = await this.#creator.create(
      [occurrence(recurring, { name: 'Enqueued', reason: `Triggered by hand from recurring job '${id}'` })],
      (jobs) => this.#store.createJobs(jobs),
    );
    return results![0]!.id;
  }

  /** Remove a recurring job (jobs it already created stay). Resolves to false if it did not exist. */
  remove(id: string): Promise<boolean> {
    return this.#store.removeRecurring(id);
  }

  get(id: string): Promise<RecurringJobRecord | undefined> {
    return this.#store.getRecurring(id);
  }

  list(): Promise<RecurringJobRecord[]> {
    return this.#store.listRecurring();
  }
}
