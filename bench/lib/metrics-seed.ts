import { existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NewJob, StateName, Store } from '../../packages/pilotlight/src/store-kit.ts';
import { FINISHED_STATES } from '../../packages/pilotlight/src/store-kit.ts';
import { createSqliteStore } from '../../packages/pilotlight/src/sqlite.ts';
import { createPostgresStore } from '../../packages/postgres/src/index.ts';
import { connectionString, onPostgres } from './bench-postgres.ts';
import { isSeeded, markSeeded, SEED_QUEUES, SEED_TYPES, seedJobs } from './dashboard-seed.ts';
import { formatInt } from './format.ts';

/**
 * The store of the metrics gauges bench (`bench/metrics-gauges.ts`): a long-running system's table,
 * with `finished` finished jobs and the unfinished jobs of a busy moment, seeded through the `Store`
 * interface so that the store's counters (which the gauges read) are kept as the engine keeps them.
 * The seeded database is kept for the next run (SQLite: a file in the temporary folder; PostgreSQL:
 * schema `pilotlight_bench_metrics_<finished>`).
 *
 * The bulk comes from `seedJobs()` (lib/dashboard-seed.ts: 5 queues, 20 types, 97 of every 100 jobs
 * finished: Succeeded, Failed or Deleted; 1 Scheduled, 2 Enqueued), sized so that at least `finished`
 * are finished. On top, the unfinished jobs the gauges look at: Enqueued jobs over more queues and
 * several priorities (the queue lag's skip scan visits one index entry per priority), Scheduled jobs,
 * and jobs Processing under workers that keep heartbeating.
 */

/** Share of `seedJobs()`'s jobs that it leaves finished (its doc comment: 97 of every 100). */
const SEED_FINISHED_SHARE = 0.97;
/** Queues of the extra Enqueued jobs: the seed's own and two more. */
const EXTRA_QUEUES = [...SEED_QUEUES, 'critical', 'bulk'] as const;
const EXTRA_PRIORITIES = [-10, 0, 10, 20] as const;
const EXTRA_ENQUEUED = 4_000;
const EXTRA_SCHEDULED = 1_000;
/** Workers holding Processing jobs, and the jobs each holds. */
export const BUSY_SERVERS = ['bench-metrics-worker-1', 'bench-metrics-worker-2', 'bench-metrics-worker-3'] as const;
const PROCESSING_PER_SERVER = 40;
const SEEDED_MARK = 'bench-metrics-seeded';
const YEAR_MS = 365 * 86_400_000;
const BATCH = 1_000;

export type StoreKind = 'sqlite' | 'postgres';

export interface SeededStore {
  readonly name: string;
  readonly store: Store;
  /** Jobs per state, from the store's counters. */
  readonly counts: Record<StateName, number>;
  /** Seconds spent seeding in this run (0 when the store seeded by an earlier run was reused). */
  readonly seededSeconds: number;
}

/**
 * Opens the bench's store of `kind` with at least `finished` finished jobs, seeding it first unless
 * an earlier run did (`fresh`: seed again anyway). A seeding that did not finish is started over on
 * an empty database. Then settles it as a live system's would be (see `settle()`).
 */
export async function openSeededStore(
  kind: StoreKind,
  finished: number,
  fresh: boolean,
  log: (line: string) => void,
): Promise<SeededStore> {
  const name = kind === 'sqlite' ? 'SQLite' : 'PostgreSQL';
  const database = kind === 'sqlite' ? sqliteDatabase(finished) : postgresDatabase(finished);
  let store = await database.open();
  let seededSeconds = 0;
  if (fresh || !(await isSeeded(store, SEEDED_MARK))) {
    await store.close();
    await database.drop();
    store = await database.open();
    const started = performance.now();
    await seed(store, finished, (line) => log(`${name}: ${line} in ${((performance.now() - started) / 1000).toFixed(0)} s`));
    seededSeconds = (performance.now() - started) / 1000;
  }
  await database.settle();
  await heartbeatBusyServers(store);
  // A worker's maintenance pass (every second on a live worker): folds the counters' pending rows.
  await store.deleteExpiredJobs(new Date(), 1_000);
  const counts = await store.countJobs();
  const finishedNow = [...FINISHED_STATES].reduce((sum, state) => sum + counts[state], 0);
  if (finishedNow < finished)
    throw new Error(`${name}: ${formatInt(finishedNow)} finished jobs seeded, expected at least ${formatInt(finished)}`);
  return { name, store, counts, seededSeconds };
}

interface BenchDatabase {
  open(): Promise<Store>;
  /** Deletes the database (the store must be closed). */
  drop(): Promise<void>;
  /** Brings the database to the state a live system's would be in (after autovacuum, say). */
  settle(): Promise<void>;
}

function sqliteDatabase(finished: number): BenchDatabase {
  const path = join(tmpdir(), `pilotlight-bench-metrics-${finished}.db`);
  return {
    open: async () => createSqliteStore({ path }),
    async drop() {
      for (const suffix of ['', '-wal', '-shm']) if (existsSync(path + suffix)) rmSync(path + suffix);
    },
    async settle() {},
  };
}

function postgresDatabase(finished: number): BenchDatabase {
  const schema = `pilotlight_bench_metrics_${finished}`;
  return {
    open: async () => createPostgresStore({ connectionString, schema }),
    drop: () => onPostgres(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`),
    // Seeding moves every job through Enqueued and Processing: the partial indexes of those states
    // (jobs_fetch, which the queue lag reads, and jobs_leases) keep an entry per seeded job until a
    // vacuum clears them, as autovacuum soon does on a live server (test servers often turn it off).
    settle: () => onPostgres(`VACUUM (ANALYZE) "${schema}".jobs`),
  };
}

async function seed(store: Store, finished: number, log: (line: string) => void): Promise<void> {
  const bulk = Math.ceil(finished / SEED_FINISHED_SHARE);
  let last = 0;
  await seedJobs(store, bulk, (done) => {
    if (done - last >= bulk / 10 || done === bulk) {
      last = done;
      log(`seeded ${formatInt(done)} of ${formatInt(bulk)} jobs`);
    }
  });
  const now = Date.now();
  const extra: NewJob[] = [];
  for (let n = 0; n < EXTRA_ENQUEUED; n++) {
    // Due over the last 10 minutes: the queues have a lag to report.
    extra.push(newJob(n, EXTRA_QUEUES[n % EXTRA_QUEUES.length]!, EXTRA_PRIORITIES[n % EXTRA_PRIORITIES.length]!, now - 600_000 + n * 100));
  }
  for (let n = 0; n < EXTRA_SCHEDULED; n++) {
    // A year ahead: a worker started on the store never promotes them while the bench runs.
    extra.push(newJob(n, EXTRA_QUEUES[n % EXTRA_QUEUES.length]!, 0, now + YEAR_MS, 'Scheduled'));
  }
  for (let first = 0; first < extra.length; first += BATCH) await store.createJobs(extra.slice(first, first + BATCH));
  for (const serverName of BUSY_SERVERS) {
    await store.claimJobs({
      queues: [...EXTRA_QUEUES],
      limit: PROCESSING_PER_SERVER,
      serverName,
      now: new Date(),
      leaseUntil: new Date(now + YEAR_MS),
    });
  }
  await markSeeded(store, SEEDED_MARK);
  log(`seeded ${formatInt(extra.length)} more unfinished jobs, ${BUSY_SERVERS.length * PROCESSING_PER_SERVER} of them claimed`);
}

function newJob(n: number, queue: string, priority: number, runAtMs: number, state: 'Enqueued' | 'Scheduled' = 'Enqueued'): NewJob {
  const at = new Date(Math.min(runAtMs, Date.now()));
  const runAt = new Date(runAtMs);
  return {
    type: SEED_TYPES[n % SEED_TYPES.length]!,
    method: 'perform',
    argsJson: JSON.stringify([{ tenant: `tenant-${n}` }]),
    queue,
    priority,
    retry: {},
    metadata: {},
    state: state === 'Scheduled' ? { name: 'Scheduled', at, reason: 'Scheduled by the application', runAt } : { name: 'Enqueued', at },
    runAt,
  };
}

/** The workers holding the seeded Processing jobs heartbeat now: the workers gauge counts them, their leases stay theirs. */
export async function heartbeatBusyServers(store: Store): Promise<void> {
  const now = Date.now();
  for (const name of BUSY_SERVERS) {
    await store.heartbeat(
      {
        name,
        queues: [...EXTRA_QUEUES],
        concurrency: PROCESSING_PER_SERVER,
        startedAt: new Date(now - 3_600_000),
        heartbeatAt: new Date(now),
      },
      new Date(now + YEAR_MS),
    );
  }
}
