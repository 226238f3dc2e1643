/**
 * Pilotlight quick start: a store, a client that enqueues a few kinds of jobs and a worker that runs
 * them. Every state change is printed as it happens, then each job's history.
 *
 *   npm start                 on an embedded SQLite file (examples/quickstart/.data)
 *   npm start -- --postgres   on PostgreSQL (DATABASE_URL), in a schema of its own, dropped at the end:
 *                             the same program, one line apart
 *
 * Ctrl-C stops it early the way a real service stops: the worker stops, the store closes (and the
 * PostgreSQL schema is dropped), as at the end of a run or after an error.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createClient, createWorker, defineJob, jobDisplayName, type JobContext, type JobFilter, type Store } from 'pilotlight';
import { createSqliteStore } from 'pilotlight/sqlite';
import { createPostgresStore } from '@pilotlight/postgres';

// Jobs: a function job, and a class-based job as in Hangfire.
const sendEmail = defineJob('email.send', async (args: { to: string; subject: string }) => {
  await sleep(20);
  return `sent "${args.subject}" to ${args.to}`;
});

class TenantService {
  async provisionTenant(tenantId: string, context: JobContext) {
    await context.reportProgress(50, 'database created');
    // A transient failure on the first attempt shows the automatic retry.
    if (context.attempt === 1) throw new Error(`storage for ${tenantId} is not ready yet`);
    await sleep(30);
  }
}

// A filter that prints every state change: the same hook the tracing filter builds on.
const printStates: JobFilter = {
  onStateApplied({ job, oldState, newState }) {
    const from = oldState ? `${oldState} → ` : '';
    const reason = newState.reason ? `  (${newState.reason})` : '';
    console.log(`  job ${job.id.padEnd(2)} ${jobDisplayName(job).padEnd(30)} ${from}${newState.name}${reason}`);
  },
};

const { values } = parseArgs({ options: { postgres: { type: 'boolean', default: false } } });
// Ctrl-C (SIGINT) or a kill (SIGTERM) ends the run early, through the same clean-up as its end.
const interrupted = new Promise<NodeJS.Signals>((resolve) => {
  process.once('SIGINT', resolve);
  process.once('SIGTERM', resolve);
});
const { store, name, dispose } = values.postgres ? await postgresStore() : sqliteStore();
console.log(`Store: ${name}\n`);
const client = createClient({ store, filters: [printStates] });
const worker = createWorker({
  store,
  jobs: [sendEmail, TenantService],
  filters: [printStates],
  concurrency: 4,
  retry: { backoff: 500 }, // retry after 0.5 s here; Hangfire's back-off (15 s and more) by default
});

try {
  const signal = await Promise.race([run(), interrupted]);
  if (signal) {
    console.log(`\n${signal}: stopping early`);
    process.exitCode = 128 + constants.signals[signal];
  }
} finally {
  try {
    await worker.stop();
    await store.close();
  } finally {
    await dispose();
  }
}

async function run(): Promise<void> {
  console.log('Enqueueing jobs:');
  const tenant = await client.enqueue(TenantService, 'provisionTenant', ['acme']);
  const welcome = await client.continueWith(tenant, sendEmail, { to: 'admin@acme.test', subject: 'Welcome to Pilotlight' });
  const reminder = await client.schedule(sendEmail, { to: 'ops@acme.test', subject: 'Daily digest' }, { delay: 300 });
  const email = await client.enqueue(sendEmail, { to: 'ada@example.com', subject: 'Hello' });

  console.log(`\nWorker ${worker.name} starts:`);
  await worker.start();
  const ids = [tenant, welcome, reminder, email];
  while ((await Promise.all(ids.map((id) => client.getJob(id)))).some((job) => job?.state !== 'Succeeded')) await sleep(50);
  await worker.stop();

  console.log('\nHistories:');
  for (const id of ids) {
    const job = (await client.getJob(id))!;
    const history = await client.getHistory(id);
    console.log(`  job ${id} ${jobDisplayName(job)}: ${history.map((state) => state.name).join(' → ')}`);
  }
  console.log(`\nCounts: ${JSON.stringify(await client.countJobs())}`);
}

interface QuickstartStore {
  readonly store: Store;
  readonly name: string;
  readonly dispose: () => Promise<void>;
}

function sqliteStore(): QuickstartStore {
  const dir = join(import.meta.dirname, '.data');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return { store: createSqliteStore({ path: join(dir, 'quickstart.db') }), name: 'SQLite', dispose: async () => {} };
}

/** A schema of this run's own: the time it began and a random part, so that no two runs share one. */
async function postgresStore(): Promise<QuickstartStore> {
  const connectionString = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const schema = `pilotlight_quickstart_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const dispose = async () => {
    const admin = new pg.Client({ connectionString });
    await admin.connect();
    try {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    } finally {
      await admin.end();
    }
  };
  try {
    const store = await createPostgresStore({ connectionString, schema });
    return { store, name: `PostgreSQL, schema ${schema} (dropped at the end)`, dispose };
  } catch (error) {
    await dispose().catch(() => {}); // the schema, if the store got as far as creating it
    throw error;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
