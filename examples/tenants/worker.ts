/**
 * The worker process ('tenants-worker', the service's background-jobs server): runs the jobs the API
 * enqueued in the shared SQLite store, and the recurring cleanup. Start it with the telemetry hook,
 * so that its outgoing `fetch` calls are instrumented:
 *
 *   OTEL_SERVICE_NAME=tenants-worker node --import @pilotlight/otel/register examples/tenants/worker.ts
 *
 * Each attempt's `process …` span continues the trace of the request that enqueued the job, even
 * though that request was served by another process: the trace context travels in the job's metadata.
 */
import { createClient, createWorker, type JobClass } from 'pilotlight';
import { createSqliteStore } from 'pilotlight/sqlite';
import { AppDb } from './src/app-db.ts';
import { announceReady, onShutdown, readConfig } from './src/config.ts';
import { CleanupService, TenantService, WelcomeService, type JobDependencies } from './src/jobs.ts';
import { flushTelemetry } from './src/telemetry.ts';

const config = readConfig();
const store = createSqliteStore({ path: config.jobsDbPath });
const deps: JobDependencies = { db: new AppDb(config.appDbPath), stubUrl: config.stubUrl };

const worker = createWorker({
  store,
  jobs: [TenantService, WelcomeService, CleanupService],
  queues: ['tenants', 'default'],
  concurrency: 4,
  // The application's dependencies go to each job instance (a DI container would go here).
  activate: (jobClass: JobClass) => new (jobClass as new (deps: JobDependencies) => unknown)(deps),
  // Retry after half a second for the demo; Hangfire's back-off (15 s and more) by default.
  retry: { backoff: 500 },
  pollInterval: 200,
  maintenanceInterval: 200,
});

// The recurring job, registered at startup (idempotent: an unchanged schedule keeps its next run).
const client = createClient({ store });
await client.recurring.addOrUpdate('cleanup', '*/10 * * * * *', CleanupService, 'purgeExpiredSessions', []);

await worker.start();
console.log(`[worker] ${worker.name} runs queues tenants, default`);
announceReady({ serverName: worker.name });

onShutdown('worker', async () => {
  await worker.stop();
  await store.close();
  deps.db.close();
  await flushTelemetry();
});
