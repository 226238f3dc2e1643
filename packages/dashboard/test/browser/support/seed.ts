import { join } from 'node:path';
import { createClient, createWorker, defineJob, silentLogger, type Client, type StateName, type Worker } from 'pilotlight';
import { createSqliteStore, type SqliteStore } from 'pilotlight/sqlite';
import { waitFor } from '../../../../pilotlight/test/support/wait.ts';

/** The queue the worker takes jobs from; the others only fill up. */
const WORKED_QUEUE = 'default';
const HOUR = 3_600_000;

/** Every job the seed makes, per queue and state, once the worker has run what it can. */
export const SEEDED: Readonly<Record<string, Partial<Record<StateName, number>>>> = {
  default: { Processing: 1, Succeeded: 55, Failed: 1 },
  mail: { Enqueued: 3, Scheduled: 1, Awaiting: 1 },
  reports: { Enqueued: 2 },
  archive: { Deleted: 4 },
};

/** The seed's totals per state. */
export const SEEDED_COUNTS: Readonly<Record<StateName, number>> = totals();

export const FAILED_FEED = 'https://feeds.example.com/acme.xml';
export const RECURRING_ID = 'nightly-digest';

export interface Seed {
  readonly jobs: ReturnType<typeof defineJobs>;
  readonly store: SqliteStore;
  readonly client: Client;
  readonly worker: Worker;
  readonly ids: {
    /** `report.render` jobs that succeeded, oldest first. */
    readonly succeeded: readonly string[];
    /** The `feed.import` job that failed both its attempts with a TypeError. */
    readonly failed: string;
    /** The `video.transcode` job running until the seed is closed. */
    readonly processing: string;
    /** `email.send` jobs waiting in the `mail` queue; the first is the continuation's parent. */
    readonly mail: readonly string[];
    /** `invoice.pdf` jobs waiting in the `reports` queue. */
    readonly reports: readonly string[];
    readonly scheduled: string;
    readonly awaiting: string;
    /** `invoice.pdf` jobs of the `archive` queue, deleted. */
    readonly deleted: readonly string[];
  };
  /** From now on `feed.import` succeeds. */
  heal(): void;
  /** Lets the running job finish, stops the worker, closes the store. */
  close(): Promise<void>;
}

/**
 * A real SQLite file in `dir` filled through the public API only, with a real worker running: jobs
 * in every state (see `SEEDED`) and a recurring job (`RECURRING_ID`).
 */
export async function seedStore(dir: string): Promise<Seed> {
  const store = createSqliteStore({ path: join(dir, 'jobs.db') });
  const client = createClient({ store, logger: silentLogger });
  let healed = false;
  let release = () => {};
  const running = new Promise<void>((resolve) => (release = resolve));
  const jobs = defineJobs(() => healed, running);
  const worker = createWorker({
    store,
    jobs: Object.values(jobs),
    queues: [WORKED_QUEUE],
    concurrency: 4,
    serverName: 'worker-1', // one worker per store (each test file has its own): a stable name for the screenshots
    pollInterval: 50,
    maintenanceInterval: 50,
    logger: silentLogger,
  });
  await worker.start();

  const succeeded = await client.enqueueMany(
    jobs.report,
    Array.from({ length: 55 }, (_, report) => ({ report })),
  );
  const failed = await client.enqueue(jobs.feed, { url: FAILED_FEED }, { metadata: { tenant: 'acme' } });
  const processing = await client.enqueue(jobs.transcode, { video: 'launch.mp4' });
  const mail = [];
  for (const to of ['alice@example.com', 'bob@example.com', 'carol@example.com']) mail.push(await client.enqueue(jobs.email, { to }));
  const reports = [
    await client.enqueue(jobs.invoice, { invoice: 'INV-1001' }),
    await client.enqueue(jobs.invoice, { invoice: 'INV-1002' }),
  ];
  const scheduled = await client.schedule(jobs.email, { to: 'dave@example.com' }, { delay: HOUR });
  const awaiting = await client.continueWith(mail[0]!, jobs.email, { to: 'audit@example.com' });
  const deleted = [];
  for (let n = 1; n <= 4; n++) {
    const id = await client.enqueue(jobs.invoice, { invoice: `OLD-${n}` }, { queue: 'archive' });
    await client.delete(id);
    deleted.push(id);
  }
  // Once a year, so that it never fires by itself during a run.
  await client.recurring.addOrUpdate(RECURRING_ID, '0 3 1 1 *', jobs.digest, { list: 'team' }, { timeZone: 'Europe/Paris' });

  await waitFor(async () => sameCounts(await store.countJobs(), SEEDED_COUNTS), 'the worker to run the seeded jobs');
  return {
    jobs,
    store,
    client,
    worker,
    ids: { succeeded, failed, processing, mail, reports, scheduled, awaiting, deleted },
    heal: () => (healed = true),
    close: async () => {
      release();
      await worker.stop();
      await store.close();
    },
  };
}

/** The seed's jobs: `feed.import` fails until `healed()`, `video.transcode` runs until `running` settles. */
function defineJobs(healed: () => boolean, running: Promise<void>) {
  return {
    report: defineJob('report.render', (_args: { report: number }) => {}),
    feed: defineJob(
      'feed.import',
      ({ url }: { url: string }) => {
        if (!healed()) fetchFeed(url);
      },
      { retry: { attempts: 2, backoff: 0 } },
    ),
    transcode: defineJob('video.transcode', (_args: { video: string }) => running),
    digest: defineJob('digest.send', (_args: { list: string }) => {}),
    email: defineJob('email.send', (_args: { to: string }) => {}, { queue: 'mail' }),
    invoice: defineJob('invoice.pdf', (_args: { invoice: string }) => {}, { queue: 'reports' }),
  };
}

/**
 * Where the failed job's stack says it failed: an application's files and Pilotlight's, as installed.
 * Set by hand so that the screenshots read like a real application's page and never show the paths
 * of the machine that ran the tests.
 */
export const FAILED_STACK_FRAMES = [
  'at fetchFeed (/srv/app/src/feeds/fetch-feed.ts:27:11)',
  'at async importFeed (/srv/app/src/feeds/import-feed.ts:14:18)',
  'at async Object.handler (/srv/app/src/jobs/feed-import.ts:9:5)',
  'at async perform (/srv/app/node_modules/pilotlight/dist/server/attempt.js:162:33)',
  'at async TracingFilter.aroundPerform (/srv/app/node_modules/pilotlight/dist/telemetry/tracing-filter.js:149:70)',
  'at async runAttempt (/srv/app/node_modules/pilotlight/dist/server/attempt.js:164:92)',
];

/** The feed's failure, with the stack of `FAILED_STACK_FRAMES` in place of the test's own. */
function fetchFeed(url: string): never {
  const error = new TypeError(`feed ${url} answered 503 Service Unavailable`);
  error.stack = [`${error.name}: ${error.message}`, ...FAILED_STACK_FRAMES.map((frame) => `    ${frame}`)].join('\n');
  throw error;
}

function totals(): Record<StateName, number> {
  const counts: Record<StateName, number> = { Enqueued: 0, Scheduled: 0, Awaiting: 0, Processing: 0, Succeeded: 0, Failed: 0, Deleted: 0 };
  for (const perState of Object.values(SEEDED)) {
    for (const [state, count] of Object.entries(perState) as [StateName, number][]) counts[state] += count;
  }
  return counts;
}

function sameCounts(a: Record<StateName, number>, b: Record<StateName, number>): boolean {
  return (Object.keys(b) as StateName[]).every((state) => a[state] === b[state]);
}
