import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, test } from 'node:test';
import { assertNoEngineErrors, killLeftoverChildren, startChild, stopChild } from '../../../pilotlight/test/processes/fixtures/children.ts';
import { testDatabase } from './fixtures/database.ts';
import { enqueueOnlyRecordJob } from './fixtures/jobs.ts';
import { WORKER_PROCESS } from './fixtures/scripts.ts';
import type { WorkerProcessConfig } from './fixtures/worker-process.ts';

after(killLeftoverChildren);

const WORKERS = 3;
const RUN_MS = 4_500;

test(`${WORKERS} worker processes racing to fire a recurring job fire each occurrence exactly once`, { timeout: 60_000 }, async () => {
  const db = await testDatabase();
  const workers = Array.from({ length: WORKERS }, (_, i) =>
    startChild(`worker-${i + 1}`, WORKER_PROCESS, {
      connectionString: db.connectionString,
      schema: db.schema,
      poolSize: 2,
      executionsConnectionString: db.executionsConnectionString,
      executionsTable: db.executionsTable,
      concurrency: 1,
      leaseDuration: 30_000,
      heartbeatInterval: 2_000,
      pollInterval: 1_000,
      // Every worker looks for due occurrences 20 times a second: each occurrence is contended.
      maintenanceInterval: 50,
      serverName: `worker-${i + 1}`,
    } satisfies WorkerProcessConfig),
  );
  await Promise.all(workers.map((worker) => worker.message('ready')));

  // Every second, into a queue no worker takes: the occurrences stay Enqueued, to be counted.
  await db.client.recurring.addOrUpdate('tick', '* * * * * *', enqueueOnlyRecordJob, { n: 0 }, { queue: 'occurrences' });
  await sleep(RUN_MS); // the span of time being sampled, not a wait for a condition
  await db.client.recurring.remove('tick');
  for (const worker of workers) await stopChild(worker);
  for (const worker of workers) assertNoEngineErrors(worker);

  const { rows } = await db.sql.query<{ reason: string; jobs: string }>(
    `SELECT state_reason AS reason, count(*) AS jobs FROM "${db.schema}".jobs WHERE recurring_id = 'tick' GROUP BY state_reason ORDER BY state_reason`,
  );
  assert.ok(rows.length >= 3, `at least 3 occurrences in ${RUN_MS} ms (got ${rows.length})`);
  for (const row of rows) {
    assert.match(row.reason, /^Occurrence \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z of recurring job 'tick'$/);
    assert.equal(row.jobs, '1', `${row.reason}: fired ${row.jobs} times`);
  }
  // Consecutive seconds: none skipped either.
  const seconds = rows.map((row) => Date.parse(row.reason.split(' ')[1]!) / 1000);
  assert.deepEqual(
    seconds,
    seconds.map((_, i) => seconds[0]! + i),
  );
});
