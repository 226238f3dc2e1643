import type { JobRecord, NewJob, Store, Transition } from '../../packages/pilotlight/src/store-kit.ts';

/**
 * Fills a store with `count` jobs the way a long-running system holds them, through the `Store`
 * interface only (so that whatever the store keeps beside the rows, its counters included, is kept
 * as the engine would keep it): 5 queues, 20 job types, arguments naming a tenant and an e-mail
 * address, finished over the last hour. Of every 100 jobs: 90 Succeeded, 4 Failed (with an
 * exception), 3 Deleted, 1 Scheduled, 2 Enqueued.
 */
export const SEED_QUEUES = ['default', 'emails', 'reports', 'billing', 'imports'] as const;
export const SEED_TYPES = Array.from({ length: 20 }, (_, i) => `Service${i}`);
const BATCH = 2_000;
const SERVER = 'seed-worker';

type Fate = 'Succeeded' | 'Failed' | 'Deleted' | 'Scheduled' | 'Enqueued';

function fateOf(n: number): Fate {
  const slot = n % 100;
  if (slot < 90) return 'Succeeded';
  if (slot < 94) return 'Failed';
  if (slot < 97) return 'Deleted';
  return slot < 98 ? 'Scheduled' : 'Enqueued';
}

function jobNumber(n: number, at: Date, fate: Fate): NewJob {
  const state =
    fate === 'Scheduled'
      ? { name: 'Scheduled' as const, reason: 'Retry 1 of 9', at, runAt: new Date(at.getTime() + 86_400_000) }
      : { name: 'Enqueued' as const, at };
  return {
    type: SEED_TYPES[n % SEED_TYPES.length]!,
    method: 'perform',
    argsJson: JSON.stringify([{ tenant: `tenant-${n}`, email: `user-${n}@example.com`, plan: n % 3 === 0 ? 'pro' : 'free' }]),
    queue: SEED_QUEUES[n % SEED_QUEUES.length]!,
    priority: 0,
    retry: {},
    metadata: { traceparent: `00-${n.toString(16).padStart(32, '0')}-${'1'.padStart(16, '0')}-01` },
    state,
    runAt: state.runAt ?? at,
  };
}

function finish(job: JobRecord, fate: Fate, at: Date): Transition {
  const to =
    fate === 'Succeeded'
      ? { name: 'Succeeded' as const, at }
      : fate === 'Failed'
        ? {
            name: 'Failed' as const,
            at,
            reason: 'Attempts exhausted',
            error: { type: 'TypeError', message: `Cannot read properties of undefined (reading 'tenant') in ${job.type}`, stack: STACK },
          }
        : { name: 'Deleted' as const, at, reason: 'Deleted by user' };
  return { id: job.id, expect: { state: 'Processing', attempt: job.attempt, serverName: SERVER }, to, expiresAt: null, job };
}

const STACK =
  "TypeError: Cannot read properties of undefined (reading 'tenant')\n    at perform (jobs/service.ts:42:17)\n    at run (worker.ts:88:5)";

/** Seeds `count` jobs; calls `progress` with how many are written. */
export async function seedJobs(store: Store, count: number, progress: (done: number) => void = () => {}): Promise<void> {
  const start = Date.now() - 3_600_000;
  const at = (n: number) => new Date(start + (n * 3_600_000) / count);
  const numbers = Array.from({ length: count }, (_, n) => n);
  // Finished jobs first, claimed and finished batch by batch; the jobs still waiting (created last, so
  // that no claim takes them) are the newest, as in a live system.
  const finished = numbers.filter((n) => ['Succeeded', 'Failed', 'Deleted'].includes(fateOf(n)));
  const waiting = numbers.filter((n) => !['Succeeded', 'Failed', 'Deleted'].includes(fateOf(n)));
  let done = 0;
  for (let first = 0; first < finished.length; first += BATCH) {
    const batch = finished.slice(first, first + BATCH);
    const created = await store.createJobs(batch.map((n) => jobNumber(n, at(n), 'Enqueued')));
    const numberOf = new Map(created.map((result, i) => [result.id, batch[i]!]));
    const now = at(batch[0]!);
    const claimed = await store.claimJobs({
      queues: [...SEED_QUEUES],
      limit: batch.length,
      serverName: SERVER,
      now,
      leaseUntil: new Date(now.getTime() + 3_600_000),
    });
    await store.transition(
      claimed.map((job) => {
        const n = numberOf.get(job.id)!;
        return finish(job, fateOf(n), at(n));
      }),
    );
    progress((done += batch.length));
  }
  for (let first = 0; first < waiting.length; first += BATCH) {
    const batch = waiting.slice(first, first + BATCH);
    await store.createJobs(batch.map((n) => jobNumber(n, at(n), fateOf(n))));
    progress((done += batch.length));
  }
}

/**
 * Marks `store` as seeded: a recurring job `mark` (due in a day, never run by a bench), which a later
 * run finds with `isSeeded()` and then reuses the store instead of seeding it again.
 */
export async function markSeeded(store: Store, mark: string): Promise<void> {
  await store.upsertRecurring({
    id: mark,
    cron: '0 3 * * *',
    timeZone: 'UTC',
    misfire: 'run-once',
    type: 'BenchSeeded',
    method: 'perform',
    argsJson: '[]',
    queue: 'default',
    priority: 0,
    retry: {},
    nextRunAt: new Date(Date.now() + 86_400_000),
  });
}

/** Whether `markSeeded(store, mark)` ran on this store. */
export async function isSeeded(store: Store, mark: string): Promise<boolean> {
  return (await store.getRecurring(mark)) !== undefined;
}
