import { occurrence } from '../engine/occurrence.ts';
import type { JobCreator } from '../engine/job-creator.ts';
import { resolveRetry, type ResolvedRetry } from '../config/resolve.ts';
import { CronSchedule, decideMisfire } from '../recurring/schedule.ts';
import { releaseBatchContinuation } from '../states/batch-filter.ts';
import { releaseContinuation } from '../states/continuations-filter.ts';
import type { FlowControl } from '../jobs/flow-control.ts';
import type { StateMachine } from '../states/state-machine.ts';
import type { Store } from '../storage/store.ts';
import { UNREADABLE_ROW } from '../storage/unreadable-rows.ts';
import type { JobRecord, RecurringJobRecord } from '../types.ts';
import type { Logger } from '../util/logger.ts';
import type { RepeatedFailures } from '../util/repeated-failures.ts';
import type { WorkerMetrics } from './worker-metrics.ts';

export interface MaintenanceDeps {
  readonly store: Store;
  readonly states: StateMachine;
  readonly creator: JobCreator;
  readonly retry: ResolvedRetry;
  readonly logger: Logger;
  /** Where failing steps are logged: a step failing on every pass (a database outage) once in a while. */
  readonly failures: RepeatedFailures;
  readonly serverTimeout: number;
  readonly metrics: WorkerMetrics;
  /** The flow control of a recurring job's occurrences: its definition's defaults, where this worker has the definition. */
  readonly flowControlOf: (recurring: RecurringJobRecord) => FlowControl;
}

/** Rows handled per step and pass; a backlog is worked off over the next passes. */
const PAGE = 500;
/**
 * Pages of expired jobs deleted per pass at most. Each page is its own short statement (short
 * locks, small transactions); several per pass let deletion keep up with a busy system (up to
 * 10,000 jobs a second per worker at the default maintenanceInterval).
 */
const MAX_DELETE_PAGES = 20;

/**
 * The periodic chores every worker shares: promote due jobs, requeue jobs whose worker died, fire
 * recurring jobs, release continuations a crash left waiting, delete expired jobs, forget dead
 * workers. Every change goes through a guard, so workers running this at once never repeat one.
 */
export async function runMaintenance(deps: MaintenanceDeps, now = new Date()): Promise<void> {
  const steps: [string, () => Promise<unknown>][] = [
    ['promoting due jobs', () => promoteDueJobs(deps, now)],
    ['requeueing expired leases', () => requeueExpiredLeases(deps, now)],
    ['firing recurring jobs', () => fireRecurringJobs(deps, now)],
    ['releasing continuations', () => releaseContinuations(deps)],
    ['releasing batch continuations', () => releaseBatchContinuations(deps)],
    ['deleting expired jobs', () => deleteExpiredJobs(deps, now)],
    ['removing stale servers', () => deps.store.removeStaleServers(new Date(now.getTime() - deps.serverTimeout))],
  ];
  for (const [what, step] of steps) {
    try {
      await step();
      deps.failures.succeeded(`maintenance: ${what}`, `Maintenance is ${what} again`);
    } catch (error) {
      deps.failures.failed(`maintenance: ${what}`, `Maintenance failed ${what}; retrying on the next pass`, error);
    }
  }
}

async function promoteDueJobs({ store, states }: MaintenanceDeps, now: Date): Promise<void> {
  const due = await store.listDueJobs(now, PAGE);
  await Promise.all(due.map((job) => states.change(job, { name: 'Enqueued', reason: dueReason(job) })));
}

function dueReason(job: JobRecord): string {
  // A due time the store could not read (see readJobRow()) is taken as now.
  if (job.stateReason?.startsWith(UNREADABLE_ROW)) return `${job.stateReason}; enqueued now`;
  return job.retryCount > 0 && job.attempt > 0 ? `Retry ${job.retryCount} is due` : 'Scheduled time reached';
}

async function requeueExpiredLeases({ store, states, retry }: MaintenanceDeps, now: Date): Promise<void> {
  const expired = await store.listExpiredLeases(now, PAGE);
  await Promise.all(
    expired.map((job) => {
      const attempts = resolveRetry(job.retry, retry).attempts;
      // Without a lease (a row written around the schema's checks), no worker renews it either.
      const lost =
        job.leaseUntil === undefined
          ? `Job was Processing without a lease (worker ${job.serverName ?? 'unknown'}) during attempt ${job.attempt}`
          : `Worker ${job.serverName} stopped renewing its lease during attempt ${job.attempt}`;
      // A job that keeps killing its worker must not loop forever: lost attempts count.
      return job.attempt >= attempts
        ? states.change(job, {
            name: 'Failed',
            reason: `${lost}; no attempt left (${job.attempt} of ${attempts})`,
            error: { type: 'LeaseExpired', message: lost },
          })
        : states.change(job, { name: 'Enqueued', reason: `${lost}; requeued` });
    }),
  );
}

async function fireRecurringJobs(deps: MaintenanceDeps, now: Date): Promise<void> {
  for (const recurring of await deps.store.listDueRecurring(now, PAGE)) {
    try {
      await fireRecurring(deps, recurring, now);
    } catch (error) {
      deps.logger.error(`Recurring job '${recurring.id}' could not fire`, { error });
    }
  }
}

async function fireRecurring(
  { store, creator, logger, metrics, flowControlOf }: MaintenanceDeps,
  recurring: RecurringJobRecord,
  now: Date,
): Promise<void> {
  const schedule = new CronSchedule(recurring.cron, recurring.timeZone);
  const decision = decideMisfire(schedule, recurring.misfire, recurring.nextRunAt, now);
  const fire = (jobs: Parameters<Store['createJobs']>[0]) =>
    store.fireRecurring({ id: recurring.id, expectNextRunAt: recurring.nextRunAt, nextRunAt: decision.nextRunAt, firedAt: now, jobs });
  const flow = decision.fire.length === 0 ? {} : flowControlOf(recurring);
  const requests = decision.fire.map((at) => ({
    ...occurrence(recurring, { name: 'Enqueued', reason: `Occurrence ${at.toISOString()} of recurring job '${recurring.id}'` }, flow),
    createdBy: 'schedule' as const,
  }));
  const fired = requests.length === 0 ? await fire([]) : await creator.create(requests, fire);
  // Only the process that fired the occurrences records them: each is measured once across workers.
  if (fired) for (const at of decision.fire) metrics.occurrenceFired(recurring, at, now);
  if (fired && decision.dropped > 0) {
    logger.warn(`Recurring job '${recurring.id}' missed ${decision.dropped} occurrence(s) (misfire policy '${recurring.misfire}')`);
  }
}

async function releaseContinuations({ store, states }: MaintenanceDeps): Promise<void> {
  const context = states.context();
  for (const child of await store.listReleasableContinuations(PAGE)) {
    if (child.parentId === undefined) continue; // a batch continuation: released by its batch (below)
    const parent = child.parentId === undefined ? undefined : await store.getJob(child.parentId);
    await releaseContinuation(context, child, parent?.state);
  }
}

/** Batch continuations a process that died left waiting for a batch that is done. */
async function releaseBatchContinuations({ store, states }: MaintenanceDeps): Promise<void> {
  const context = states.context();
  for (const continuation of await store.listReleasableBatchContinuations(PAGE)) {
    if (continuation.awaitsBatch)
      await releaseBatchContinuation(context, continuation, await store.countBatch(continuation.awaitsBatch.batchId));
  }
}

/** Page after page, until one comes back short (nothing left) or MAX_DELETE_PAGES are done. */
async function deleteExpiredJobs(deps: MaintenanceDeps, now: Date): Promise<void> {
  for (let page = 0; page < MAX_DELETE_PAGES; page++) {
    if ((await deps.store.deleteExpiredJobs(now, PAGE)) < PAGE) return;
  }
}
